#!/usr/bin/env python3
"""End to end: Python actions run by the SDK's HTTP transport against a real `bora serve`.

Usage: test_http_e2e.py BORA_BIN embedded|distributed
  embedded:    bora serve --in-memory --port 0 --port-file F
  distributed: bora serve --kafka $BORA_KAFKA --redis $BORA_REDIS --partitions 4 --prefix sdk<random>.
               --port 0 --port-file F   (fails without BORA_KAFKA / BORA_REDIS)

Checks, through the REST API:
  - a worker (Worker.http, in a thread) declares py.reverse on its polls, so it appears in
    GET /v2/actions; a workflow using `action: py.reverse text=<% $.text %>` (no target) succeeds
    with the reversed text as its output (the end is awaited on the execution's SSE stream);
  - a worker killed (-9) while its action runs: with a 2 s lease the action goes back to the queue
    and a second worker runs it; the task succeeds once;
  - a 10 s action under a 2 s lease is kept alive by heartbeats (not run twice);
  - the worker API's answers to bad requests: unknown lease 404, the same completion twice 200 then
    200 duplicate, a different completion 409, a result over the limit 413;
  - POST /v2/action_executions runs a declared action directly (run_sync, and save_result in the
    background);
  - a task whose action no worker has declared yet waits (DELAYED, saying so) and runs once a
    worker declares it.

`test_http_e2e.py --worker URL POOL LEASE MODE` is the worker subprocess of the kill test (MODE
block: prints STARTED and never finishes; MODE run: prints RAN and returns its pid).
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bora_worker import Worker  # noqa: E402

BORA: str = ""
MODE: str = ""
DEADLINE_S = 90.0

WORKFLOWS = """\
version: '2.0'

sdk_reverse_wf:
  input:
    - text
  tasks:
    reverse:
      action: py.reverse text=<% $.text %>
      publish:
        reversed: <% task().result %>
  output:
    reversed: <% $.reversed %>

sdk_long_wf:
  tasks:
    long:
      action: py.long seconds=10
      publish:
        out: <% task().result %>
  output:
    out: <% $.out %>

sdk_kill_wf:
  tasks:
    once:
      action: py.once
      publish:
        out: <% task().result %>
  output:
    out: <% $.out %>

sdk_late_wf:
  tasks:
    late:
      action: py.late
      publish:
        out: <% task().result %>
  output:
    out: <% $.out %>

sdk_raw_wf:
  input:
    - n
  tasks:
    raw:
      action: py.raw n=<% $.n %>
"""


# ---- the worker subprocess (kill test) -----------------------------------------------------------


def worker_main(url: str, pool: str, lease: float, mode: str) -> None:
    logging.basicConfig(level=logging.WARNING)
    worker = Worker.http(url, pool=pool, lease=lease, wait=2, shutdown_grace=0)

    @worker.action("py.once")
    def once() -> str:
        if mode == "block":
            print("STARTED", flush=True)
            threading.Event().wait()  # until kill -9
        print("RAN", flush=True)
        return f"ran by {os.getpid()}"

    worker.run()


# ---- helpers -------------------------------------------------------------------------------------


class Server:
    """`bora serve` on an ephemeral port, its output in a log file."""

    def __init__(self, tmp: str, name: str = "serve", extra: Optional[List[str]] = None) -> None:
        port_file = os.path.join(tmp, name + ".port")
        self.log_path = os.path.join(tmp, name + ".log")
        args = [BORA, "serve", "--port", "0", "--port-file", port_file, "--log-level", "warn"]
        args += extra or []
        if MODE == "distributed":
            kafka, redis = os.environ.get("BORA_KAFKA"), os.environ.get("BORA_REDIS")
            if not kafka or not redis:
                raise SystemExit("FAIL: distributed mode needs BORA_KAFKA and BORA_REDIS")
            prefix = f"sdk{uuid.uuid4().hex[:8]}."
            args += ["--kafka", kafka, "--redis", redis, "--partitions", "4", "--prefix", prefix]
        else:
            args += ["--in-memory"]
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while not text:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bora serve exited {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no port file from bora serve:\n{self.tail()}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
            except FileNotFoundError:
                pass
            if not text:
                # The port file has no event to wait on; the process's exit would end this at once.
                try:
                    self.proc.wait(0.05)
                except subprocess.TimeoutExpired:
                    pass
        self.url = f"http://127.0.0.1:{int(text)}"

    def tail(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def call(
    base: str, method: str, path: str, body: Any = None, content_type: str = "application/json",
    timeout: float = 60.0, token: Optional[str] = None,
) -> Tuple[int, Any]:
    data: Optional[bytes] = None
    if body is not None:
        text = body if isinstance(body, (bytes, str)) else json.dumps(body)
        data = text.encode() if isinstance(text, str) else text
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw, status = resp.read().decode(), resp.status
    except urllib.error.HTTPError as e:
        raw, status = e.read().decode(), e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


def read_stream_to_end(base: str, execution_id: str) -> List[str]:
    """Reads GET /v2/executions/{id}/stream until `event: end`; returns the event names."""
    req = urllib.request.Request(f"{base}/v2/executions/{execution_id}/stream")
    events: List[str] = []
    with urllib.request.urlopen(req, timeout=DEADLINE_S) as resp:
        for raw in resp:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                events.append(line[6:].strip())
                if events[-1] in ("end", "gone"):
                    return events
    raise AssertionError(f"the stream of {execution_id} ended without `event: end`: {events}")


class ReadLines:
    """A subprocess's stdout lines, read by a thread; wait_for(line) blocks until it came."""

    def __init__(self, proc: "subprocess.Popen[str]") -> None:
        self.cond = threading.Condition()
        self.lines: List[str] = []
        self.closed = False
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self.cond:
                self.lines.append(line.strip())
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, line: str) -> None:
        with self.cond:
            self.cond.wait_for(lambda: line in self.lines or self.closed, DEADLINE_S)
            if line not in self.lines:
                raise AssertionError(f"the worker never printed {line} (got {self.lines})")


