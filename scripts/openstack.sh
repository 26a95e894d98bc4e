#!/usr/bin/env bash
# Starts, stops and describes real OpenStack services for the tests of label openstack (tests/openstack), from
# Debian 12's packages (python3-keystone, python3-glance, uwsgi; scripts/setup.sh installs them), as processes
# of this script only (the packages install no daemon: no systemd unit, init script or Apache site runs):
#   - Keystone: SQLite database (write-ahead log), fernet and credential keys in the private folder,
#     `keystone-manage db_sync` and `bootstrap`, its WSGI application (keystone-wsgi-public) served by uwsgi
#     (HTTP/1.1 with keep-alive; 4 processes of one thread: keystone's SQLite connections may not cross
#     threads) on a free loopback port;
#   - Glance: glance-api (one eventlet process) with SQLite and a file store in the private folder, Keystone
#     auth by keystonemiddleware against the Keystone above, registered in its catalog (service glance, type
#     image, region RegionOne, public/internal/admin endpoints).
# The projects alpha and beta get a member user each, alpha an admin user too; the project service holds the
# service users (glance, and BORA_OS_SERVICE_USER for Bora's API) with the role service.
#
#   scripts/openstack.sh start   idempotent; waits for real readiness (a token issued; glance-api lists images
#                                for it); prints `export OS_...=... BORA_...=...` lines
#   scripts/openstack.sh env     prints the export lines of running services (exit 1 if not running)
#   scripts/openstack.sh stop    stops what `start` started (by pid file) and removes the folder
#
# BORA_OPENSTACK_DIR (default /tmp/bora-openstack-$UID) holds pid files, configuration, databases, keys,
# images and logs (keystone/keystone.log, keystone/uwsgi.log, glance/glance-api.log).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="${BORA_OPENSTACK_DIR:-/tmp/bora-openstack-$(id -u)}"
# shellcheck source=scripts/kafka/common.sh
source "$here/kafka/common.sh"  # free_port, alive
# Debian's python3, with the OpenStack modules (not a python3 of pyenv or a virtualenv earlier on PATH).
py=/usr/bin/python3
# uwsgi embeds Debian's Python; a PYTHONHOME or PYTHONPATH of another Python would break it and glance-api.
unset PYTHONHOME PYTHONPATH

log() { echo "openstack: [${SECONDS} s] $*" >&2; }

running() { alive "$dir/keystone.pid" && alive "$dir/glance.pid" && [ -f "$dir/env" ]; }

# keystone-ready or glance-ready (scripts/openstack/admin.py), polled every 0.2 s for up to $2 s while the
# process of pid file $3 lives.
wait_ready() {
  local what=$1 seconds=$2 pidfile=$3 i
  for i in $(seq 1 $((seconds * 5))); do
    if ! alive "$pidfile"; then return 1; fi
    if (set -a; source "$dir/env"; "$py" "$here/openstack/admin.py" "$what"); then return 0; fi
    sleep 0.2
  done
  return 1
}

