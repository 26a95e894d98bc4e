#!/usr/bin/env bash
# The ctest test package.deb (label package): builds the .deb of a built tree and checks it.
#   packaging/test_deb.sh BUILD_DIR SOURCE_DIR VERSION [CPACK]
# 1. cpack -G DEB into a temporary directory (the build must be done: CPack packs the built binary).
# 2. dpkg-deb -c: every expected path (the binary 0755 root/root, the four units, the conffiles, every
#    dashboard, every Prometheus file (scrape config, alert rules), every example, README, copyright,
#    bora(1) and the bash and zsh completions),
#    everything owned by root, nothing outside the package's own paths.
# 3. dpkg-deb -f: Package, Version, Architecture (dpkg's), Depends (adduser and dpkg-shlibdeps' libc6).
# 4. dpkg-deb -e: conffiles lists /etc/bora/bora.toml and /etc/default/bora; maintainer scripts parse.
#    Where `unshare -m` is allowed, the maintainer scripts run over private copies of /etc and /var/lib.
# 5. dpkg-deb -x into a temporary root: usr/bin/bora --version (the version), `bora run` of the packaged
#    hello_world.yaml (SUCCESS); the shipped etc/bora/bora.toml: `bora ROLE --config it --help` for the four
#    roles, serve's data-dir taken from it (`bora config show`), and with every key uncommented each key is
#    a valid option and value of its section's command; `bora serve --config it` (data directory and port
#    by flag) answers the REST API and exits 0 on SIGTERM; `promtool check config` on the installed
#    prometheus.yml and its rule files (skipped, saying so, without promtool).
# 6. systemd-analyze verify on copies of the units whose ExecStart names the unpacked binary (the units
#    name /usr/bin/bora, which is not installed here; everything else in them is verified as shipped, their
#    man:bora(1) against the unpacked man page).
#    Skipped, saying so, when systemd-analyze is missing.
# 7. The check of step 2 rejects a copy of the package without bora-worker.service and with a stray file.
# Any failed check prints FAIL and the test exits 1.
set -euo pipefail

build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
version=$3
cpack=${4:-cpack}

work=$(mktemp -d "${TMPDIR:-/tmp}/bora-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

roles=(serve orchestrator worker api)

# check_contents DEB: step 2; prints each failure, returns 1 if any.
check_contents() {
  local deb=$1 listing bad=0 path
  listing=$(dpkg-deb -c "$deb") || return 1
  # "perm owner/group size date time ./path" -> "perm owner/group ./path" (directories end with /).
  local entries
  entries=$(awk '{print $1, $2, $6}' <<<"$listing")
  local expected=(./usr/bin/bora ./etc/bora/bora.toml ./etc/default/bora ./usr/share/doc/bora/copyright
                  ./usr/share/doc/bora/README.md ./usr/share/bora/dashboards/ ./usr/share/bora/prometheus/
                  ./usr/share/bora/prometheus/prometheus.yml ./usr/share/bora/prometheus/alerts.yml
                  ./usr/share/bora/examples/hello_world.yaml ./usr/share/bora/openstack-actions.json
                  ./usr/share/man/man1/bora.1.gz
                  ./usr/share/bash-completion/completions/bora ./usr/share/zsh/vendor-completions/_bora)
  for role in "${roles[@]}"; do expected+=("./lib/systemd/system/bora-$role.service"); done
  for f in "$source_dir"/dashboards/json/*.json; do expected+=("./usr/share/bora/dashboards/${f##*/}"); done
  for f in "$source_dir"/dashboards/*.yml; do
    [[ $f == *_test.yml ]] || expected+=("./usr/share/bora/prometheus/${f##*/}")
  done
  for f in "$source_dir"/examples/*.yaml; do expected+=("./usr/share/bora/examples/${f##*/}"); done
  for path in "${expected[@]}"; do
    if ! awk -v p="$path" '$3 == p {found = 1} END {exit !found}' <<<"$entries"; then
      echo "FAIL: $deb lacks $path" >&2
      bad=1
    fi
  done
  if ! grep -qx -- '-rwxr-xr-x root/root ./usr/bin/bora' <<<"$entries"; then
    echo "FAIL: ./usr/bin/bora is not -rwxr-xr-x root/root: $(grep ' ./usr/bin/bora$' <<<"$entries")" >&2
    bad=1
  fi
  # Every entry is root's, and one of the package's own paths or a directory above them.
  local own='^\./(etc/bora/|etc/default/bora$|lib/systemd/system/bora-[a-z]+\.service$|usr/bin/bora$'
  own+='|usr/share/bora/|usr/share/doc/bora/|usr/share/man/man1/bora\.1\.gz$'
  own+='|usr/share/bash-completion/completions/bora$|usr/share/zsh/vendor-completions/_bora$)'
  local parents=" ./ ./etc/ ./etc/default/ ./lib/ ./lib/systemd/ ./lib/systemd/system/ ./usr/ ./usr/bin/"
  parents+=" ./usr/share/ ./usr/share/doc/ ./usr/share/man/ ./usr/share/man/man1/"
  parents+=" ./usr/share/bash-completion/ ./usr/share/bash-completion/completions/"
  parents+=" ./usr/share/zsh/ ./usr/share/zsh/vendor-completions/ "
  local perm owner strays=""
  while read -r perm owner path; do
    [ "$owner" = root/root ] || strays+="  not root's: $perm $owner $path"$'\n'
    [[ $path =~ $own || $parents == *" $path "* ]] || strays+="  not the package's: $path"$'\n'
  done <<<"$entries"
  if [ -n "$strays" ]; then
    echo "FAIL: $deb has entries not root's or outside the package's paths:" >&2
    printf '%s' "$strays" >&2
    bad=1
  fi
  return $bad
}

