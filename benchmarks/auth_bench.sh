#!/usr/bin/env bash
# Requests per second of the REST API under each authentication mode, same run, interleaved: three
# `bora serve --in-memory` (--auth none, --auth token with --auth-token-file, --auth keystone against the real
# Keystone of scripts/openstack.sh, its cache warm) loaded in turn by wrk (Debian's `wrk`) on GET /v2/workflows
# and GET /v2/executions?limit=1, round after round with the order of the modes rotated, then the median per
# mode, of requests/s and of the server's CPU time per request (user + system of the `bora serve` process,
# /proc/PID/stat, over the requests wrk counted: less swayed by the other processes of a shared machine). Also the cache-miss latency: the first request with a new Keystone token (Bora asks Keystone) against
# the second one (cache hit), and a forged token's first request.
#
#   benchmarks/auth_bench.sh [--rounds 3] [--duration 5s] [--connections 8] [--threads 1] [--misses 5]
#
# Uses the running services of scripts/openstack.sh (BORA_OPENSTACK_DIR, default /tmp/bora-openstack-$UID), or
# starts them and stops them at the end. Figures: benchmarks/README.md ("Keystone authentication").
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BORA="${BORA:-$REPO/build/cli/bora}"
ROUNDS=3 DURATION=5s CONNECTIONS=8 THREADS=1 MISSES=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    --misses) MISSES="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null || { echo "wrk is missing: scripts/setup.sh installs it" >&2; exit 2; }

WORK="$(mktemp -d)"
SERVERS=()
STARTED_OPENSTACK=0
cleanup() {
  local pid
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [ "$STARTED_OPENSTACK" = 1 ] && bash "$REPO/scripts/openstack.sh" stop
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! bash "$REPO/scripts/openstack.sh" env >"$WORK/os.env" 2>/dev/null; then
  echo "starting Keystone and Glance (scripts/openstack.sh start)..." >&2
  STARTED_OPENSTACK=1
  bash "$REPO/scripts/openstack.sh" start >"$WORK/os.env"
fi
# shellcheck disable=SC1091
source "$WORK/os.env"

# keystone_token USER PASSWORD PROJECT: a new token (POST /v3/auth/tokens).
keystone_token() {
  curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"auth\": {\"identity\": {
    \"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"$1\", \"domain\": {\"name\": \"Default\"},
    \"password\": \"$2\"}}}, \"scope\": {\"project\": {\"name\": \"$3\", \"domain\": {\"name\": \"Default\"}}}}}" \
    "$OS_AUTH_URL/auth/tokens" | awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }'
}

# serve MODE ARGS...: starts `bora serve --in-memory` on a free port; sets URL_<MODE> and PID_<MODE>.
serve() {
  local mode=$1
  shift
  "$BORA" serve --in-memory --port 0 --port-file "$WORK/$mode.port" --log-level warn "$@" \
    >"$WORK/$mode.log" 2>&1 &
  SERVERS+=($!)
  printf -v "PID_$mode" '%s' $!
  for _ in $(seq 1 600); do [ -s "$WORK/$mode.port" ] && break; sleep 0.1; done
  [ -s "$WORK/$mode.port" ] || { echo "bora serve --auth $mode did not start:"; cat "$WORK/$mode.log"; exit 1; }
  printf -v "URL_$mode" 'http://127.0.0.1:%s' "$(cat "$WORK/$mode.port")"
}

(umask 077; head -c 24 /dev/urandom | base64 >"$WORK/static-token"; printf %s "$BORA_OS_SERVICE_PASSWORD" \
  >"$WORK/service-password")
serve none --auth none
serve token --auth token --auth-token-file "$WORK/static-token"
serve keystone --auth keystone --keystone-url "$OS_AUTH_URL" --keystone-service-user "$BORA_OS_SERVICE_USER" \
  --keystone-service-project "$BORA_OS_SERVICE_PROJECT" --keystone-service-password-file "$WORK/service-password"

declare -A HEADER
HEADER[none]="X-Bench: none"
HEADER[token]="X-Auth-Token: $(cat "$WORK/static-token")"
HEADER[keystone]="X-Auth-Token: $(keystone_token "$BORA_OS_ALPHA_USER" "$BORA_OS_ALPHA_PASSWORD" alpha)"
[ "${HEADER[keystone]}" != "X-Auth-Token: " ] || { echo "no token from Keystone at $OS_AUTH_URL" >&2; exit 1; }

cat >"$WORK/wf.yaml" <<'YAML'
version: '2.0'
bench_noop:
  tasks:
    t1:
      action: std.noop
YAML
MODES=(none token keystone)
for mode in "${MODES[@]}"; do
  url="URL_$mode"
  # One workflow and one execution in each, and the Keystone token validated once (the cache is warm).
  curl -sf -X POST -H "${HEADER[$mode]}" -H 'Content-Type: text/plain' --data-binary @"$WORK/wf.yaml" \
    "${!url}/v2/workflows" >/dev/null
  curl -sf -X POST -H "${HEADER[$mode]}" -H 'Content-Type: application/json' \
    -d '{"workflow_name": "bench_noop", "input": "{}"}' "${!url}/v2/executions" >/dev/null