# ---- the tests -----------------------------------------------------------------------------------


class HttpE2ETest(unittest.TestCase):
    server: Server
    tmp: "tempfile.TemporaryDirectory[str]"
    worker: Worker
    worker_thread: threading.Thread

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory(prefix="bora-sdk-e2e-")
        cls.server = Server(cls.tmp.name)
        try:
            cls.start_worker()
        except BaseException:
            cls.server.stop()  # tearDownClass does not run when setUpClass fails
            raise

    @classmethod
    def start_worker(cls) -> None:
        worker = Worker.http(cls.server.url, pool="python", lease=2, wait=5, concurrency=4)

        @worker.action("py.reverse", input="text", description="reverses text")
        def reverse(text: str) -> str:
            return text[::-1]

        @worker.action("py.long")
        def long_action(seconds: float) -> str:
            time.sleep(seconds)  # the action's own work: ten seconds of it
            return f"slept {seconds}"

        # Declared before the workers start, so the workflows can be created at once.
        cls.declare("python", worker.declarations())
        cls.declare("killtest", [{"name": "py.once", "input": "", "description": ""}])
        cls.declare("raw", [{"name": "py.raw", "input": "n", "description": "leased by hand"}])
        status, reply = call(cls.server.url, "POST", "/v2/workflows", WORKFLOWS, "text/plain")
        if status != 201:
            raise AssertionError(f"POST /v2/workflows: {status} {reply}\n{cls.server.tail()}")
        cls.worker = worker
        cls.worker_thread = threading.Thread(target=worker.run, daemon=True)
        cls.worker_thread.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.worker.stop()
        cls.worker_thread.join(30)
        cls.server.stop()
        if cls.worker_thread.is_alive():
            raise AssertionError("the worker did not stop")
        cls.tmp.cleanup()

    @classmethod
    def declare(cls, pool: str, actions: List[Dict[str, str]]) -> None:
        """Declares `actions` for `pool` with a poll of our own (wait 0, nothing is queued yet):
        once it answered, the server knows them, with no waiting on a worker thread's timing."""
        body = {"worker": "e2e-declare", "pool": pool, "actions": actions, "max": 1, "wait": 0,
                "lease": 30}
        status, reply = call(cls.server.url, "POST", "/v2/workers/poll", body)
        if status != 200 or reply.get("leases"):
            raise AssertionError(f"declaring {actions}: {status} {reply}\n{cls.server.tail()}")

    def ok(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, reply = call(self.server.url, method, path, body)
        self.assertEqual(status, expect, f"{method} {path} -> {status} {reply}")
        return reply

    def run_workflow(self, name: str, input_: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        ex = self.ok("POST", "/v2/executions", {"workflow_name": name, "input": input_ or {}}, 201)
        events = read_stream_to_end(self.server.url, ex["id"])
        self.assertEqual(events[-1], "end", events)
        done: Dict[str, Any] = self.ok("GET", f"/v2/executions/{ex['id']}")
        return done

    def tasks(self, execution_id: str) -> List[Dict[str, Any]]:
        tasks: List[Dict[str, Any]] = self.ok("GET", f"/v2/executions/{execution_id}/tasks")["tasks"]
        return tasks

    # ---- tests -----------------------------------------------------------------------------------

    def test_1_reverse(self) -> None:
        done = self.run_workflow("sdk_reverse_wf", {"text": "hello bora"})
        self.assertEqual(done["state"], "SUCCESS", done.get("state_info"))
        self.assertEqual(json.loads(done["output"]), {"reversed": "arob olleh"})
        actions = {a["name"]: a for a in self.ok("GET", "/v2/actions?limit=1000")["actions"]}
        self.assertEqual(actions["py.reverse"].get("input"), "text")
        self.assertGreaterEqual(self.worker.stats["completed"], 1)

    def test_1b_direct_run(self) -> None:
        """POST /v2/action_executions runs a declared action in the pool's workers, outside any
        workflow: synchronously, and (save_result) in the background with the stored record updated."""
        run = self.ok("POST", "/v2/action_executions",
                      {"name": "py.reverse", "input": {"text": "direct"},
                       "params": {"run_sync": True}}, 201)
        self.assertEqual(run["state"], "SUCCESS", run)
        self.assertEqual(json.loads(run["output"]), {"result": "tcerid"})
        bad = call(self.server.url, "POST", "/v2/action_executions",
                   {"name": "py.reverse", "input": {"txt": "x"}, "params": {"run_sync": True}})
        self.assertEqual(bad[0], 400, bad)
        saved = self.ok("POST", "/v2/action_executions",
                        {"name": "py.reverse", "input": {"text": "later"},
                         "params": {"save_result": True}}, 201)
        self.assertIn(saved["state"], ("RUNNING", "SUCCESS"), saved)
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            got = self.ok("GET", f"/v2/action_executions/{saved['id']}")
            if got["state"] != "RUNNING":
                break
            time.sleep(0.05)  # polling the stored record, bounded by the deadline
        self.assertEqual(got["state"], "SUCCESS", got)
        self.assertEqual(json.loads(got["output"]), {"result": "retal"})
        # py.raw's pool has no worker running: the caller's wait ends with the request taken back.
        none = self.ok("POST", "/v2/action_executions",
                       {"name": "py.raw", "input": {"n": 0},
                        "params": {"run_sync": True, "timeout": 1}}, 201)
        self.assertEqual(none["state"], "ERROR", none)
        self.assertIn("no worker of pool 'raw' took action py.raw within 1 s", none["state_info"])

    def test_2_heartbeats_keep_a_long_action(self) -> None:
        before = dict(self.worker.stats)
        done = self.run_workflow("sdk_long_wf")
        self.assertEqual(done["state"], "SUCCESS", done.get("state_info"))
        self.assertEqual(json.loads(done["output"]), {"out": "slept 10"})
        after = self.worker.stats
        # Every 2/3 s for 10 s: about 15; fewer than 10 would mean the lease was not kept up.
        self.assertGreaterEqual(after["heartbeats"] - before["heartbeats"], 10)
        self.assertEqual(after["lost"], before["lost"])
        self.assertEqual(after["leases"] - before["leases"], 1)  # never handed to us again

    def test_3_killed_worker(self) -> None:
        procs: "List[subprocess.Popen[str]]" = []

        def spawn(mode: str) -> "Tuple[subprocess.Popen[str], ReadLines]":
            proc = subprocess.Popen(
                [sys.executable, __file__, "--worker", self.server.url, "killtest", "2", mode],
                stdout=subprocess.PIPE, text=True,
            )
            procs.append(proc)
            return proc, ReadLines(proc)

        try:
            first, first_out = spawn("block")
            ex = self.ok("POST", "/v2/executions", {"workflow_name": "sdk_kill_wf"}, 201)
            first_out.wait_for("STARTED")
            first.send_signal(signal.SIGKILL)
            first.wait(30)
            second, second_out = spawn("run")
            events = read_stream_to_end(self.server.url, ex["id"])
            self.assertEqual(events[-1], "end")
            done = self.ok("GET", f"/v2/executions/{ex['id']}")
            self.assertEqual(done["state"], "SUCCESS", done.get("state_info"))
            self.assertEqual(json.loads(done["output"]), {"out": f"ran by {second.pid}"})
            tasks = self.tasks(ex["id"])
            self.assertEqual([t["state"] for t in tasks], ["SUCCESS"])
            second.send_signal(signal.SIGTERM)
            second.wait(30)
            second_out.thread.join(30)
            self.assertEqual(second_out.lines.count("RAN"), 1, second_out.lines)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()

    def raw_lease(self, n: int) -> Dict[str, Any]:
        """Starts sdk_raw_wf and leases its py.raw by hand (pool raw)."""
        body = {"worker": "e2e-raw", "pool": "raw", "max": 1, "wait": 5, "lease": 60,
                "actions": [{"name": "py.raw", "input": "n", "description": "leased by hand"}]}
        ex = self.ok("POST", "/v2/executions", {"workflow_name": "sdk_raw_wf", "input": {"n": n}}, 201)
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            leases = self.ok("POST", "/v2/workers/poll", body)["leases"]
            if leases:
                lease: Dict[str, Any] = leases[0]
                self.assertEqual(lease["action_name"], "py.raw")
                self.assertEqual(lease["input"], {"n": n})
                self.assertEqual(lease["execution_id"], ex["id"])
                return lease
        raise AssertionError("py.raw was never leased")

    def test_4_bad_requests(self) -> None:
        url = self.server.url
        for verb in ("heartbeat", "complete", "release"):
            body: Dict[str, Any] = {"state": "SUCCESS", "result": 1} if verb == "complete" else {}
            status, reply = call(url, "POST", f"/v2/workers/leases/no-such-lease/{verb}", body)
            self.assertEqual(status, 404, f"{verb}: {reply}")
            self.assertIn("faultstring", reply)

        lease = self.raw_lease(1)
        path = f"/v2/workers/leases/{lease['lease_id']}"
        beat = self.ok("POST", path + "/heartbeat", {"extend": 30})
        self.assertEqual(beat["lease_id"], lease["lease_id"])
        first = self.ok("POST", path + "/complete", {"state": "SUCCESS", "result": {"n": 1}})
        self.assertEqual((first["state"], first["duplicate"]), ("SUCCESS", False))
        again = self.ok("POST", path + "/complete", {"state": "SUCCESS", "result": {"n": 1}})
        self.assertEqual(again["duplicate"], True)
        status, reply = call(url, "POST", path + "/complete", {"state": "ERROR", "result": "no"})
        self.assertEqual(status, 409, reply)

        lease = self.raw_lease(2)
        path = f"/v2/workers/leases/{lease['lease_id']}"
        status, reply = call(url, "POST", path + "/complete",
                             {"state": "SUCCESS", "result": "x" * (2 << 20)})
        self.assertEqual(status, 413, str(reply)[:300])
        # The lease is still the worker's: a short error completes it.
        self.ok("POST", path + "/complete", {"state": "ERROR", "result": "too large"})

    def test_5_token(self) -> None:
        """A server that wants a token: polls without it fail (401, retried), with it work."""
        token_file = os.path.join(self.tmp.name, "token")
        with open(token_file, "w") as f:
            f.write("s3cret-sdk\n")
        server = Server(self.tmp.name, "token", ["--auth-token-file", token_file])
        workers: List[Tuple[Worker, threading.Thread]] = []
        try:
            seen = threading.Condition()
            failures: List[str] = []

            class Watch(logging.Handler):
                def emit(self, record: logging.LogRecord) -> None:
                    if record.getMessage().startswith("poll ") and "401" in record.getMessage():
                        with seen:
                            failures.append(record.getMessage())
                            seen.notify_all()

            watch = Watch()
            logging.getLogger("bora_worker").addHandler(watch)
            try:
                wrong = Worker.http(server.url, pool="python", token="wrong", wait=1)
                workers.append((wrong, threading.Thread(target=wrong.run, daemon=True)))
                workers[-1][1].start()
                with seen:
                    self.assertTrue(seen.wait_for(lambda: failures, DEADLINE_S), "no 401")
            finally:
                logging.getLogger("bora_worker").removeHandler(watch)

            right = Worker.http(server.url, pool="python", token="s3cret-sdk", wait=5)

            @right.action("py.reverse")
            def reverse(text: str) -> str:
                return text[::-1]

            body = {"worker": "e2e-declare", "pool": "python", "actions": right.declarations(),
                    "max": 1, "wait": 0, "lease": 30}
            status, reply = call(server.url, "POST", "/v2/workers/poll", body, token="s3cret-sdk")
            self.assertEqual(status, 200, reply)
            status, reply = call(server.url, "POST", "/v2/workflows", WORKFLOWS, "text/plain",
                                 token="s3cret-sdk")
            self.assertEqual(status, 201, reply)
            workers.append((right, threading.Thread(target=right.run, daemon=True)))
            workers[-1][1].start()
            status, ex = call(server.url, "POST", "/v2/executions",
                              {"workflow_name": "sdk_reverse_wf", "input": {"text": "abc"}},
                              token="s3cret-sdk")
            self.assertEqual(status, 201, ex)
            req = urllib.request.Request(f"{server.url}/v2/executions/{ex['id']}/stream",
                                         headers={"X-Auth-Token": "s3cret-sdk"})
            with urllib.request.urlopen(req, timeout=DEADLINE_S) as resp:
                for raw in resp:
                    if raw.decode().startswith("event: end"):
                        break
            status, done = call(server.url, "GET", f"/v2/executions/{ex['id']}", token="s3cret-sdk")
            self.assertEqual(done["state"], "SUCCESS", done.get("state_info"))
            self.assertEqual(json.loads(done["output"]), {"reversed": "cba"})
            self.assertEqual(right.stats["poll_errors"], 0)
        finally:
            for worker, thread in workers:
                worker.stop()
                thread.join(30)
            server.stop()

    def test_6_undeclared_action_waits(self) -> None:
        """py.late is declared by no one when its task starts: the task waits, saying so, and runs
        once a worker (pool late) declares it."""
        ex = self.ok("POST", "/v2/executions", {"workflow_name": "sdk_late_wf", "input": {}}, 201)
        deadline = time.monotonic() + DEADLINE_S
        waiting: Optional[Dict[str, Any]] = None
        while waiting is None and time.monotonic() < deadline:
            for t in self.tasks(ex["id"]):
                if t["state"] == "DELAYED":
                    waiting = t
            if waiting is None:
                time.sleep(0.05)  # polling the API for the task to appear, bounded by the deadline
        self.assertIsNotNone(waiting, self.tasks(ex["id"]))
        assert waiting is not None
        self.assertIn("Waiting for a worker to declare action 'py.late'", waiting["state_info"])
        self.assertEqual(self.ok("GET", f"/v2/executions/{ex['id']}")["state"], "RUNNING")

        late = Worker.http(self.server.url, pool="late", wait=5)

        @late.action("py.late")
        def late_action() -> str:
            return "finally"

        thread = threading.Thread(target=late.run, daemon=True)
        thread.start()
        try:
            events = read_stream_to_end(self.server.url, ex["id"])
            self.assertEqual(events[-1], "end", events)
            done = self.ok("GET", f"/v2/executions/{ex['id']}")
            self.assertEqual(done["state"], "SUCCESS", done.get("state_info"))
            self.assertEqual(json.loads(done["output"]), {"out": "finally"})
            (task,) = self.tasks(ex["id"])
            self.assertEqual(task["state"], "SUCCESS")
            self.assertFalse(task.get("state_info"), task)
        finally:
            late.stop()
            thread.join(30)


def main() -> None:
    global BORA, MODE
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5])
        return
    if len(sys.argv) < 3 or sys.argv[2] not in ("embedded", "distributed"):
        raise SystemExit("usage: test_http_e2e.py BORA_BIN embedded|distributed")
    BORA, MODE = sys.argv[1], sys.argv[2]
    logging.basicConfig(level=logging.WARNING)
    unittest.main(argv=[sys.argv[0], "-v"])


if __name__ == "__main__":
    main()
