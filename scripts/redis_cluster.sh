#!/usr/bin/env bash
# A local Redis Cluster for tests and benchmarks: six redis-server (--cluster-enabled yes, 3 masters + 3
# replicas, --cluster-node-timeout 2000) on free loopback ports (BORA_SERVICES_HOST below), data in a private
# folder, created with `redis-cli --cluster create --cluster-replicas 1`.
#
#   scripts/redis_cluster.sh start         idempotent; waits until every node says cluster_state:ok, every
#                                          slot is covered and every master has its replica online; prints
#                                          `export BORA_REDIS_CLUSTER=redis+cluster://...`
#   scripts/redis_cluster.sh env           prints that line for a running cluster (exit 1 if not running)
#   scripts/redis_cluster.sh stop          stops the nodes `start` started (by pid file), removes the data
#   scripts/redis_cluster.sh masters       prints the masters' ports, one a line (slot order)
#   scripts/redis_cluster.sh kill PORT     kill -9 one node (its replica takes over after the node timeout)
#   scripts/redis_cluster.sh kill-master N kill -9 the N-th master (1-3, slot order); prints its port
#   scripts/redis_cluster.sh revive PORT   starts a killed node again (it rejoins, as a replica)
#   scripts/redis_cluster.sh wait-ok       waits until the live nodes say cluster_state:ok, every slot has a
#                                          live master (after a kill: the failover is done) and, when all six
#                                          run, every master has a synced replica (after a revive)
#
# BORA_REDIS_CLUSTER_DIR (default /tmp/bora-redis-cluster-$UID) holds pid files, ports, logs and data.
# BORA_SERVICES_HOST (default 127.0.0.1): the address the nodes bind to and announce, and the export line names
# (as in scripts/services.sh: other than 127.0.0.1 with --protected-mode no; the same value for every call).
set -euo pipefail

dir="${BORA_REDIS_CLUSTER_DIR:-/tmp/bora-redis-cluster-$(id -u)}"
host="${BORA_SERVICES_HOST:-127.0.0.1}"
log() { echo "redis-cluster: $*" >&2; }

