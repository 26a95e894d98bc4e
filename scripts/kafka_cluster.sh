#!/usr/bin/env bash
# A local Apache Kafka cluster of three nodes for the distributed mode's tests and benchmarks: each node is
# broker and controller (KRaft, `process.roles=broker,controller`) in a JVM of its own, the three form a static
# 3-voter controller quorum, and topics default to replication factor 3 with min.insync.replicas=2 (the
# internal topics too). Jars and tools as scripts/services.sh (scripts/kafka/common.sh); 127.0.0.1 only (or
# BORA_SERVICES_HOST, below), free ports, data in a private folder.
#
#   scripts/kafka_cluster.sh start     idempotent; formats the three nodes with one cluster id, starts them and
#                                      waits until a metadata request lists 3 brokers; prints
#                                      `export BORA_KAFKA_CLUSTER=host:port,host:port,host:port`
#   scripts/kafka_cluster.sh env       prints that line while the cluster runs (exit 1 if no node runs)
#   scripts/kafka_cluster.sh stop      stops the nodes `start` started (by pid file), removes the data
#   scripts/kafka_cluster.sh kill N    kill -9 node N (1-3; its node.id is N), keeping its ports and data
#   scripts/kafka_cluster.sh revive N  starts node N again on the same ports with the same data; waits until
#                                      the metadata lists 3 brokers again
#
# The folder is "$BORA_SERVICES_DIR/kafka-cluster" (BORA_SERVICES_DIR as in scripts/services.sh, default
# /tmp/bora-services-$UID). Each node gets -Xmx384m (three JVMs share the machine with everything else);
# BORA_KAFKA_JVM_OPTS replaces the JVM options, BORA_KAFKA_PROPS adds properties (as in scripts/services.sh).
# BORA_SERVICES_HOST (default 127.0.0.1): the address the nodes listen on and advertise, and the export line
# names (as in scripts/services.sh; the same value for every call on one folder).
# A node killed with kill -9 is fenced by the controllers after broker.session.timeout.ms (4 s here, 9 s by
# default): its partitions then get new leaders among the in-sync replicas.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="${BORA_SERVICES_DIR:-/tmp/bora-services-$(id -u)}/kafka-cluster"
# shellcheck source=scripts/kafka/common.sh
source "$here/kafka/common.sh"
nodes="1 2 3"
jvm_opts="-Xmx384m -Xms128m -XX:+UseG1GC"
host="${BORA_SERVICES_HOST:-127.0.0.1}"

log() { echo "kafka-cluster: $*" >&2; }

bootstrap() {
  local n out=""
  for n in $nodes; do out="${out:+$out,}$host:$(cat "$dir/node$n.port")"; done
  echo "$out"
}

# Brokers the cluster's metadata lists that answer an ApiVersions request themselves (a real request through
# the admin client; a killed node stays listed until the controllers fence it, but answers nothing).
brokers_listed() {
  timeout 30 java -Xmx128m -cp "$kafka_libs/*" "$(kafka_log_opts)" \
    org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$(bootstrap)" 2>/dev/null \
    | grep -c '(id: [0-9]* .*isFenced: false) -> ($' || true
}

cluster_ready() { [ "$(brokers_listed)" = 3 ]; }

all_alive() {
  local n
  for n in $nodes; do alive "$dir/node$n.pid" || return 1; done
}

# Six distinct free ports: a broker and a controller listener per node.
pick_ports() {
  local used=" " n p
  for n in $nodes; do
    for kind in port cport; do
      p="$(free_port)"
      while [[ "$used" == *" $p "* ]]; do p="$(free_port)"; done
      used="$used$p "
      echo "$p" >"$dir/node$n.$kind"
    done
  done
}

write_props() {
  local n=$1 voters="" m
  for m in $nodes; do voters="${voters:+$voters,}$m@$host:$(cat "$dir/node$m.cport")"; done
  local port cport
  port="$(cat "$dir/node$n.port")"
  cport="$(cat "$dir/node$n.cport")"
  mkdir -p "$dir/node$n"
  cat >"$dir/node$n/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
listeners=PLAINTEXT://$host:$port,CONTROLLER://$host:$cport
advertised.listeners=PLAINTEXT://$host:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.voters=$voters
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/node$n/data
num.partitions=8
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
unclean.leader.election.enable=false
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.flush.interval.messages=9223372036854775807
PROPS
  local prop
  for prop in ${BORA_KAFKA_PROPS:-}; do echo "$prop" >>"$dir/node$n/server.properties"; done
}

