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

# ---- ensembles (benchmarks/compare) ------------------------------------------
# An ensemble of `n` servers of one kind lives in `base` (node i in base/i,
# i = 1..n, each with zoo.cfg, data/myid, server.log and a pid file); n = 1
# is a standalone server (write_cfg's zoo.cfg). Both kinds read the same
# zoo.cfg: tickTime 2000, initLimit 10, syncLimit 5, fsync on (the default).
# Files per node record its client port (port) and pid (pid), so hooks run by
# other processes (corral-bench's --kill-hook) can find them.

# ZooKeeper's JVM heap in the ensembles (upstream zkEnv.sh's default).
ensemble_zk_heap=${ensemble_zk_heap:-1000m}

write_ensemble_cfgs() {  # base n: picks the ports and writes every node's zoo.cfg
  local base="$1" n="$2" i
  local -a cp qp ep
  for i in $(seq "$n"); do cp[i]=$(free_port); qp[i]=$(free_port); ep[i]=$(free_port); done
  for i in $(seq "$n"); do
    local dir="$base/$i"
    if ((n == 1)); then
      write_cfg "$dir" "${cp[i]}"
    else
      mkdir -p "$dir/data"
      echo "$i" >"$dir/data/myid"
      {
        echo "tickTime=2000"
        echo "initLimit=10"
        echo "syncLimit=5"
        echo "dataDir=$dir/data"
        echo "clientPort=${cp[i]}"
        echo "clientPortAddress=127.0.0.1"
        echo "4lw.commands.whitelist=*"
        echo "admin.enableServer=false"
        local j
        for j in $(seq "$n"); do echo "server.$j=127.0.0.1:${qp[j]}:${ep[j]}"; done
      } >"$dir/zoo.cfg"
    fi
    mkdir -p "$dir/conf"
    [[ -f /etc/zookeeper/conf_example/log4j.properties ]] && cp /etc/zookeeper/conf_example/log4j.properties "$dir/conf/"
    echo "${cp[i]}" >"$dir/port"
  done
}

# Starts node i of the ensemble in base (again after a kill: same ports and dataDir).
# Disowned: a node killed by the kill hook is not reported by bash as "Killed"
# (alive() counts the zombie as gone; it is reaped when the script exits).
launch_node() {  # kind base i
  start_server "$1" "$2/$3" "$ensemble_zk_heap"
  disown "$server_pid"
  echo "$server_pid" >"$2/$3/pid"
}

# The mode a node's srvr names (leader, follower, standalone) or "".
node_mode() {  # base i
  four "$(cat "$1/$2/port")" srvr | sed -n 's/^Mode: //p'
}

# Waits until every running node of the ensemble serves and one leads (or is
# standalone); exits the script with the logs' ends after `secs`.
wait_ensemble() {  # base n secs
  local base="$1" n="$2" secs="$3" i ok lead
  for _ in $(seq $((secs * 10))); do
    ok=1; lead=0
    for i in $(seq "$n"); do
      local pid m
      pid=$(cat "$base/$i/pid")
      alive "$pid" || continue
      m=$(node_mode "$base" "$i")
      [[ -z "$m" ]] && ok=0
      [[ "$m" == leader || "$m" == standalone ]] && lead=1
    done
    ((ok && lead)) && return 0
    sleep 0.1
  done
  log "ensemble in $base did not serve within ${secs}s"
  for i in $(seq "$n"); do log "node $i:"; tail -5 "$base/$i/server.log" >&2; done
  exit 1
}

start_ensemble() {  # kind base n: sets ens_connect
  local kind="$1" base="$2" n="$3" i
  write_ensemble_cfgs "$base" "$n"
  for i in $(seq "$n"); do launch_node "$kind" "$base" "$i"; done
  wait_ensemble "$base" "$n" 120
  ens_connect=$(ensemble_connect "$base" "$n")
}

ensemble_connect() {  # base n
  local i out=""
  for i in $(seq "$2"); do out+="${out:+,}127.0.0.1:$(cat "$1/$i/port")"; done
  echo "$out"
}

ensemble_pids() {  # base n: the pids of the running nodes
  local i pid
  for i in $(seq "$2"); do
    pid=$(cat "$1/$i/pid")
    alive "$pid" && echo "$pid"
  done
}

# Sum over the ensemble's running nodes: CPU time in ms (process and reaped
# children), VmRSS in kB.
ensemble_cpu_ms() {  # base n
  local t pid sum=0
  t=$(getconf CLK_TCK)
  for pid in $(ensemble_pids "$1" "$2"); do
    sum=$((sum + $(awk -v t="$t" '{print int(($14 + $15 + $16 + $17) * 1000 / t)}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}
ensemble_rss_kb() {  # base n
  local pid sum=0
  for pid in $(ensemble_pids "$1" "$2"); do
    sum=$((sum + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

# Stops every node of an ensemble: SIGTERM to all at once, SIGKILL to those
# still running after `secs` (a benchmark's servers are thrown away).
stop_ensemble() {  # base n [secs]
  local i pid running=()
  for i in $(seq "$2"); do
    pid=$(cat "$1/$i/pid")
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; running+=("$pid"); fi
  done
  for _ in $(seq $((${3:-10} * 20))); do
    local left=0
    for pid in "${running[@]}"; do alive "$pid" && left=1; done
    ((left)) || break
    sleep 0.05
  done
  for pid in "${running[@]}"; do
    if alive "$pid"; then
      log "pid $pid ($1) did not stop within ${3:-10}s of SIGTERM; killing it"
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  return 0
}

# A script that kill -9s the ensemble's current leader and records which node
# it was in base/killed: corral-bench's --kill-hook. Written to `file`.
write_kill_leader_hook() {  # file base n
  cat >"$1" <<HOOK
#!/usr/bin/env bash
# kill -9 of the leader of the ensemble in $2 (written by benchmarks/lib/servers.sh)
for i in \$(seq $3); do
  port=\$(cat "$2/\$i/port")
  mode=\$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/\$1"; printf srvr >&3; cat <&3' _ "\$port" 2>/dev/null | sed -n 's/^Mode: //p')
  if [[ "\$mode" == leader ]]; then
    echo "\$i" >"$2/killed"
    kill -9 "\$(cat "$2/\$i/pid")"
    exit 0
  fi
done
echo "kill hook: no leader in $2" >&2
exit 1
HOOK
  chmod +x "$1"
}

# Starts again the node the kill hook killed (if any) and waits for the ensemble.
restore_killed() {  # kind base n
  local kind="$1" base="$2" n="$3" i pid
  [[ -f "$base/killed" ]] || return 0
  i=$(cat "$base/killed")
  rm -f "$base/killed"
  pid=$(cat "$base/$i/pid")
  for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
  wait "$pid" 2>/dev/null || true
  launch_node "$kind" "$base" "$i"
  wait_ensemble "$base" "$n" 120
}

# A script that runs restore_killed for the ensemble in `base`: corral-bench's
# --restore-hook (servers it starts are found by the pid files on cleanup).
write_restore_hook() {  # file kind base n
  cat >"$1" <<HOOK
#!/usr/bin/env bash
# Restarts the node the kill hook killed in $3 and waits for the ensemble
# (written by benchmarks/lib/servers.sh).
set -euo pipefail
corral_server="$corral_server" java_bin="$java_bin" zk_jar="$zk_jar" tmp="$3" pids=()
ensemble_zk_heap="$ensemble_zk_heap"
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/servers.sh"
restore_killed "$2" "$3" "$4"
HOOK
  chmod +x "$1"
}
