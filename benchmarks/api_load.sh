#!/usr/bin/env bash
# Load benchmark of the REST API with wrk (Debian's `wrk`): POST /v2/executions and POST /v2/events against a
# running `bora serve`, embedded (default) or distributed (--distributed: needs BORA_KAFKA and BORA_REDIS, e.g.
# `eval "$(scripts/services.sh start)"`). Prints wrk's requests/s and latency percentiles for each endpoint.
#
#   benchmarks/api_load.sh [--distributed] [--duration 15s] [--connections 32] [--threads 2]
#
# Figures: benchmarks/README.md ("REST API load").
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BORA="${BORA:-$REPO/build/cli/bora}"
MODE=embedded DURATION=15s CONNECTIONS=32 THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --distributed) MODE=distributed ;;
    --duration) DURATION="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null || { echo "wrk is missing: scripts/setup.sh installs it" >&2; exit 2; }

WORK="$(mktemp -d)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

ARGS=(serve --port 0 --port-file "$WORK/port" --log-level warn)
if [ "$MODE" = distributed ]; then
  : "${BORA_KAFKA:?distributed mode needs BORA_KAFKA (eval \"\$(scripts/services.sh start)\")}"
  : "${BORA_REDIS:?distributed mode needs BORA_REDIS}"
  ARGS+=(--kafka "$BORA_KAFKA" --redis "$BORA_REDIS" --prefix "bench$RANDOM$RANDOM." --partitions 8)
else
  ARGS+=(--data-dir "$WORK/data")  # embedded, on disk (bora serve's default)
fi
"$BORA" "${ARGS[@]}" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { echo "bora serve did not start:"; cat "$WORK/serve.log"; exit 1; }
URL="http://127.0.0.1:$(cat "$WORK/port")"

cat >"$WORK/wf.yaml" <<'YAML'
version: '2.0'
bench_noop:
  tasks:
    t1:
      action: std.noop
YAML
curl -sf -X POST -H 'Content-Type: text/plain' --data-binary @"$WORK/wf.yaml" "$URL/v2/workflows" >/dev/null
# An event trigger so each accepted event also starts an execution.
curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"name": "bench_trigger", "workflow_id": "bench_noop", "type": "bench.event", "workflow_input": {}}' \
  "$URL/v2/event_triggers" >/dev/null

cat >"$WORK/executions.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"workflow_name": "bench_noop", "input": "{}"}'
LUA
cat >"$WORK/events.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"specversion": "1.0", "id": "%d-%d", "source": "bench/%d", "type": "bench.event", "data": {"n": %d}}',
    math.random(1, 1000000000), n, n % 16, n)
  return wrk.format("POST", "/v2/events", {["Content-Type"] = "application/cloudevents+json"}, body)
end
LUA

echo "mode: $MODE, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, server $URL"
for endpoint in executions events; do
  echo "== POST /v2/$endpoint"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/$endpoint.lua" "$URL/v2/$endpoint" |
    grep -E "Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx|Socket errors"
done