# 1. The package.
if ! "$cpack" -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  echo "FAIL: cpack -G DEB" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
deb="$work/out/bora_${version}_${arch}.deb"
if [ ! -f "$deb" ]; then
  ls -l "$work/out" >&2
  echo "FAIL: cpack did not write bora_${version}_${arch}.deb" >&2
  exit 1
fi
ok "$(basename "$deb"), $(stat -c %s "$deb") bytes"

# 2. Contents.
if check_contents "$deb"; then
  ok "dpkg-deb -c: every expected path, root-owned, nothing else"
else
  fail "contents"
fi

# 3. Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
before=$failures
[ "$(field Package)" = bora ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', not $arch"
depends=$(field Depends)
for dep in adduser libc6; do
  grep -Eq "(^|, )$dep( |,|$)" <<<"$depends" || fail "Depends lacks $dep: '$depends'"
done
for f in Maintainer Description Section Homepage; do [ -n "$(field $f)" ] || fail "no $f field"; done
[ "$failures" != "$before" ] || ok "dpkg-deb -f: bora $version $arch, Depends: $depends"

# 4. Control files.
dpkg-deb -e "$deb" "$work/control"
before=$failures
for conffile in /etc/bora/bora.toml /etc/default/bora; do
  grep -qx "$conffile" "$work/control/conffiles" || fail "conffiles lacks $conffile"
done
for script in postinst prerm postrm; do
  if [ ! -x "$work/control/$script" ]; then fail "no executable $script"; continue; fi
  sh -n "$work/control/$script" || fail "$script does not parse"
done
grep -q 'adduser --system --group --home /var/lib/bora' "$work/control/postinst" ||
  fail "postinst does not create the bora system user"
[ "$failures" != "$before" ] ||
  ok "dpkg-deb -e: conffiles $(tr '\n' ' ' <"$work/control/conffiles")and the maintainer scripts"

# The maintainer scripts, run for real where a private mount namespace is allowed (root): /etc and
# /var/lib are copies bound over the real ones, /run/systemd is hidden (no systemctl call reaches a host's
# systemd), all gone when the namespace ends.
if ! command -v adduser >/dev/null; then
  echo "SKIP: running the maintainer scripts (adduser, a Depends of the package, is not installed)"
elif unshare -m --propagation private mount --bind "$work" "$work" 2>/dev/null; then
  mkdir -p "$work/ns/etc" "$work/ns/var-lib" "$work/ns/run-systemd"
  cp -a /etc/. "$work/ns/etc/"
  if out=$(unshare -m --propagation private sh -euc '
      mount --bind "$1/ns/etc" /etc
      mount --bind "$1/ns/var-lib" /var/lib
      if [ -d /run/systemd ]; then mount --bind "$1/ns/run-systemd" /run/systemd; fi
      c=$1/control
      "$c/postinst" configure
      getent passwd bora | grep -qx "bora:x:[0-9]*:[0-9]*:[^:]*:/var/lib/bora:/usr/sbin/nologin" ||
        { echo "no system user bora with home /var/lib/bora: $(getent passwd bora)"; exit 1; }
      [ "$(stat -c "%U:%G %a" /var/lib/bora)" = "bora:bora 750" ] ||
        { echo "/var/lib/bora is $(stat -c "%U:%G %a" /var/lib/bora)"; exit 1; }
      touch /var/lib/bora/CURRENT
      "$c/postinst" configure 0.0.1
      "$c/prerm" remove
      "$c/postrm" remove
      [ -f /var/lib/bora/CURRENT ] || { echo "remove deleted /var/lib/bora"; exit 1; }
      "$c/postrm" purge
      [ ! -e /var/lib/bora ] || { echo "purge kept /var/lib/bora"; exit 1; }
    ' sh "$work" 2>&1) && [ -z "$out" ]; then
    ok "postinst configure (user bora, /var/lib/bora), again as an upgrade, prerm, postrm remove and purge"
  else
    fail "maintainer scripts: $out"
  fi
else
  echo "SKIP: running the maintainer scripts (no private mount namespace: unshare -m is not permitted)"
fi

# 5. The unpacked binary.
root="$work/root"
dpkg-deb -x "$deb" "$root"
bora="$root/usr/bin/bora"
if out=$("$bora" --version 2>&1) && [[ $out == "bora $version "* ]]; then
  ok "bora --version: $out"
else
  fail "bora --version printed '$out', not the version $version"
fi
if out=$(cd "$work" && "$bora" run "$root/usr/share/bora/examples/hello_world.yaml" 2>&1) &&
    grep -q 'Workflow hello_world: SUCCESS' <<<"$out" && grep -q 'Hello, World!' <<<"$out"; then
  ok "bora run hello_world.yaml: SUCCESS"
else
  fail "bora run hello_world.yaml: $out"
fi
# The shipped config, read as the units read it (no BORA_* variables: they win over the file).
toml="$root/etc/bora/bora.toml"
clean=(env -i "PATH=$PATH")
before=$failures
for role in "${roles[@]}"; do
  out=$("${clean[@]}" "$bora" "$role" --config "$toml" --help 2>&1) ||
    fail "bora $role --config bora.toml --help: $out"
done
[ "$failures" != "$before" ] || ok "bora ROLE --config etc/bora/bora.toml --help: ${roles[*]}"
if out=$("${clean[@]}" "$bora" config show serve --config "$toml" 2>&1) &&
    grep -Eq '^data-dir = "/var/lib/bora" +# file ' <<<"$out"; then
  ok "bora config show serve --config etc/bora/bora.toml: data-dir /var/lib/bora from the file"
else
  fail "bora config show serve --config bora.toml does not take data-dir from the file: $out"
fi
# Every commented key, uncommented, is an option of its section's command with a valid value: each role's
# `bora config show` accepts the file and shows every key of its section as coming from it.
sed -E 's/^# ([a-z][a-z0-9-]* = )/\1/' "$toml" >"$work/every-key.toml"
keys=$(grep -Ec '^[a-z][a-z0-9-]* = ' "$work/every-key.toml")
from_file=0
for role in "${roles[@]}"; do
  if out=$("${clean[@]}" "$bora" config show "$role" --config "$work/every-key.toml" 2>&1); then
    from_file=$((from_file + $(grep -c ' # file ' <<<"$out")))
  else
    fail "bora.toml with every key uncommented, bora config show $role: $out"
  fi
done
if [ "$keys" -gt 20 ] && [ "$from_file" = "$keys" ]; then
  ok "bora.toml: $keys keys, commented or not, each a valid option of its section's command"
else
  fail "bora.toml: $keys keys uncommented, $from_file of them taken from the file by bora config show"
fi

# bora serve as bora-serve.service starts it (the shipped config), with the data directory and port
# overridden by flags (they win over the file): it answers the REST API, then stops cleanly on SIGTERM.
exec 3< <(exec "${clean[@]}" "$bora" serve --config "$toml" --data-dir "$work/data" --port 0 \
            --load "$root/usr/share/bora/examples/hello_world.yaml" 2>&1)
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
url="" log=""
while IFS= read -r -t 60 line <&3; do
  log+="$line"$'\n'
  if [[ $line =~ REST\ API\ on\ (http://[0-9.]+:[0-9]+)$ ]]; then url=${BASH_REMATCH[1]}; break; fi
done
if [ -n "$url" ] && out=$("$bora" workflow list --url "$url" 2>&1) && grep -q hello_world <<<"$out"; then
  kill -TERM "$serve_pid"
  if wait "$serve_pid"; then
    ok "bora serve --config etc/bora/bora.toml: $url lists hello_world; SIGTERM: exit 0"
  else
    fail "bora serve exited $? on SIGTERM"
  fi
else
  fail "bora serve --config etc/bora/bora.toml: ${out:-}$log"
fi
exec 3<&-

# The Prometheus files as installed: prometheus.yml loads alerts.yml beside it.
if command -v promtool >/dev/null; then
  if out=$(promtool check config "$root/usr/share/bora/prometheus/prometheus.yml" 2>&1); then
    ok "promtool check config usr/share/bora/prometheus/prometheus.yml (and its rule files)"
  else
    fail "promtool check config: $out"
  fi
else
  echo "SKIP: promtool check config (promtool is not installed)"
fi

# 6. The units.
if command -v systemd-analyze >/dev/null; then
  mkdir "$work/units"
  for role in "${roles[@]}"; do
    unit="$root/lib/systemd/system/bora-$role.service"
    grep -qx "ExecStart=/usr/bin/bora $role --config /etc/bora/bora.toml" "$unit" ||
      fail "bora-$role.service: ExecStart is not /usr/bin/bora $role --config /etc/bora/bora.toml"
    sed "s|^ExecStart=/usr/bin/bora |ExecStart=$bora |" "$unit" >"$work/units/bora-$role.service"
  done
  # Documentation=man:bora(1) is looked up in the unpacked package (without man, not at all).
  man_env=("MANPATH=$root/usr/share/man") man_opt=() man_said="bora(1) found in the package"
  if ! command -v man >/dev/null; then man_env=() man_opt=(--man=no) man_said="--man=no: man is missing"; fi
  # verify exits 0 on warnings (an unknown key, say): any output fails too.
  if out=$(cd "$work/units" && env "${man_env[@]}" systemd-analyze verify "${man_opt[@]}" ./*.service 2>&1) &&
      [ -z "$out" ]; then
    ok "systemd-analyze verify: ${roles[*]} ($man_said)"
  else
    fail "systemd-analyze verify: $out"
  fi
else
  echo "SKIP: systemd-analyze verify (systemd-analyze is not installed)"
fi

# 7. The content check can fail: a copy without bora-worker.service and with a stray file.
dpkg-deb -R "$deb" "$work/broken"
rm "$work/broken/lib/systemd/system/bora-worker.service"
mkdir -p "$work/broken/usr/local/bin" && touch "$work/broken/usr/local/bin/stray"
dpkg-deb --root-owner-group -Zgzip -z1 -b "$work/broken" "$work/broken.deb" >/dev/null
if check_contents "$work/broken.deb" 2>"$work/broken.log"; then
  fail "the content check accepted a package without bora-worker.service and with a stray file"
elif grep -q 'lacks ./lib/systemd/system/bora-worker.service' "$work/broken.log" &&
    grep -q "not the package's: ./usr/local/bin/stray" "$work/broken.log"; then
  ok "the content check rejects a package without bora-worker.service and with a stray file"
else
  fail "the content check did not name both mistakes of the broken package: $(cat "$work/broken.log")"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "package.deb: every check passed"
