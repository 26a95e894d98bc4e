#!/usr/bin/env python3
"""Checks that every #include of the product code points down the module layers (ARCHITECTURE.md, "Module
layers"). A module is a folder: common/<sub>, sdk/<sub>, orchestrator/<sub> and ingest/<sub>, or the top folder
(common's own files, workers, cli). A file may include its own module and modules of a lower rank; modules of
the same rank do not include each other. Test-only files (*_test.cc, *_bench.cc, *_fuzz.cc, test drivers and
clients) may include anything: they put modules together.

Usage: check_layers.py [--root DIR]   exit 0 when clean, 1 with one line per upward include.
       check_layers.py --self-test      runs the check on made-up trees: one upward include must be found.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# Lowest first. One line is one rank.
LAYERS = [
    ["common"],
    ["common/bus", "common/http"],
    ["common/metrics"],
    ["common/kafka", "common/redis", "common/disk", "common/auth"],
    ["sdk/messages"],
    ["sdk/protocol"],
    ["workers"],
    ["orchestrator/expressions"],
    ["orchestrator/language"],
    ["orchestrator/engine"],
    ["orchestrator/store"],
    ["orchestrator/partition"],
    ["orchestrator/runtime"],
    ["orchestrator/triggers"],
    ["ingest/events", "ingest/console"],
    ["ingest/api"],
    ["cli"],
]

# Upward includes that exist today, each with the step that removes it. Adding to this list needs a reason.
KNOWN = set()

TOPS = ("common", "sdk", "workers", "orchestrator", "ingest", "cli")
TEST_ONLY = re.compile(r"(_test|_bench|_fuzz|test_driver|test_client|test_support)\.(cc|h)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(path):
    parts = path.split("/")
    if parts[0] in ("common", "sdk", "orchestrator", "ingest") and len(parts) > 2:
        return parts[0] + "/" + parts[1]
    return parts[0]


def self_test():
    """The check must fail on an upward include and a same-rank include, and pass on a downward one."""
    cases = [
        ({"common/a.h": '#include "cli/x.h"\n', "cli/x.h": ""}, 1),
        ({"common/bus/a.h": '#include "common/http/x.h"\n', "common/http/x.h": ""}, 1),
        ({"orchestrator/engine/a.cc": '#include "ingest/api/x.h"\n', "ingest/api/x.h": ""}, 1),
        ({"cli/a.cc": '#include "orchestrator/engine/x.h"\n#include <vector>\n',
          "orchestrator/engine/x.h": '#include "common/y.h"\n', "common/y.h": ""}, 0),
        ({"common/a_test.cc": '#include "cli/x.h"\n', "cli/x.h": ""}, 0),  # tests may go up
    ]
    for files, want in cases:
        with tempfile.TemporaryDirectory() as tmp:
            for rel, body in files.items():
                os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "w") as f:
                    f.write(body)
            got = subprocess.run([sys.executable, os.path.abspath(__file__), "--root", tmp],
                                 capture_output=True, text=True)
            if got.returncode != want:
                print(f"self-test: {sorted(files)} gave exit {got.returncode}, want {want}:\n{got.stdout}")
                return 1
    print(f"check_layers self-test: {len(cases)} made-up trees judged as expected")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    root = os.path.abspath(args.root)
    rank = {m: i for i, line in enumerate(LAYERS) for m in line}
    problems = []
    checked = 0
    for top in TOPS:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".h", ".cc")) or TEST_ONLY.search(name):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                src = module_of(path)
                if src not in rank:
                    problems.append(f"{path}: module {src} has no layer in scripts/check_layers.py")
                    continue
                checked += 1
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    inc = m.group(1)
                    if inc.split("/")[0] not in TOPS:
                        continue  # a system or third-party header
                    dst = module_of(inc)
                    if dst == src or (path, inc) in KNOWN:
                        continue
                    line = text.count("\n", 0, m.start()) + 1
                    if dst not in rank:
                        problems.append(f"{path}:{line}: includes {inc} of module {dst}, which has no layer")
                    elif rank[dst] >= rank[src]:
                        how = "the same rank as" if rank[dst] == rank[src] else "a higher layer than"
                        problems.append(f"{path}:{line}: includes {inc}: {dst} is {how} {src}")
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the layers (ARCHITECTURE.md)")
        return 1
    print(f"check_layers: {checked} files, every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
