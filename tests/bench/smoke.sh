#!/usr/bin/env bash
# tests/bench/smoke.sh CORRAL_SERVER CORRAL_BENCH
#
# Starts corral-server on a free port of 127.0.0.1 with a temporary dataDir,
# runs corral-bench's mixed workload for 2 s and lock, create-seq, election
# and membership briefly, and checks that each run succeeds, measures
# operations, reports no errors and writes its JSON; then that a bad option
# exits 2. The server and the temp dir go on exit.
set -euo pipefail
server="$1" bench="$2"
tmp="$(mktemp -d /tmp/corral-bench-smoke.XXXXXX)"
pid=""
finish() {
  if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap finish EXIT
fail() { echo "bench smoke: $*" >&2; [[ -f "$tmp/server.log" ]] && tail -20 "$tmp/server.log" >&2; exit 1; }

for _ in $(seq 100); do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
mkdir -p "$tmp/data"
cat >"$tmp/zoo.cfg" <<CFG
tickTime=2000
dataDir=$tmp/data
clientPort=$port
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
CFG
"$server" "$tmp/zoo.cfg" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  [[ "$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf ruok >&3; cat <&3' _ "$port" 2>/dev/null)" == imok ]] && break
  kill -0 "$pid" 2>/dev/null || fail "corral-server exited"
  sleep 0.05
done

run() {  # name args...
  local name="$1"; shift
  timeout 60 "$bench" "$@" --connect "127.0.0.1:$port" --root "/smoke-$name" --json "$tmp/$name.json" \
    >"$tmp/$name.out" 2>&1 || { cat "$tmp/$name.out" >&2; fail "$name: corral-bench failed"; }
  grep -q '"ops": [1-9]' "$tmp/$name.json" || { cat "$tmp/$name.out" >&2; fail "$name: no operations measured"; }
  grep -q '"errors": {}' "$tmp/$name.json" || { cat "$tmp/$name.out" >&2; fail "$name: errors reported"; }
  grep -q '^throughput: ' "$tmp/$name.out" || fail "$name: no throughput line"
  echo "bench smoke: $name: $(grep '^throughput: ' "$tmp/$name.out")"
}

run mixed mixed --duration 2s --warmup 0.2s --sessions 2 --inflight 2 --read-ratio 0.8
grep -q '"get": {"count": [1-9]' "$tmp/mixed.json" || fail "mixed: no get latencies"
grep -q '"set": {"count": [1-9]' "$tmp/mixed.json" || fail "mixed: no set latencies"
run create create-seq --duration 0.5s --warmup 0.1s --sessions 2
run lock lock --duration 0.5s --warmup 0.1s --sessions 2 --contenders 3
run election election --rounds 2 --warmup 0.1s --sessions 2
run membership membership --duration 0.5s --warmup 0.1s --sessions 2
for extra in barrier queue rwlock; do
  if "$bench" --list | grep -qx "$extra"; then
    run "$extra" "$extra" --duration 0.5s --warmup 0.1s --sessions 2
  fi
done

set +e
"$bench" mixed --connect "127.0.0.1:$port" --sessions nope >"$tmp/bad.out" 2>&1
status=$?
set -e
[[ $status == 2 ]] || fail "a bad option exited $status, not 2"
[[ $(wc -l <"$tmp/bad.out") == 1 ]] || fail "a bad option printed more than one line"
echo "bench smoke: ok"
