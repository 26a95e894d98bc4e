#!/usr/bin/env bash
# Starts, stops and describes the real services the distributed mode and its tests use:
#   - redis-server from Debian, on a free loopback port, data in a private temporary folder;
#   - an Apache Kafka 4.x broker in KRaft combined mode (broker + controller in one JVM), its jars resolved
#     from Maven Central by the machine's Maven into a cache outside the repo (scripts/kafka/pom.xml pins the
#     version), run on the machine's Java, listening on 127.0.0.1 only, data in a private temporary folder
#     (both on another address with BORA_SERVICES_HOST, below).
#
#   scripts/services.sh start   idempotent; waits for real readiness (PING, a metadata request); prints
#                               `export BORA_REDIS=... BORA_KAFKA=...` lines
#   scripts/services.sh env     prints the export lines of running services (exit 1 if not running)
#   scripts/services.sh stop    stops only what `start` started (by pid file), removes the data
#   scripts/services.sh kill redis|kafka     kill -9 one service, keeping its port and data (fault tests)
#   scripts/services.sh revive redis|kafka   start a killed service again on the same port with the same data
#
# BORA_REDIS_AOF=1 starts Redis with appendonly yes and appendfsync everysec (durability tests).
# BORA_SERVICES_DIR (default /tmp/bora-services-$UID) holds pid files, ports, logs and data.
# BORA_SERVICES=redis or kafka limits start to one of them; kafka-cluster (not started by default) adds the
# three brokers of scripts/kafka_cluster.sh (in $BORA_SERVICES_DIR/kafka-cluster; env prints BORA_KAFKA_CLUSTER).
# redis-cluster (not started by default) adds the Redis Cluster of scripts/redis_cluster.sh (in
# $BORA_SERVICES_DIR/redis-cluster; env prints BORA_REDIS_CLUSTER).
# BORA_KAFKA_JVM_OPTS replaces the broker's JVM options (heap and garbage collector, see run_kafka).
# BORA_KAFKA_PROPS adds broker properties (space-separated key=value; a key given twice: the last wins).
# BORA_SERVICES_HOST (default 127.0.0.1) is the address every service binds to, advertises (Kafka) or announces
# (Redis Cluster) and the export lines name: an address of this machine, e.g. the bridge of
# tests/chaos/netns.py, so processes in other network namespaces reach the services too. Other than 127.0.0.1,
# Redis runs with --protected-mode no (it refuses non-loopback clients without a password otherwise). Give the
# same value to every call on one BORA_SERVICES_DIR (env, kill, revive).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="${BORA_SERVICES_DIR:-/tmp/bora-services-$(id -u)}"
# shellcheck source=scripts/kafka/common.sh
source "$here/kafka/common.sh"
which_services="${BORA_SERVICES:-redis kafka}"
host="${BORA_SERVICES_HOST:-127.0.0.1}"

log() { echo "services: $*" >&2; }

redis_ready() { [ "$(redis-cli -h "$host" -p "$1" ping 2>/dev/null)" = "PONG" ]; }

start_redis() {
  mkdir -p "$dir/redis"
  if alive "$dir/redis.pid" && redis_ready "$(cat "$dir/redis.port")"; then return 0; fi
  command -v redis-server >/dev/null || { log "redis-server is missing (scripts/setup.sh installs it)"; exit 1; }
  local port
  port="$(free_port)"
  echo "$port" >"$dir/redis.port"
  run_redis "$port"
}

run_redis() {
  local port=$1 aof=no open=()
  if [ "${BORA_REDIS_AOF:-0}" = 1 ]; then aof=yes; fi
  if [ "$host" != 127.0.0.1 ]; then open=(--protected-mode no); fi
  redis-server --port "$port" --bind "$host" "${open[@]}" --dir "$dir/redis" --save "" --appendonly "$aof" \
    --appendfsync everysec --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    if redis_ready "$port"; then log "redis ready on $host:$port"; return 0; fi
    sleep 0.1
  done
  log "redis did not become ready; see $dir/redis.log"
  exit 1
}

