#!/usr/bin/env python3
"""The HTTP worker API with Python SDK workers (issue 19), against `bora serve --in-memory`.

1. Throughput: a with-items of N items of an external action (`bench.noop`, returns its item) run by
   W SDK worker processes (HTTP transport, `--concurrency` each): actions per second from the start to
   the execution's end (its SSE stream), beside the same with-items of the built-in `std.echo`.
2. Added latency: a chain of K tasks, each one action, external vs built-in: the difference per task.

Prints numbers only. Usage (after `make build`, with the venv of scripts/setup.sh):
  ~/.cache/bora/venv/bin/python benchmarks/worker_api_bench.py [build/cli/bora] [--workers 8]
      [--concurrency 4] [--items 5000] [--chain 200]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r'''
import sys
sys.path.insert(0, sys.argv[3])
from bora_worker import Worker
w = Worker.http(sys.argv[1], pool="bench", concurrency=int(sys.argv[2]))
@w.action("bench.noop", input="x=null")
def noop(x=None):
    return x
w.run()
'''


def call(base, method, path, body=None, content_type="application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=600) as r:
        text = r.read()
    return json.loads(text) if text else None


def run_to_end(base, workflow, inp=None):
    t0 = time.monotonic()
    e = call(base, "POST", "/v2/executions", {"workflow_name": workflow, "input": inp or {}})
    with urllib.request.urlopen(base + "/v2/executions/%s/stream" % e["id"], timeout=600) as r:
        text = r.read().decode()
    elapsed = time.monotonic() - t0
    if '"SUCCESS"' not in text.split("event: end")[-1]:
        raise RuntimeError("%s did not succeed: %s" % (workflow, text[-300:]))
    return elapsed


def chain(name, action, k):
    """`k` tasks one after the other, task i running `action % i`."""
    y = "%s:\n  tasks:\n" % name
    for i in range(k):
        y += "    t%d:\n      action: %s\n" % (i, action % i)
        if i + 1 < k:
            y += "      on-success: [t%d]\n" % (i + 1)
    return y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bora", nargs="?", default=os.path.join(REPO, "build/cli/bora"))
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--chain", type=int, default=200)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    port_file = os.path.join(tmp, "port")
    server = subprocess.Popen([a.bora, "serve", "--in-memory", "--port", "0", "--port-file", port_file,
                               "--log-level", "warn"])
    workers = []
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            time.sleep(0.05)
        base = "http://127.0.0.1:%s" % open(port_file).read().strip()
        for _ in range(a.workers):
            workers.append(subprocess.Popen(
                [sys.executable, "-c", WORKER, base, str(a.concurrency), os.path.join(REPO, "sdk/python")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while len(call(base, "GET", "/v2/workers")["workers"]) < a.workers:
            time.sleep(0.1)  # every worker process has polled once (declared bench.noop)
        doc = "version: '2.0'\n"
        doc += ("ext_items:\n  input: [n]\n  tasks:\n    each:\n"
                "      with-items: x in <% range(0, $.n) %>\n      action: bench.noop x=<% $.x %>\n")
        doc += ("std_items:\n  input: [n]\n  tasks:\n    each:\n"
                "      with-items: x in <% range(0, $.n) %>\n      action: std.echo output=<% $.x %>\n")
        doc += chain("ext_chain", "bench.noop x=%d", a.chain)
        doc += chain("std_chain", "std.echo output=%d", a.chain)
        call(base, "POST", "/v2/workflows", doc.encode(), "text/plain")
        run_to_end(base, "ext_items", {"n": 100})  # warm-up
        print("worker_api_bench: %d cores, %d SDK worker processes x concurrency %d (HTTP transport)"
              % (os.cpu_count(), a.workers, a.concurrency))
        ext = run_to_end(base, "ext_items", {"n": a.items})
        std = run_to_end(base, "std_items", {"n": a.items})
        print("with-items of %d: external %.0f actions/s (%.2f s), built-in std.echo %.0f actions/s (%.2f s)"
              % (a.items, a.items / ext, ext, a.items / std, std))
        ext_c = run_to_end(base, "ext_chain")
        std_c = run_to_end(base, "std_chain")
        print("chain of %d tasks: external %.2f ms/task, built-in %.2f ms/task, added %.2f ms per action"
              % (a.chain, 1e3 * ext_c / a.chain, 1e3 * std_c / a.chain, 1e3 * (ext_c - std_c) / a.chain))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
