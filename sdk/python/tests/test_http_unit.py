#!/usr/bin/env python3
"""Unit tests of the HTTP transport against a small in-process fake of bora serve's worker API
(http.server in a thread): poll -> run -> complete, the mapping of handler outcomes, heartbeats of a
long action, release on shutdown, backoff on 503, concurrency, asyncio handlers, 413 and duplicate
completions. Nothing sleeps to wait: the tests wait on the fake's condition variable, on events and
on joins, always with a timeout."""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
import socket
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bora_worker import ActionError, ActionRequest, Worker  # noqa: E402

TIMEOUT = 10.0  # the most any wait below may take before the test fails


class FakeServer:
    """The worker API of the contract (sdk/python/README.md), in memory. Every request is recorded;
    `cond` is notified on each, so tests wait with wait_for()."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: List[Dict[str, Any]] = []  # leases to hand out
        self.polls: List[Tuple[float, Dict[str, Any], Dict[str, str]]] = []
        self.poll_failures = 0  # answer that many polls with 503 first
        self.heartbeats: Dict[str, List[Dict[str, Any]]] = {}
        self.completions: Dict[str, List[Dict[str, Any]]] = {}
        self.releases: List[str] = []
        # lease id -> statuses to answer its completions with, in turn (then 200)
        self.complete_statuses: Dict[str, List[int]] = {}
        self.grants: Dict[str, float] = {}  # lease id -> the most a heartbeat extends it by
        self.heartbeat_statuses: Dict[str, List[int]] = {}  # likewise for heartbeats
        self._next = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, doc = fake.handle(self.path, body, dict(self.headers))
                data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the worker aborted its long poll
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        with self.cond:
            self.pending.clear()
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(TIMEOUT)

    def add(self, action_name: str, input_: Dict[str, Any], **extra: Any) -> str:
        """Queues a lease; returns its id."""
        with self.cond:
            self._next += 1
            lease_id = f"L{self._next}"
            self.pending.append(
                {
                    "lease_id": lease_id,
                    "action_execution_id": f"A{self._next}",
                    "action_name": action_name,
                    "input": input_,
                    "attempt": 1,
                    "execution_id": "E1",
                    "workflow_name": "wf",
                    "task_name": "t",
                    "timeout_s": 0,
                    "expires_in": 30.0,
                    **extra,
                }
            )
            self.grants[lease_id] = float(self.pending[-1]["expires_in"])
            self.cond.notify_all()
            return lease_id

    def wait_for(self, predicate: Callable[[], Any], what: str) -> Any:
        with self.cond:
            value = self.cond.wait_for(predicate, TIMEOUT)
        if not value:
            raise AssertionError(f"timed out waiting for {what}")
        return value

    def handle(self, path: str, body: Dict[str, Any], headers: Dict[str, str]) -> Tuple[int, Any]:
        with self.cond:
            try:
                if path == "/v2/workers/poll":
                    self.polls.append((time.monotonic(), body, headers))
                    self.cond.notify_all()
                    if self.poll_failures > 0:
                        self.poll_failures -= 1
                        return 503, {"faultstring": "not yet"}
                    deadline = time.monotonic() + float(body.get("wait", 0))
                    while not self.pending and time.monotonic() < deadline:
                        self.cond.wait(deadline - time.monotonic())
                    n = int(body.get("max", 0))  # 0: a poll cut short by the worker's abort
                    leases, self.pending = self.pending[:n], self.pending[n:]
                    return 200, {"leases": leases}
                parts = path.split("/")  # /v2/workers/leases/<id>/<verb>
                if len(parts) != 6 or parts[3] != "leases":
                    return 404, {"faultstring": f"no route {path}"}
                lease_id, verb = parts[4], parts[5]
                if verb == "heartbeat":
                    self.heartbeats.setdefault(lease_id, []).append(body)
                    statuses = self.heartbeat_statuses.get(lease_id)
                    if statuses:
                        return statuses.pop(0), {"faultstring": f"lease {lease_id} ran out"}
                    grant = min(float(body.get("extend", 30)), self.grants.get(lease_id, 30.0))
                    return 200, {"lease_id": lease_id, "expires_in": grant}
                if verb == "complete":
                    self.completions.setdefault(lease_id, []).append(body)
                    statuses = self.complete_statuses.get(lease_id)
                    if statuses:
                        status = statuses.pop(0)
                        if status == 200:
                            return 200, {"lease_id": lease_id, "state": body["state"], "duplicate": True}
                        return status, {"faultstring": f"status {status} for {lease_id}"}
                    return 200, {"lease_id": lease_id, "state": body["state"], "duplicate": False}
                if verb == "release":
                    self.releases.append(lease_id)
                    return 200, {"lease_id": lease_id}
                return 404, {"faultstring": f"no verb {verb}"}
            finally:
                self.cond.notify_all()


class DecodeLeaseTest(unittest.TestCase):
    def test_security_context(self) -> None:
        from bora_worker.http import decode_lease

        lease = {"lease_id": "l1", "action_name": "a", "execution_id": "e"}
        self.assertIsNone(decode_lease(lease).security)
        self.assertIsNone(decode_lease(dict(lease, security=None)).security)
        security = {"project_id": "p", "user_id": "u", "auth_token": "t"}
        self.assertEqual(decode_lease(dict(lease, security=security)).security, security)


class HttpWorkerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = FakeServer()
        self.threads: List[Tuple[Worker, threading.Thread]] = []

    def tearDown(self) -> None:
        for worker, thread in self.threads:
            worker.stop()
            thread.join(TIMEOUT)
            self.assertFalse(thread.is_alive(), "the worker did not stop")
        self.server.close()

    def start(self, worker: Worker) -> threading.Thread:
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        self.threads.append((worker, thread))
        return thread

    def worker(self, **kwargs: Any) -> Worker:
        kwargs.setdefault("wait", 5)
        return Worker.http(self.server.url, pool="python", **kwargs)

    def completion(self, lease_id: str, index: int = 0) -> Dict[str, Any]:
        s = self.server
        s.wait_for(lambda: len(s.completions.get(lease_id, [])) > index, f"completion {lease_id}")
        return s.completions[lease_id][index]

    # ---- tests -----------------------------------------------------------------------------------

    def test_poll_run_complete(self) -> None:
        w = self.worker(token="s3cret")

        @w.action("py.reverse", input="text", description="reverses text")
        def reverse(text: str) -> str:
            return text[::-1]

        @w.action("py.greet")
        def greet(name: str, greeting: str = "hello", loud: bool = False) -> str:
            """Greets someone."""
            return f"{greeting} {name}"

        lease = self.server.add("py.reverse", {"text": "abc"})
        self.start(w)
        self.assertEqual(self.completion(lease), {"state": "SUCCESS", "result": "cba"})
        s = self.server
        s.wait_for(lambda: len(s.polls) >= 2, "a second poll")
        _, body, headers = s.polls[0]
        self.assertEqual(body["pool"], "python")
        # The first poll does not wait (its answer confirms the declaration); the next ones do.
        self.assertEqual((body["max"], body["wait"], body["lease"]), (1, 0, 30))
        self.assertEqual(s.polls[1][1]["wait"], 5)
        self.assertRegex(body["worker"], r".+-\d+$")
        self.assertEqual(
            sorted(body["actions"], key=lambda a: a["name"]),
            [
                {"name": "py.greet", "input": "name, greeting='hello', loud=false",
                 "description": "Greets someone."},
                {"name": "py.reverse", "input": "text", "description": "reverses text"},
            ],
        )
        self.assertEqual(headers.get("X-Auth-Token"), "s3cret")
        self.assertEqual(headers.get("Content-Type"), "application/json")

    def test_token_function_is_asked_for_every_request(self) -> None:
        tokens = iter(f"t{i}" for i in range(1000))
        w = self.worker(token=lambda: next(tokens))

        @w.action("py.one")
        def one() -> int:
            return 1

        lease = self.server.add("py.one", {})
        self.start(w)
        self.assertEqual(self.completion(lease), {"state": "SUCCESS", "result": 1})
        s = self.server
        s.wait_for(lambda: len(s.polls) >= 2, "a second poll")
        sent = [headers.get("X-Auth-Token") for _, _, headers in s.polls[:2]]
        self.assertEqual(len(set(sent)), 2, sent)  # a new token each time: the function was called
        self.assertTrue(all(t and t.startswith("t") for t in sent), sent)

    def test_outcomes(self) -> None:
        w = self.worker()

        @w.action("py.request", with_request=True)
        def request(req: ActionRequest, **kwargs: Any) -> Dict[str, Any]:
            return {"lease": req.lease_id, "attempt": req.attempt, "task": req.task_name, "kw": kwargs}

        @w.action("py.raise")
        def boom() -> None:
            raise RuntimeError("boom")

        @w.action("py.raise_empty")
        def boom_empty() -> None:
            raise KeyError()

        @w.action("py.structured")
        def structured() -> None:
            raise ActionError({"code": 42})

        @w.action("py.not_json")
        def not_json() -> Any:
            return {1, 2}

        @w.action("py.nan")
        def nan() -> Any:
            return float("nan")

        @w.action("py.none")
        def none() -> None:
            return None

        s = self.server
        cases: List[Tuple[str, str, Callable[[Any], None]]] = [
            (s.add("py.request", {"a": 1}), "SUCCESS",
             lambda r: self.assertEqual(r, {"lease": "L1", "attempt": 1, "task": "t", "kw": {"a": 1}})),
            (s.add("py.raise", {}), "ERROR", lambda r: self.assertEqual(r, "boom")),
            (s.add("py.raise_empty", {}), "ERROR", lambda r: self.assertEqual(r, "KeyError")),
            (s.add("py.structured", {}), "ERROR", lambda r: self.assertEqual(r, {"code": 42})),
            (s.add("py.not_json", {}), "ERROR", lambda r: self.assertIn("is not JSON", r)),
            (s.add("py.nan", {}), "ERROR", lambda r: self.assertIn("is not JSON", r)),
            (s.add("py.none", {}), "SUCCESS", lambda r: self.assertIsNone(r)),
            (s.add("py.raise", {"wrong": 1}), "ERROR",
             lambda r: self.assertIn("unexpected keyword argument 'wrong'", r)),
            (s.add("py.unknown", {}), "ERROR",
             lambda r: self.assertEqual(r, "Failed to find action [action_name=py.unknown]")),
        ]
        self.start(w)
        for lease, state, check in cases:
            with self.subTest(lease=lease):
                body = self.completion(lease)
                self.assertEqual(body["state"], state)
                check(body["result"])
        self.assertEqual((w.stats["succeeded"], w.stats["failed"]), (2, 7))

    def test_heartbeats_keep_a_long_action(self) -> None:
        w = self.worker(lease=0.6)
        go = threading.Event()

        @w.action("py.long")
        def long_action() -> str:
            if not go.wait(TIMEOUT):
                raise RuntimeError("never released")
            return "done"

        s = self.server
        lease = s.add("py.long", {})
        self.start(w)
        s.wait_for(lambda: len(s.heartbeats.get(lease, [])) >= 2, "2 heartbeats")
        self.assertNotIn(lease, s.completions)
        go.set()
        self.assertEqual(self.completion(lease), {"state": "SUCCESS", "result": "done"})
        self.assertEqual(s.heartbeats[lease][0], {"extend": 0.6})
        self.assertEqual(s.polls[0][1]["lease"], 0.6)
        # No heartbeat after the completion: the heartbeat thread stops with the action.
        count = len(s.heartbeats[lease])
        w.stop()
        self.threads[0][1].join(TIMEOUT)
        self.assertEqual(len(s.heartbeats[lease]), count)

    def test_a_shorter_grant_is_heartbeated_in_time(self) -> None:
        # Asked for 30 s, granted 0.6 s: the heartbeats follow the grant (every 0.2 s).
        w = self.worker(lease=30)
        go = threading.Event()

        @w.action("py.long")
        def long_action() -> str:
            go.wait(TIMEOUT)
            return "done"

        s = self.server
        lease = s.add("py.long", {}, expires_in=0.6)
        self.start(w)
        s.wait_for(lambda: len(s.heartbeats.get(lease, [])) >= 2, "2 heartbeats")
        go.set()
        self.assertEqual(self.completion(lease)["result"], "done")

    def test_a_lost_lease_stops_heartbeats(self) -> None:
        w = self.worker(lease=0.6)
        go = threading.Event()

        @w.action("py.long")
        def long_action() -> str:
            go.wait(TIMEOUT)
            return "late"

        s = self.server
        lease = s.add("py.long", {})
        s.heartbeat_statuses[lease] = [409]
        s.complete_statuses[lease] = [409]
        self.start(w)
        s.wait_for(lambda: s.heartbeats.get(lease), "the refused heartbeat")
        go.set()
        self.assertEqual(self.completion(lease)["result"], "late")  # still tried
        after = s.add("py.long", {})  # the loop goes on; one thread: after the lost one
        self.completion(after)
        self.assertEqual(len(s.heartbeats[lease]), 1)
        self.assertEqual(w.stats["lost"], 1)

    def test_quick_actions_do_not_heartbeat(self) -> None:
        w = self.worker(lease=30)

        @w.action("py.quick")
        def quick() -> int:
            return 1

        lease = self.server.add("py.quick", {})
        self.start(w)
        self.completion(lease)
        self.assertNotIn(lease, self.server.heartbeats)

    def test_shutdown_releases_what_is_left(self) -> None:
        w = self.worker(shutdown_grace=0.2)
        started, block = threading.Event(), threading.Event()

        @w.action("py.stuck")
        def stuck() -> str:
            started.set()
            block.wait(TIMEOUT)
            return "late"

        lease = self.server.add("py.stuck", {})
        thread = self.start(w)
        self.assertTrue(started.wait(TIMEOUT))
        w.stop()
        thread.join(TIMEOUT)
        self.assertFalse(thread.is_alive())
        self.assertEqual(self.server.releases, [lease])
        self.assertEqual(w.stats["released"], 1)
        self.assertNotIn(lease, self.server.completions)
        block.set()

    def test_shutdown_lets_running_actions_finish(self) -> None:
        w = self.worker(shutdown_grace=TIMEOUT)
        started, go = threading.Event(), threading.Event()

        @w.action("py.finishing")
        def finishing() -> str:
            started.set()
            go.wait(TIMEOUT)
            return "finished"

        lease = self.server.add("py.finishing", {})
        thread = self.start(w)
        self.assertTrue(started.wait(TIMEOUT))
        w.stop()  # stops polling; the action is still running
        self.assertTrue(thread.is_alive())
        go.set()
        thread.join(TIMEOUT)
        self.assertFalse(thread.is_alive())
        self.assertEqual(self.server.completions[lease], [{"state": "SUCCESS", "result": "finished"}])
        self.assertEqual(self.server.releases, [])

    def test_stop_ends_a_long_poll_at_once(self) -> None:
        w = self.worker(wait=30)
        thread = self.start(w)
        s = self.server
        s.wait_for(lambda: s.polls, "a poll")
        t0 = time.monotonic()
        w.stop()
        thread.join(TIMEOUT)
        self.assertFalse(thread.is_alive())
        self.assertLess(time.monotonic() - t0, 5.0)

    def test_backoff_on_503(self) -> None:
        s = self.server
        s.poll_failures = 2
        w = self.worker()

        @w.action("py.reverse")
        def reverse(text: str) -> str:
            return text[::-1]

        lease = s.add("py.reverse", {"text": "ab"})
        self.start(w)
        self.assertEqual(self.completion(lease)["result"], "ba")
        self.assertEqual(w.stats["poll_errors"], 2)
        times = [t for t, _, _ in s.polls[:3]]
        gaps = [b - a for a, b in zip(times, times[1:])]
        for gap, expected in zip(gaps, (0.5, 1.0)):  # 0.5 s doubling
            self.assertGreaterEqual(gap, expected * 0.9)
            self.assertLess(gap, expected + 1.0)

    def test_unreachable_server_is_retried(self) -> None:
        # A port with nothing listening: the loop logs, backs off, retries, and still stops.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        seen = threading.Condition()
        failures: List[str] = []

        class Watch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.getMessage().startswith("poll "):
                    with seen:
                        failures.append(record.getMessage())
                        seen.notify_all()

        watch = Watch()
        logging.getLogger("bora_worker").addHandler(watch)
        try:
            w = Worker.http(f"http://127.0.0.1:{port}", pool="python", wait=1)
            thread = self.start(w)
            with seen:
                self.assertTrue(seen.wait_for(lambda: len(failures) >= 2, TIMEOUT))
            self.assertTrue(thread.is_alive())
            self.assertIn("retrying in 1.0 s", failures[1])
        finally:
            logging.getLogger("bora_worker").removeHandler(watch)

    def test_concurrency(self) -> None:
        w = self.worker(concurrency=2)
        barrier = threading.Barrier(2, timeout=TIMEOUT)

        @w.action("py.together")
        def together(n: int) -> int:
            barrier.wait()  # raises BrokenBarrierError unless both run at once
            return n

        s = self.server
        leases = [s.add("py.together", {"n": 1}), s.add("py.together", {"n": 2})]
        self.start(w)
        self.assertEqual([self.completion(x) for x in leases],
                         [{"state": "SUCCESS", "result": 1}, {"state": "SUCCESS", "result": 2}])
        self.assertEqual(s.polls[0][1]["max"], 2)

    def test_no_more_leases_than_free_slots(self) -> None:
        w = self.worker(concurrency=1)
        started, go = threading.Event(), threading.Event()

        @w.action("py.one")
        def one() -> str:
            started.set()
            go.wait(TIMEOUT)
            return "x"

        s = self.server
        first = s.add("py.one", {})
        second = s.add("py.one", {})
        self.start(w)
        self.assertTrue(started.wait(TIMEOUT))
        # One slot: the first poll asked for one lease, so the second is still queued.
        self.assertEqual([lease["lease_id"] for lease in s.pending], [second])
        go.set()
        self.completion(first)
        self.completion(second)
        self.assertTrue(all(body["max"] == 1 for _, body, _ in s.polls))

    def test_asyncio_handlers(self) -> None:
        w = self.worker(concurrency=2)
        loops = []

        @w.action("py.async_pair")
        async def pair(n: int) -> int:
            # Both coroutines must be in flight on the same loop for the second to set the event.
            loops.append(asyncio.get_running_loop())
            if not ready:  # made on the worker's loop (Python 3.9 binds an Event at creation)
                ready.append(asyncio.Event())
            if len(loops) == 2:
                ready[0].set()
            await asyncio.wait_for(ready[0].wait(), TIMEOUT)
            await asyncio.sleep(0)
            return n * 10

        @w.action("py.async_fail")
        async def fail() -> None:
            await asyncio.sleep(0)
            raise ActionError("async no")

        ready: List[asyncio.Event] = []
        s = self.server
        leases = [s.add("py.async_pair", {"n": 1}), s.add("py.async_pair", {"n": 2})]
        self.start(w)
        self.assertEqual([self.completion(x)["result"] for x in leases], [10, 20])
        self.assertIs(loops[0], loops[1])
        self.assertEqual(self.completion(s.add("py.async_fail", {})),
                         {"state": "ERROR", "result": "async no"})

    def test_413_fails_the_action_with_a_short_message(self) -> None:
        w = self.worker()

        @w.action("py.big")
        def big() -> str:
            return "x" * 100_000

        s = self.server
        lease = s.add("py.big", {})
        s.complete_statuses[lease] = [413]
        self.start(w)
        second = self.completion(lease, 1)
        self.assertEqual(second["state"], "ERROR")
        self.assertIn("too large", second["result"])
        self.assertIn("413", second["result"])
        self.assertEqual(len(s.completions[lease][0]["result"]), 100_000)

    def test_duplicate_and_lost_completions_are_not_errors(self) -> None:
        w = self.worker()

        @w.action("py.ok")
        def ok() -> str:
            return "ok"

        s = self.server
        dup, lost = s.add("py.ok", {}), s.add("py.ok", {})
        s.complete_statuses[dup] = [200]  # the fake answers duplicate: true
        s.complete_statuses[lost] = [409]
        self.start(w)
        self.completion(dup)
        self.completion(lost)
        ok_lease = s.add("py.ok", {})  # the loop goes on (one thread: after the two above)
        self.assertEqual(self.completion(ok_lease)["result"], "ok")
        self.assertEqual((w.stats["duplicates"], w.stats["lost"]), (1, 1))


if __name__ == "__main__":
    unittest.main()