done

echo "auth_bench: $(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d$DURATION per mode and path, $ROUNDS rounds"
echo "load before: $(uptime)"
PATHS=("/v2/workflows" "/v2/executions?limit=1")
# cpu_ticks PID: user + system CPU time of the process so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
declare -A RESULTS CPU  # "mode path" -> requests/s, CPU µs per request of each round, space-separated
for round in $(seq 1 "$ROUNDS"); do
  # Rotate the order each round so no mode always runs first or last.
  order=("${MODES[@]:$(((round - 1) % 3))}" "${MODES[@]:0:$(((round - 1) % 3))}")
  for mode in "${order[@]}"; do
    url="URL_$mode" pid="PID_$mode"
    for path in "${PATHS[@]}"; do
      ticks="$(cpu_ticks "${!pid}")"
      out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "${HEADER[$mode]}" "${!url}$path")"
      rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
      p50="$(awk '$1 == "50%" { print $2 }' <<<"$out")"
      p99="$(awk '$1 == "99%" { print $2 }' <<<"$out")"
      non2xx="$(awk '/Non-2xx/ { print $NF }' <<<"$out")"
      [ -z "$non2xx" ] || { echo "$mode $path: $non2xx answers were not 2xx" >&2; exit 1; }
      ticks=$(($(cpu_ticks "${!pid}") - ticks))
      requests="$(awk '/ requests in / { print $1 }' <<<"$out")"
      cpu="$(awk -v t="$ticks" -v u="$TICK_US" -v n="$requests" 'BEGIN { printf "%.1f", t * u / n }')"
      RESULTS["$mode $path"]+="$rps "
      CPU["$mode $path"]+="$cpu "
      printf 'round %d  %-8s %-24s %8s req/s  p50 %-8s p99 %-8s  server CPU %5s us/request\n' "$round" \
        "$mode" "$path" "$rps" "$p50" "$p99" "$cpu"
    done
  done
done
echo "load after: $(uptime)"
# median VALUES...: the median of the numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "median over $ROUNDS rounds (each round in parentheses): requests/s | server CPU us per request"
for path in "${PATHS[@]}"; do
  for mode in "${MODES[@]}"; do
    # shellcheck disable=SC2086
    printf '  %-24s %-8s %8s (%s) | %5s (%s)\n' "$path" "$mode" "$(median ${RESULTS["$mode $path"]})" \
      "${RESULTS["$mode $path"]% }" "$(median ${CPU["$mode $path"]})" "${CPU["$mode $path"]% }"
  done
done

# time_of URL HEADER: seconds curl took for one GET (a new connection each time, as the first request of a
# client would be).
time_of() { curl -s -o /dev/null -w '%{time_total}' -H "$2" "$1"; }
SERVICE_TOKEN="$(keystone_token "$BORA_OS_SERVICE_USER" "$BORA_OS_SERVICE_PASSWORD" "$BORA_OS_SERVICE_PROJECT")"
echo "cache misses (--auth keystone, GET /v2/workflows, a new connection per request): first request with a"
echo "new token (Bora asks Keystone) | the same token again (cache hit) | the static token (--auth token) |"
echo "Keystone alone validating another new token (GET /v3/auth/tokens with the service token, as Bora asks):"
for i in $(seq 1 "$MISSES"); do
  fresh="X-Auth-Token: $(keystone_token "$BORA_OS_BETA_USER" "$BORA_OS_BETA_PASSWORD" beta)"
  other="X-Subject-Token: $(keystone_token "$BORA_OS_BETA_USER" "$BORA_OS_BETA_PASSWORD" beta)"
  miss="$(time_of "$URL_keystone/v2/workflows" "$fresh")"
  hit="$(time_of "$URL_keystone/v2/workflows" "$fresh")"
  static="$(time_of "$URL_token/v2/workflows" "${HEADER[token]}")"
  direct="$(curl -s -o /dev/null -w '%{time_total}' -H "X-Auth-Token: $SERVICE_TOKEN" -H "$other" \
    "$OS_AUTH_URL/auth/tokens")"
  awk -v i="$i" -v m="$miss" -v h="$hit" -v s="$static" -v d="$direct" 'BEGIN {
    printf "  token %d: miss %6.1f ms | hit %5.1f ms | static %5.1f ms | Keystone alone %6.1f ms\n", i,
      m * 1000, h * 1000, s * 1000, d * 1000 }'
done
forged="X-Auth-Token: gAAAAA$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n')"
awk -v m="$(time_of "$URL_keystone/v2/workflows" "$forged")" -v h="$(time_of "$URL_keystone/v2/workflows" "$forged")" \
  'BEGIN { printf "  forged token: first %.1f ms (Keystone: 404, then 401) | again %.1f ms (negative cache)\n", m * 1000, h * 1000 }'
echo "keystone server's counters:"
curl -s -H "${HEADER[keystone]}" "$URL_keystone/metrics" | grep -E '^bora_auth_(keystone_requests|token_cache)' |
  sed 's/^/  /'