start_kafka() {
  mkdir -p "$dir/kafka"
  if alive "$dir/kafka.pid" && kafka_ready "$host:$(cat "$dir/kafka.port")"; then return 0; fi
  fetch_kafka
  local port cport
  port="$(free_port)"
  cport="$(free_port)"
  while [ "$cport" = "$port" ]; do cport="$(free_port)"; done
  rm -rf "$dir/kafka/data"
  kafka_write_log4j
  cat >"$dir/kafka/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$host:$port,CONTROLLER://$host:$cport
advertised.listeners=PLAINTEXT://$host:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers=$host:$cport
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/kafka/data
num.partitions=8
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.flush.interval.messages=9223372036854775807
PROPS
  local prop
  for prop in ${BORA_KAFKA_PROPS:-}; do echo "$prop" >>"$dir/kafka/server.properties"; done
  kafka_format "$(kafka_cluster_id)" "$dir/kafka/server.properties" --standalone \
    >"$dir/kafka.format.log" 2>&1 || {
    log "kafka storage format failed; see $dir/kafka.format.log"; exit 1; }
  echo "$port" >"$dir/kafka.port"
  run_kafka "$port"
}

# Under the distributed benchmark G1 pauses the broker ~10-20 ms per young collection (about one every 1-2 s),
# which shows in the hop p99. A 5 ms pause goal (-XX:MaxGCPauseMillis=5) gave more, shorter pauses and no
# clear gain on this machine, so the defaults stay; BORA_KAFKA_JVM_OPTS overrides them.
kafka_jvm_opts="-Xmx512m -Xms256m -XX:+UseG1GC"

run_kafka() {
  local port=$1
  # shellcheck disable=SC2086  # word splitting of the options is wanted
  nohup java ${BORA_KAFKA_JVM_OPTS:-$kafka_jvm_opts} -cp "$kafka_libs/*" \
    "$(kafka_log_opts)" kafka.Kafka "$dir/kafka/server.properties" >"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
  for _ in $(seq 1 120); do
    if ! alive "$dir/kafka.pid"; then log "kafka exited; see $dir/kafka.log"; exit 1; fi
    if kafka_ready "$host:$port"; then log "kafka ready on $host:$port"; return 0; fi
    sleep 0.5
  done
  log "kafka did not become ready; see $dir/kafka.log"
  exit 1
}

start_kafka-cluster() { BORA_SERVICES_DIR="$dir" bash "$here/kafka_cluster.sh" start >/dev/null; }

# The Redis Cluster (BORA_SERVICES=redis-cluster): scripts/redis_cluster.sh on a folder of ours.
redis_cluster() { BORA_REDIS_CLUSTER_DIR="$dir/redis-cluster" bash "$here/redis_cluster.sh" "$@"; }
start_redis-cluster() { redis_cluster start >/dev/null; }

print_env() {
  BORA_SERVICES_DIR="$dir" bash "$here/kafka_cluster.sh" env 2>/dev/null || true
  local ok=0
  if [ -f "$dir/redis-cluster/ports" ]; then redis_cluster env || ok=1; fi
  if alive "$dir/redis.pid"; then
    echo "export BORA_REDIS=redis://$host:$(cat "$dir/redis.port")"
  else ok=1; fi
  if alive "$dir/kafka.pid"; then
    echo "export BORA_KAFKA=$host:$(cat "$dir/kafka.port")"
  else ok=1; fi
  return $ok
}

stop_one() {
  local name=$1
  if alive "$dir/$name.pid"; then
    local pid
    pid="$(cat "$dir/$name.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$name stopped"
  fi
  rm -f "$dir/$name.pid" "$dir/$name.port"
}

kill_one() {
  local name=$1
  if alive "$dir/$name.pid"; then kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true; fi
  for _ in $(seq 1 100); do alive "$dir/$name.pid" || break; sleep 0.05; done
  log "$name killed (port and data kept)"
}

revive_one() {
  local name=$1
  [ -f "$dir/$name.port" ] || { log "$name was never started here"; exit 1; }
  if alive "$dir/$name.pid"; then return 0; fi
  "run_$name" "$(cat "$dir/$name.port")"
}

case "${1:-}" in
  kill) kill_one "${2:?service}" ;;
  revive) revive_one "${2:?service}" ;;
  start)
    mkdir -p "$dir"
    for s in $which_services; do "start_$s"; done
    print_env || true
    ;;
  env) print_env ;;
  stop)
    BORA_SERVICES_DIR="$dir" bash "$here/kafka_cluster.sh" stop
    if [ -d "$dir/redis-cluster" ]; then redis_cluster stop; fi
    stop_one kafka
    stop_one redis
    rm -rf "$dir/kafka/data" "$dir/redis"
    ;;
  *)
    echo "usage: $0 start|env|stop|kill SERVICE|revive SERVICE" >&2
    exit 2
    ;;
esac
