#!/usr/bin/env python3
"""Checks that the product code reads the wall clock only where a process is put together. Everything
else takes an injected `const Clock*` (common/clock.h), so tests drive time with a ManualClock. A read is
`SystemClock::Get()`, `system_clock::now`, `std::time(`, `gettimeofday` or `CLOCK_REALTIME`, outside a
`//` comment. steady_clock (timeouts, durations) is not the wall clock and is not checked.

Test-only files (*_test.cc, *_bench.cc, *_fuzz.cc, test drivers, clients and support, testing/ folders)
may read it; so may the files (or folders, ending in /) of ALLOWED, each with its reason. Adding to
ALLOWED needs a reason.

Usage: check_clock.py [--root DIR]   exit 0 when clean, 1 with one line per read outside ALLOWED.
       check_clock.py --self-test      runs the check on made-up trees: a new read must be found.
"""
import argparse
import os
import pathlib
import re
import sys
import tempfile

ALLOWED = {
    "common/clock.cc": "SystemClock itself",
    "cli/": "the `bora` command: each subcommand is a process's entry point",
    "orchestrator/runtime/cluster_node.cc": "puts a distributed process together",
    "orchestrator/runtime/embedded_runtime.cc": "puts an embedded process together (not deterministic)",
    "orchestrator/expressions/builtins_datetime.cc":
        "now() with no EvalContext::clock: the one documented fallback (expressions.h), for evaluations"
        " outside a runtime (tests, tools, event-trigger input mappings of ingest/events)",
}

TOPS = ("common", "sdk", "workers", "orchestrator", "ingest", "cli")
TEST_ONLY = re.compile(r"(_test|_bench|_fuzz|test_driver|test_client|test_support)\.(cc|h)$")
READ = re.compile(r"SystemClock::Get\(|system_clock::now|std::time\(|\bgettimeofday\b|\bCLOCK_REALTIME\b")


def allowed(path):
    return any(path == a or (a.endswith("/") and path.startswith(a)) for a in ALLOWED)


def find_reads(root):
    """(files checked, one line per wall-clock read outside ALLOWED) for the tree at `root`."""
    problems = []
    checked = 0
    for top in TOPS:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                path = os.path.relpath(os.path.join(dirpath, name), root)
                if (not name.endswith((".h", ".cc")) or TEST_ONLY.search(name) or
                        "/testing/" in "/" + path or allowed(path)):
                    continue
                checked += 1
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        if READ.search(line.split("//", 1)[0]):
                            problems.append(f"{path}:{number}: reads the wall clock: {line.strip()}")
    return checked, problems


def self_test():
    """The check must find a new read, and skip comments, tests and allowed files."""
    cases = [
        ({"workers/a.cc": "auto t = SystemClock::Get()->NowUs();\n"}, 1),
        ({"common/metrics/m.cc": "auto t = std::chrono::system_clock::now();\n"}, 1),
        ({"ingest/api/x.cc": "std::time_t t = std::time(nullptr);\n"}, 1),
        ({"workers/a.cc": "// not SystemClock::Get() here\nauto t = steady_clock::now();\n"}, 0),
        ({"workers/a_test.cc": "auto t = SystemClock::Get();\n",
          "workers/testing/fake.cc": "auto t = SystemClock::Get();\n"}, 0),
        ({"orchestrator/runtime/cluster_node.cc": "r.clock = SystemClock::Get();\n",
          "cli/x_command.cc": "auto t = SystemClock::Get();\n"}, 0),
    ]
    for files, want in cases:
        with tempfile.TemporaryDirectory() as tmp:
            for rel, body in files.items():
                (pathlib.Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
                (pathlib.Path(tmp) / rel).write_text(body)
            found = find_reads(tmp)[1]
            if len(found) != want:
                print(f"self-test: {sorted(files)} gave {found}, want {want} read(s)")
                return 1
    print(f"check_clock self-test: {len(cases)} made-up trees judged as expected")
    return 0


def main():
    ap = argparse.ArgumentParser(description="The wall clock is read only where processes are put together.")
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    checked, problems = find_reads(os.path.abspath(args.root))
    for p in problems:
        print(p)
    if problems:
        print(f"check_clock: {len(problems)} wall-clock read(s) outside the assembly points: take a "
              "`const Clock*` (common/clock.h) from whoever puts the process together")
        return 1
    print(f"check_clock: {checked} files, the wall clock is read only where processes are put together")
    return 0


if __name__ == "__main__":
    sys.exit(main())
