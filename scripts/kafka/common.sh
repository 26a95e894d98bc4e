# Shared by scripts/services.sh (one broker) and scripts/kafka_cluster.sh (three brokers): how Kafka's jars are
# fetched and how its tools run. Sourced, not run. The sourcing script defines `log` and sets `dir` (its
# private folder); these helpers write log4j2.properties into "$dir/kafka" and read nothing else of it.
#
#   free_port                      a free TCP port on $BORA_SERVICES_HOST (default 127.0.0.1)
#   alive PIDFILE                  the process of PIDFILE runs
#   fetch_kafka                    resolves the broker jars from Maven Central into $kafka_libs (once)
#   kafka_write_log4j              writes "$dir/kafka/log4j2.properties" (WARN and above, to stderr)
#   kafka_log_opts                 the JVM options that make a Kafka JVM log so
#   kafka_cli CLASS ARGS...        runs a Kafka tool class with a small heap
#   kafka_ready BOOTSTRAP          a real metadata request (list topics) succeeds
#   kafka_cluster_id               a new random cluster id
#   kafka_format ID PROPS ARGS...  formats a node's storage (kafka-storage.sh format) for cluster ID
kafka_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${BORA_CACHE_DIR:-$HOME/.cache/bora}"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$kafka_here/pom.xml")"
kafka_libs="$cache/kafka-$kafka_version/libs"

free_port() {
  python3 - "${BORA_SERVICES_HOST:-127.0.0.1}" <<'PY'
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])
s.close()
PY
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

fetch_kafka() {
  if [ -n "$(ls "$kafka_libs"/kafka_2.13-*.jar 2>/dev/null)" ]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn is missing (scripts/setup.sh installs it)"; exit 1; }
  log "resolving Kafka $kafka_version jars from Maven Central into $kafka_libs"
  mkdir -p "$kafka_libs"
  mvn -q -B -f "$kafka_here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$kafka_libs" >&2
}

# Kafka 4 logs through log4j2 (a log4j 1 file is ignored, and without a file log4j2 complains on stdout).
kafka_write_log4j() {
  mkdir -p "$dir/kafka"
  cat >"$dir/kafka/log4j2.properties" <<PROPS
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
PROPS
}

kafka_log_opts() { echo "-Dlog4j2.configurationFile=$dir/kafka/log4j2.properties"; }

kafka_cli() {
  java -Xmx128m -cp "$kafka_libs/*" "$(kafka_log_opts)" "$@"
}

kafka_ready() {
  # A real metadata request: list topics through the admin client.
  timeout 30 java -Xmx128m -cp "$kafka_libs/*" "$(kafka_log_opts)" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$1" --list >/dev/null 2>&1
}

# What `kafka-storage.sh random-uuid` prints (Kafka's Uuid: 16 random bytes, URL-safe base64 without padding,
# never starting with '-'), without starting a JVM.
kafka_cluster_id() {
  python3 - <<'PY'
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not s.startswith("-"):
        print(s)
        break
PY
}

kafka_format() {
  local cluster_id=$1 props=$2
  shift 2
  kafka_cli kafka.tools.StorageTool format -t "$cluster_id" -c "$props" "$@"
}