launch() {
  local n=$1
  # shellcheck disable=SC2086  # word splitting of the options is wanted
  nohup java ${BORA_KAFKA_JVM_OPTS:-$jvm_opts} -cp "$kafka_libs/*" \
    "$(kafka_log_opts)" kafka.Kafka "$dir/node$n/server.properties" >>"$dir/node$n.log" 2>&1 &
  echo $! >"$dir/node$n.pid"
}

wait_ready() {
  local n
  for _ in $(seq 1 120); do
    for n in $nodes; do
      if [ -f "$dir/node$n.port" ] && ! alive "$dir/node$n.pid" && [ ! -f "$dir/node$n.killed" ]; then
        log "node $n exited; see $dir/node$n.log"
        exit 1
      fi
    done
    if cluster_ready; then log "3 brokers ready: $(bootstrap)"; return 0; fi
    sleep 0.5
  done
  log "the cluster did not list 3 brokers; see $dir/node*.log"
  exit 1
}

stop_nodes() {
  local n pid pids=""
  for n in $nodes; do
    if alive "$dir/node$n.pid"; then pids="$pids $(cat "$dir/node$n.pid")"; fi
  done
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  # Nodes stopping together lose their quorum and may wait for it: their data goes anyway, so 3 s at most.
  for _ in $(seq 1 30); do
    local running=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && running=1; done
    [ "$running" = 1 ] || break
    sleep 0.1
  done
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  for n in $nodes; do rm -f "$dir/node$n.pid" "$dir/node$n.port" "$dir/node$n.cport" "$dir/node$n.killed"; done
}

start() {
  mkdir -p "$dir"
  if all_alive && cluster_ready; then print_env; return 0; fi
  stop_nodes
  fetch_kafka
  kafka_write_log4j
  pick_ports
  local cluster_id n
  cluster_id="$(kafka_cluster_id)"
  for n in $nodes; do
    rm -rf "$dir/node$n" "$dir/node$n.log"
    write_props "$n"
    kafka_format "$cluster_id" "$dir/node$n/server.properties" >"$dir/node$n.format.log" 2>&1 &
  done
  for n in $nodes; do
    wait -n || { log "kafka storage format failed; see $dir/node*.format.log"; exit 1; }
  done
  for n in $nodes; do launch "$n"; done
  wait_ready
  print_env
}

print_env() {
  local n
  for n in $nodes; do
    if [ -f "$dir/node$n.port" ] && alive "$dir/node$n.pid"; then
      echo "export BORA_KAFKA_CLUSTER=$(bootstrap)"
      return 0
    fi
  done
  return 1
}

node_arg() {
  case "${1:-}" in
    1 | 2 | 3) ;;
    *) log "a node number, 1 to 3"; exit 2 ;;
  esac
  [ -f "$dir/node$1.port" ] || { log "the cluster was never started in $dir"; exit 1; }
}

case "${1:-}" in
  start) start ;;
  env) print_env ;;
  stop)
    stop_nodes
    rm -rf "$dir/node1" "$dir/node2" "$dir/node3"
    ;;
  kill)
    node_arg "${2:-}"
    touch "$dir/node$2.killed"
    if alive "$dir/node$2.pid"; then kill -9 "$(cat "$dir/node$2.pid")" 2>/dev/null || true; fi
    for _ in $(seq 1 100); do alive "$dir/node$2.pid" || break; sleep 0.05; done
    log "node $2 killed (ports and data kept)"
    ;;
  revive)
    node_arg "${2:-}"
    if ! alive "$dir/node$2.pid"; then launch "$2"; fi
    rm -f "$dir/node$2.killed"
    wait_ready
    ;;
  *)
    echo "usage: $0 start|env|stop|kill N|revive N" >&2
    exit 2
    ;;
esac