# wal DB: SQLite's write-ahead log on DB (kept in the file), so readers in other processes do not lock writers
# out ("database is locked" otherwise, under concurrent requests to the uwsgi processes).
wal() { "$py" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("pragma journal_mode=wal")' "$1"; }

# render TEMPLATE OUT KEY=VALUE...: copies TEMPLATE with each @KEY@ replaced.
render() {
  local template=$1 out=$2 kv script=()
  shift 2
  for kv in "$@"; do script+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${script[@]}" "$template" >"$out"
}

write_env() {
  local kport=$1 gport=$2 secret
  secret() { "$py" -c 'import secrets; print(secrets.token_hex(12))'; }
  (
    umask 077  # the passwords
    cat >"$dir/env" <<ENV
OS_AUTH_URL=http://127.0.0.1:$kport/v3
OS_IDENTITY_API_VERSION=3
OS_AUTH_TYPE=password
OS_REGION_NAME=RegionOne
OS_INTERFACE=public
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
OS_USERNAME=admin
OS_PASSWORD=$(secret)
OS_PROJECT_NAME=admin
BORA_OPENSTACK_DIR=$dir
BORA_KEYSTONE_URL=http://127.0.0.1:$kport
BORA_GLANCE_URL=http://127.0.0.1:$gport
BORA_OS_ALPHA_PROJECT=alpha
BORA_OS_ALPHA_USER=alpha-member
BORA_OS_ALPHA_PASSWORD=$(secret)
BORA_OS_ALPHA_ADMIN_USER=alpha-admin
BORA_OS_ALPHA_ADMIN_PASSWORD=$(secret)
BORA_OS_BETA_PROJECT=beta
BORA_OS_BETA_USER=beta-member
BORA_OS_BETA_PASSWORD=$(secret)
BORA_OS_SERVICE_PROJECT=service
BORA_OS_SERVICE_USER=bora
BORA_OS_SERVICE_PASSWORD=$(secret)
BORA_OS_GLANCE_PASSWORD=$(secret)
ENV
  )
}

start_keystone() {
  local kport=$1 conf="$dir/keystone/keystone.conf"
  mkdir -p "$dir/keystone"
  render "$here/openstack/keystone.conf.in" "$conf" "DIR=$dir"
  local manage=(keystone-manage --config-file "$conf")
  {
    "${manage[@]}" db_sync
    wal "$dir/keystone/keystone.db"
    # The key repositories fernet_setup and credential_setup would make (a staged key 0 and a primary key 1),
    # without two more keystone-manage runs of ~5 s each.
    "$py" "$here/openstack/admin.py" fernet-keys "$dir/keystone/fernet-keys" "$dir/keystone/credential-keys"
    (
      set -a
      source "$dir/env"
      "${manage[@]}" bootstrap --bootstrap-password="$OS_PASSWORD" --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$BORA_KEYSTONE_URL/v3" --bootstrap-internal-url "$BORA_KEYSTONE_URL/v3" \
        --bootstrap-public-url "$BORA_KEYSTONE_URL/v3"
    )
  } >"$dir/keystone/manage.log" 2>&1 || { log "keystone-manage failed; see $dir/keystone/manage.log"; exit 1; }
  log "keystone database and keys ready"
  OS_KEYSTONE_CONFIG_FILES="$conf" nohup uwsgi --plugin python3 --http11-socket "127.0.0.1:$kport" \
    --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 4 \
    --die-on-term --no-orphans --need-app --buffer-size 65535 >"$dir/keystone/uwsgi.log" 2>&1 </dev/null &
  echo $! >"$dir/keystone.pid"
  if ! wait_ready keystone-ready 150 "$dir/keystone.pid"; then
    log "keystone did not issue a token; see $dir/keystone/uwsgi.log and keystone.log"
    exit 1
  fi
  log "keystone ready on 127.0.0.1:$kport"
}

# launch_glance PORT: its configuration, db_sync and glance-api, which asks nothing of Keystone before its first
# request (so it starts while Keystone is provisioned).
launch_glance() {
  local gport=$1 conf="$dir/glance/glance-api.conf"
  mkdir -p "$dir/glance/images" "$dir/glance/staging" "$dir/glance/locks"
  cp "$here/openstack/glance-api-paste.ini" "$dir/glance/"
  (
    set -a
    source "$dir/env"
    render "$here/openstack/glance-api.conf.in" "$conf" "DIR=$dir" "PORT=$gport" \
      "KEYSTONE=$BORA_KEYSTONE_URL" "PASSWORD=$BORA_OS_GLANCE_PASSWORD"
  )
  "$py" -m glance.cmd.manage --config-file "$conf" db_sync >"$dir/glance/manage.log" 2>&1 ||
    { log "glance-manage db_sync failed; see $dir/glance/manage.log"; return 1; }
  wal "$dir/glance/glance.db"
  nohup "$py" -m glance.cmd.api --config-file "$conf" >"$dir/glance/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/glance.pid"
  log "glance-api launched"
}

print_env() {
  running || return 1
  sed 's/^/export /' "$dir/env"
}

# Stops glance-api and uwsgi's master together (SIGTERM, then SIGKILL after 10 s; uwsgi's workers follow its
# master, --no-orphans) and removes the folder.
stop_all() {
  local name pids=() pid left
  for name in glance keystone; do
    if alive "$dir/$name.pid"; then pids+=("$(cat "$dir/$name.pid")"); fi
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      left=0
      for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then left=1; fi; done
      [ $left = 1 ] || break
      sleep 0.1
    done
    kill -9 "${pids[@]}" 2>/dev/null || true
    log "stopped"
  fi
  rm -rf "$dir"
}

start() {
  if running && (set -a; source "$dir/env"; "$py" "$here/openstack/admin.py" glance-ready); then
    print_env
    return 0
  fi
  for module in keystone glance; do
    "$py" -c "import $module" 2>/dev/null || {
      log "Debian's python3-$module is missing (scripts/setup.sh installs it)"; exit 1; }
  done
  command -v uwsgi >/dev/null || { log "uwsgi is missing (scripts/setup.sh installs it)"; exit 1; }
  stop_all  # what a failed or half-stopped start left
  mkdir -p "$dir"
  local kport gport began=$SECONDS
  kport="$(free_port)"
  gport="$(free_port)"
  while [ "$gport" = "$kport" ]; do gport="$(free_port)"; done
  write_env "$kport" "$gport"
  launch_glance "$gport" &
  local launching=$!
  start_keystone "$kport"
  (set -a; source "$dir/env"; "$py" "$here/openstack/admin.py" provision) >"$dir/provision.log" 2>&1 ||
    { log "provisioning failed; see $dir/provision.log"; exit 1; }
  log "keystone provisioned"
  wait "$launching" || exit 1
  if ! wait_ready glance-ready 150 "$dir/glance.pid"; then
    log "glance-api did not list images; see $dir/glance/glance-api.log and stdout.log"
    exit 1
  fi
  log "glance-api ready on 127.0.0.1:$gport"
  log "started in $((SECONDS - began)) s"
  print_env
}

case "${1:-}" in
  start) start ;;
  env) print_env ;;
  stop) stop_all ;;
  *)
    echo "usage: $0 start|env|stop" >&2
    exit 2
    ;;
esac
