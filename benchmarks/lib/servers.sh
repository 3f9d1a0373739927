# Shared by the benchmark drivers: start and stop corral-server and Apache
# ZooKeeper 3.8 (Debian's package) on 127.0.0.1, find free ports, ask
# four-letter words, and clean up every process on exit.
#
# The sourcing script sets: corral_server (path of the binary), java_bin and
# zk_jar (when ZooKeeper is used), tmp (a scratch directory it owns), and
# pids=() (every server started is added; `cleanup` stops them all).
# shellcheck shell=bash

now_ns() { date +%s%N; }

log() { echo "run: $*" >&2; }

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    if alive "$pid"; then
      pkill -TERM -P "$pid" 2>/dev/null || true  # corral's snapshot child, if any
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then echo "run: kept $tmp" >&2; else rm -rf "$tmp"; fi
}

# A free TCP port on 127.0.0.1 (nobody answers a connect to it).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "run: no free port" >&2; exit 1
}

# A four-letter word's answer.
four() {
  timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf %s "$2" >&3; cat <&3' _ "$1" "$2" 2>/dev/null || true
}

# True while `pid` runs (a zombie that has exited does not count).
alive() { [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# Stops `pid` (SIGTERM, then SIGKILL after `secs`); sets stop_ms to the time it took.
stop_server() {
  local pid="$1" secs="$2" t0
  t0=$(now_ns)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((secs * 20))); do alive "$pid" || break; sleep 0.05; done
  if alive "$pid"; then
    log "pid $pid did not stop within ${secs}s of SIGTERM; killing it"
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  stop_ms=$(( ($(now_ns) - t0) / 1000000 ))
}

write_cfg() {  # dir port
  mkdir -p "$1/data"
  cat >"$1/zoo.cfg" <<EOF
tickTime=2000
dataDir=$1/data
clientPort=$2
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.enableServer=false
EOF
}

zk_classpath() {  # conf dir first, as zkEnv.sh does; log4j binding so the server logs
  echo "$1:$zk_jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
}

# Starts a server in the background; sets `server_pid`.
start_server() {  # kind dir heap
  local kind="$1" dir="$2" heap="$3"
  if [[ "$kind" == corral ]]; then
    "$corral_server" "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
    server_pid=$!
  else
    local xmx=()
    [[ "$heap" != default ]] && xmx=("-Xmx$heap")
    # zkServer.sh start-foreground with Debian's zkEnv.sh (no JVMFLAGS) and
    # JMXDISABLE=true: the JVM's local JMX agent would listen on a wildcard
    # port, and this benchmark listens on 127.0.0.1 only.
    (cd "$dir" && exec "$java_bin" "-Dzookeeper.log.dir=$dir" "-Dzookeeper.log.file=zookeeper.log" \
      -Dzookeeper.root.logger=INFO,CONSOLE \
      -XX:+HeapDumpOnOutOfMemoryError "-XX:OnOutOfMemoryError=kill -9 %p" \
      -cp "$(zk_classpath "$dir/conf")" "${xmx[@]}" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg") >>"$dir/server.log" 2>&1 &
    server_pid=$!
  fi
  pids+=("$server_pid")
}