# Two free loopback ports (the node's and its cluster bus's).
free_ports() {
  python3 - "$1" "$host" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind((sys.argv[2], 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

cli() { local port=$1; shift; redis-cli -h "$host" -p "$port" "$@" 2>/dev/null; }
alive_port() { local f="$dir/nodes/$1/pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
ports() { [ -f "$dir/ports" ] && cat "$dir/ports"; }
live_ports() { local p; for p in $(ports); do if alive_port "$p"; then echo "$p"; fi; done; }

run_node() {
  local port=$1 bus open=()
  bus="$(cat "$dir/nodes/$port/bus")"
  if [ "$host" != 127.0.0.1 ]; then open=(--protected-mode no --cluster-announce-ip "$host"); fi
  redis-server --port "$port" --cluster-port "$bus" --bind "$host" "${open[@]}" --cluster-enabled yes \
    --cluster-config-file "$dir/nodes/$port/nodes.conf" --cluster-node-timeout 2000 \
    --dir "$dir/nodes/$port" --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/nodes/$port/pid" --logfile "$dir/nodes/$port/log" >/dev/null 9>&-  # not our lock
  for _ in $(seq 1 100); do
    if [ "$(cli "$port" ping)" = PONG ]; then return 0; fi
    sleep 0.1
  done
  log "node $port did not start; see $dir/nodes/$port/log"
  exit 1
}

# True when every live node says cluster_state:ok with every slot covered, every live node names the same
# masters, and each of them is alive.
healthy() {
  local p m
  for p in $(live_ports); do
    cli "$p" cluster info | grep -q '^cluster_state:ok' || return 1
    cli "$p" cluster info | grep -q '^cluster_slots_ok:16384' || return 1
  done
  p="$(live_ports | head -1)"
  [ -n "$(master_ports "$p")" ] || return 1
  for m in $(master_ports "$p"); do alive_port "$m" || return 1; done
  # Every live node sees the same masters (a node back from a kill agrees with the others).
  local view
  view="$(master_ports "$p" | tr '\n' ' ')"
  for m in $(live_ports); do [ "$(master_ports "$m" | tr '\n' ' ')" = "$view" ] || return 1; done
}

# The port of each master that holds slots as node $1 sees it (failed ones too), in slot order.
master_ports() {
  cli "$1" cluster nodes | awk '$3 ~ /master/ && NF >= 9 { split($2, a, "[:@]"); print $9, a[2] }' |
    sort -n -t- -k1 | awk '{ print $2 }'
}

wait_ok() {
  local deadline=$((SECONDS + 90))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if healthy && replicas_synced; then return 0; fi
    sleep 0.1
  done
  log "cluster not ok (or a live master without a synced replica) after 90 s; logs in $dir/nodes/*/log"
  exit 1
}

# Every master has a replica that finished its first sync, when there are replicas alive to have (after a
# kill without revive, one master has none).
replicas_synced() {
  local m
  [ "$(live_ports | wc -l)" = 6 ] || return 0
  for m in $(master_ports "$(live_ports | head -1)"); do
    cli "$m" info replication | grep -q '^slave0:.*state=online' || return 1
  done
}

print_env() {
  local p list=""
  [ -n "$(live_ports)" ] || return 1
  for p in $(live_ports); do list="$list${list:+,}$host:$p"; done
  echo "export BORA_REDIS_CLUSTER=redis+cluster://$list"
}

start() {
  if [ -f "$dir/ports" ] && [ "$(live_ports | wc -l)" = 6 ] && healthy; then print_env; return 0; fi
  stop_all
  command -v redis-server >/dev/null || { log "redis-server is missing (scripts/setup.sh installs it)"; exit 1; }
  mkdir -p "$dir/nodes"
  local all p bus addrs=""
  read -r -a all <<<"$(free_ports 12)"
  : >"$dir/ports"
  for i in 0 1 2 3 4 5; do
    p=${all[$((2 * i))]}
    bus=${all[$((2 * i + 1))]}
    mkdir -p "$dir/nodes/$p"
    echo "$bus" >"$dir/nodes/$p/bus"
    echo "$p" >>"$dir/ports"
    run_node "$p"
    addrs="$addrs $host:$p"
  done
  # shellcheck disable=SC2086  # one argument per node
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 || {
    log "cluster create failed; see $dir/create.log"; exit 1; }
  wait_ok
  log "cluster ready: masters $(master_ports "$(live_ports | head -1)" | tr '\n' ' ')"
  print_env
}

kill_port() {
  local port=$1
  alive_port "$port" || { log "node $port is not running"; return 0; }
  kill -9 "$(cat "$dir/nodes/$port/pid")"
  for _ in $(seq 1 100); do alive_port "$port" || break; sleep 0.05; done
  log "node $port killed"
}

stop_all() {
  local p pids=""
  for p in $(ports); do
    if alive_port "$p"; then pids="$pids $(cat "$dir/nodes/$p/pid")"; fi
  done
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086  # one argument per pid
    kill -9 $pids 2>/dev/null || true  # nothing to keep: the data goes too
    for p in $pids; do
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
  fi
  rm -rf "$dir"
}

# One start or stop at a time per folder (two test binaries run by hand may both find no cluster).
lock() { mkdir -p "$(dirname "$dir")"; exec 9>"$dir.lock"; flock 9; }

case "${1:-}" in
  start) lock; start ;;
  env) print_env ;;
  stop) lock; stop_all; log "stopped" ;;
  masters) master_ports "$(live_ports | head -1)" ;;
  kill) kill_port "${2:?port}" ;;
  kill-master)
    m="$(master_ports "$(live_ports | head -1)" | sed -n "${2:?N}p")"
    [ -n "$m" ] || { log "no master $2"; exit 1; }
    kill_port "$m"
    echo "$m"
    ;;
  revive) alive_port "${2:?port}" || run_node "$2" ;;
  wait-ok) wait_ok ;;
  *) echo "usage: $0 start|env|stop|masters|kill PORT|kill-master N|revive PORT|wait-ok" >&2; exit 2 ;;
esac
