#!/usr/bin/env bash
# Clang's thread-safety analysis over the product code (common/thread_annotations.h, ARCHITECTURE.md).
#
#   scripts/check_thread_safety.sh --build-dir BUILD [--jobs N]   every product .cc in BUILD/compile_commands.json
#   scripts/check_thread_safety.sh --self-test                     proves clang rejects an unguarded write
#
# Each product .cc (common sdk workers orchestrator ingest cli; not *_test.cc, *_fuzz.cc, testing/ or generated
# files) is compiled with `clang++ -fsyntax-only -Wthread-safety -Werror=thread-safety` and the -D/-I/-isystem
# flags the build uses for it; the build may be GCC's. Fails on any warning of the thread-safety group.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clang="${CLANG:-clang++}"
build_dir=""
jobs=2
self_test=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --self-test) self_test=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if ! command -v "$clang" >/dev/null; then
  echo "check_thread_safety: $clang not found (apt-get install clang)" >&2
  exit 1
fi
flags=(-fsyntax-only -std=c++20 -Wthread-safety -Werror=thread-safety -Wno-unknown-warning-option)

if [[ $self_test == 1 ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/good.cc" <<'EOF'
#include "common/thread_annotations.h"
class Counter {
 public:
  void Add() { bora::MutexLock lock(mu_); ++n_; Bump(); }
  int Wait() { bora::MutexLock lock(mu_); while (n_ == 0) cv_.Wait(mu_); return n_; }
 private:
  void Bump() REQUIRES(mu_) { ++n_; }
  bora::Mutex mu_;
  bora::CondVar cv_;
  int n_ GUARDED_BY(mu_) = 0;
};
int main() { Counter c; c.Add(); return c.Wait() == 2 ? 0 : 1; }
EOF
  cat >"$tmp/unguarded_write.cc" <<'EOF'
#include "common/thread_annotations.h"
class Counter {
 public:
  void Add() { ++n_; }  // writes a GUARDED_BY member without the lock
 private:
  bora::Mutex mu_;
  int n_ GUARDED_BY(mu_) = 0;
};
int main() { Counter c; c.Add(); }
EOF
  cat >"$tmp/missing_requires.cc" <<'EOF'
#include "common/thread_annotations.h"
class Counter {
 public:
  void Add() { Bump(); }  // calls a REQUIRES(mu_) helper without the lock
 private:
  void Bump() REQUIRES(mu_) { ++n_; }
  bora::Mutex mu_;
  int n_ GUARDED_BY(mu_) = 0;
};
int main() { Counter c; c.Add(); }
EOF
  if ! "$clang" "${flags[@]}" -I"$root" "$tmp/good.cc"; then
    echo "FAIL: the correctly locked snippet was rejected" >&2
    exit 1
  fi
  for bad in unguarded_write missing_requires; do
    if "$clang" "${flags[@]}" -I"$root" "$tmp/$bad.cc" 2>"$tmp/$bad.log"; then
      echo "FAIL: clang accepted $bad.cc" >&2
      exit 1
    fi
    if ! grep -q -- '-Wthread-safety' "$tmp/$bad.log"; then
      echo "FAIL: $bad.cc was rejected, but not by the thread-safety analysis:" >&2
      cat "$tmp/$bad.log" >&2
      exit 1
    fi
  done
  echo "OK: clang rejects an unguarded write and a call without the required lock; accepts the locked code"
  exit 0
fi

if [[ -z "$build_dir" || ! -f "$build_dir/compile_commands.json" ]]; then
  echo "check_thread_safety: --build-dir with a compile_commands.json is required" >&2
  exit 2
fi

# One line per file: the file, then its -D/-I/-isystem flags (GCC-only flags, -O, -g, -W are dropped).
list="$(python3 - "$build_dir/compile_commands.json" "$root" <<'EOF'
import json, os, re, shlex, sys
entries = json.load(open(sys.argv[1]))
root = sys.argv[2].rstrip('/') + '/'
seen = set()
skipped = 0
# A file that does not include common/thread_annotations.h (through the project's own "..." includes,
# which are relative to the repository root) holds no annotation and no bora::Mutex: nothing to check.
include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
direct = {}  # file -> the project files it includes
def includes(path):
    if path not in direct:
        try:
            text = open(path, encoding='utf-8', errors='replace').read()
        except OSError:
            text = ''
        found = []
        for inc in include_re.findall(text):
            for cand in (root + inc, os.path.join(os.path.dirname(path), inc)):
                if os.path.exists(cand):
                    found.append(os.path.normpath(cand))
                    break
        direct[path] = found
    return direct[path]
target = os.path.normpath(root + 'common/thread_annotations.h')
def reaches(path):
    todo, visited = [path], {path}
    while todo:
        for inc in includes(todo.pop()):
            if inc == target:
                return True
            if inc not in visited:
                visited.add(inc)
                todo.append(inc)
    return False
for e in entries:
    f = e['file']
    if not f.startswith(root) or f in seen:
        continue
    rel = f[len(root):]
    if not re.match(r'(common|sdk|workers|orchestrator|ingest|cli)/', rel):
        continue
    if re.search(r'_test\.cc$|_fuzz\.cc$|/testing/', rel):
        continue
    seen.add(f)
    if not reaches(f):
        skipped += 1
        continue
    args = e.get('arguments') or shlex.split(e['command'])
    keep, i = [], 0
    while i < len(args):
        a = args[i]
        if a in ('-I', '-isystem', '-D', '-include'):
            keep += [a, args[i + 1]]; i += 2; continue
        if a.startswith(('-I', '-D', '-isystem')):
            keep.append(a)
        i += 1
    print(shlex.join([f] + keep))
print(f'{len(seen) - skipped} of {len(seen)} product files include common/thread_annotations.h', file=sys.stderr)
EOF
)"
count="$(printf '%s\n' "$list" | grep -c .)"
if [[ $count == 0 ]]; then
  echo "OK: no product file includes common/thread_annotations.h"
  exit 0
fi
start=$SECONDS
export clang
export flags_str="${flags[*]}"
# xargs runs one clang per file; a file's output is printed whole when it fails.
if ! printf '%s\n' "$list" | xargs -P "$jobs" -d '\n' -n 1 bash -c '
  eval "set -- $1"
  f="$1"; shift
  if ! out="$("$clang" $flags_str "$@" "$f" 2>&1)"; then
    printf "%s\n" "$out" >&2
    exit 1
  fi
  if [[ -n "$out" ]] && grep -q -- "-Wthread-safety" <<<"$out"; then
    printf "%s\n" "$out" >&2
    exit 1
  fi' _; then
  echo "FAIL: thread-safety analysis found problems (see above); $count files, $((SECONDS - start)) s" >&2
  exit 1
fi
echo "OK: $count files pass clang -Wthread-safety in $((SECONDS - start)) s (-P $jobs)"
