#!/usr/bin/env python3
"""Unit tests of the Python SDK without Kafka: message decoding and encoding, handler results and
errors."""

import json
import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bora_worker import (  # noqa: E402
    ActionError,
    BadMessage,
    Worker,
    actions_topic,
    decode_run_action,
    encode_action_completed,
    events_topic,
)

GOOD = {
    "schema_version": 1,
    "type": "RunAction",
    "execution_id": "e1",
    "workflow_name": "wf",
    "task_execution_id": "t1",
    "task_name": "task",
    "action_execution_id": "a1",
    "action_name": "py.reverse",
    "input": {"text": "abc"},
    "target": "python",
    "timeout_s": 0,
    "safe_rerun": False,
    "is_async": False,
    "attempt": 1,
}


def encode(doc):
    return json.dumps(doc).encode()


def with_(**changes):
    doc = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            del doc[k]
        else:
            doc[k] = v
    return encode(doc)


class DecodeTest(unittest.TestCase):
    def test_good(self):
        req = decode_run_action(encode(GOOD))
        self.assertEqual(
            (req.execution_id, req.action_name, req.input, req.attempt, req.target),
            ("e1", "py.reverse", {"text": "abc"}, 1, "python"),
        )

    def test_optional_fields_default(self):
        req = decode_run_action(with_(workflow_name=..., task_name=..., target=..., attempt=...))
        self.assertEqual(
            (req.workflow_name, req.task_name, req.target, req.attempt), ("", "", "", 0)
        )

    def test_security_context(self):
        self.assertIsNone(decode_run_action(encode(GOOD)).security)
        security = {"project_id": "p", "user_id": "u", "auth_token": "t"}
        self.assertEqual(decode_run_action(with_(security=security)).security, security)
        with self.assertRaises(BadMessage):
            decode_run_action(with_(security="t"))

    def test_bad_messages(self):
        cases = [
            (None, "empty"),
            (b"not json", "not JSON"),
            (b"\xff\xfe", "not JSON"),
            (b"[1]", "not a JSON object"),
            (with_(schema_version=...), "schema_version"),
            (with_(schema_version="1"), "schema_version"),
            (with_(schema_version=True), "schema_version"),
            (with_(schema_version=2), "unsupported schema_version 2"),
            (with_(type="ActionCompleted"), "type must be 'RunAction'"),
            (with_(execution_id=...), "missing field 'execution_id'"),
            (with_(action_name=7), "field 'action_name' must be str"),
            (with_(input=[1]), "field 'input' must be dict"),
            (with_(attempt=True), "field 'attempt' must be int"),
            (with_(is_async=1), "field 'is_async' must be bool"),
            (with_(action_execution_id=""), "must not be empty"),
            (b" " * (8 << 20) + b"{}", "byte limit"),
        ]
        for value, message in cases:
            with self.subTest(message=message, value=value[:40] if value else value):
                with self.assertRaises(BadMessage) as ctx:
                    decode_run_action(value)
                self.assertIn(message, str(ctx.exception))


class EncodeTest(unittest.TestCase):
    def test_action_completed(self):
        req = decode_run_action(encode(GOOD))
        doc = json.loads(encode_action_completed(req, "success", {"x": [1, "é"]}))
        self.assertEqual(
            doc,
            {
                "schema_version": 1,
                "type": "ActionCompleted",
                "execution_id": "e1",
                "task_execution_id": "t1",
                "action_execution_id": "a1",
                "result": "success",
                "data": {"x": [1, "é"]},
            },
        )

    def test_rejects_non_json(self):
        req = decode_run_action(encode(GOOD))
        for data in (float("nan"), object(), {1j: 2}):
            with self.subTest(data=repr(data)), self.assertRaises((TypeError, ValueError)):
                encode_action_completed(req, "success", data)
        with self.assertRaises(ValueError):
            encode_action_completed(req, "maybe", None)

    def test_topics(self):
        self.assertEqual(events_topic("p."), "p.bora.events")
        self.assertEqual(actions_topic("python", "p."), "p.bora.actions.python")
        self.assertEqual(actions_topic(""), "bora.actions.default")


class RunTest(unittest.TestCase):
    """Worker._run: a handler's outcome as the ActionCompleted it publishes (no Kafka involved)."""

    def setUp(self):
        self.worker = Worker("unused:9092", pool="python", prefix="p.")
        w = self.worker

        @w.action("py.reverse")
        def reverse(text):
            return text[::-1]

        @w.action("py.request", with_request=True)
        def request(req, **kwargs):
            return {"task": req.task_name, "attempt": req.attempt, "kwargs": kwargs}

        @w.action("py.raise")
        def boom(text):
            raise RuntimeError("boom " + text)

        @w.action("py.raise_empty")
        def boom_empty(text):
            raise KeyError()

        @w.action("py.structured")
        def structured(text):
            raise ActionError({"code": 42})

        @w.action("py.not_json")
        def not_json(text):
            return {1, 2}

        @w.action("py.infinity")
        def infinity(text):
            return {"x": float("inf")}

        @w.action("py.huge")
        def huge(text):
            return "x" * (8 << 20)

        @w.action("py.async")
        async def async_reverse(text):
            return text[::-1]

    def run_action(self, name, **input_):
        req = decode_run_action(with_(action_name=name, input=input_))
        doc = json.loads(self.worker._run(req))
        return doc["result"], doc["data"]

    def test_outcomes(self):
        cases = [
            ("py.reverse", {"text": "abc"}, ("success", "cba")),
            (
                "py.request",
                {"a": 1},
                ("success", {"task": "task", "attempt": 1, "kwargs": {"a": 1}}),
            ),
            ("py.raise", {"text": "x"}, ("error", "boom x")),
            ("py.raise_empty", {"text": "x"}, ("error", "KeyError")),
            ("py.structured", {"text": "x"}, ("error", {"code": 42})),
            ("py.unknown", {}, ("error", "Failed to find action [action_name=py.unknown]")),
            ("py.async", {"text": "abc"}, ("success", "cba")),
        ]
        for name, input_, expected in cases:
            with self.subTest(name=name):
                self.assertEqual(self.run_action(name, **input_), expected)

    def test_bad_input_and_result_are_errors(self):
        result, data = self.run_action("py.reverse", wrong=1)
        self.assertEqual(result, "error")
        self.assertIn("unexpected keyword argument 'wrong'", data)
        result, data = self.run_action("py.not_json", text="x")
        self.assertEqual(result, "error")
        self.assertIn("is not JSON", data)
        self.assertEqual(self.worker.stats["failed"], 2)

    def test_results_the_bus_cannot_carry_are_errors(self):
        result, data = self.run_action("py.infinity", text="x")
        self.assertEqual(result, "error")
        self.assertIn("is not JSON", data)
        result, data = self.run_action("py.huge", text="x")
        self.assertEqual(result, "error")
        self.assertIn("more than the bus message limit of 8388608 bytes", data)

    def test_names(self):
        self.assertEqual(self.worker.group, "p.bora-workers.python")
        self.assertEqual(self.worker.topic, "p.bora.actions.python")
        self.assertIn("py.reverse", self.worker.actions())
        with self.assertRaises(ValueError):
            Worker("", pool="python")



class RunnerTimeoutTest(unittest.TestCase):
    """timeout_s is enforced: the action fails when it passes; an async handler is cancelled, a
    sync one sees request.cancelled and keeps its slot until it returns."""

    def request(self, name, timeout_s):
        from bora_worker.types import ActionRequest

        return ActionRequest(execution_id="e", task_execution_id="t", action_execution_id="a1",
                             action_name=name, input={}, timeout_s=timeout_s)

    def test_sync_and_async_handlers_time_out(self):
        import asyncio
        import threading

        from bora_worker.runner import Runner

        runner = Runner(concurrency=1)
        returned = threading.Event()
        cancelled_async = threading.Event()

        def slow_sync(req):
            req.cancelled.wait()  # until the SDK says the time is up
            returned.set()
            return "late"

        async def slow_async():
            try:
                await asyncio.Event().wait()  # forever, unless cancelled
            finally:
                cancelled_async.set()

        def quick():
            return "in time"

        runner.register("py.slow_sync", slow_sync, with_request=True)
        runner.register("py.slow_async", slow_async)
        runner.register("py.quick", quick)
        runner.start()
        try:
            out = runner.run_now(self.request("py.slow_sync", 1))
            self.assertEqual((out.state, out.data),
                             ("ERROR", "action py.slow_sync timed out after 1 s (timeout_s)"))
            self.assertTrue(returned.wait(10), "the sync handler never saw request.cancelled")
            out = runner.run_now(self.request("py.slow_async", 1))
            self.assertEqual((out.state, out.data),
                             ("ERROR", "action py.slow_async timed out after 1 s (timeout_s)"))
            self.assertTrue(cancelled_async.wait(10), "the coroutine was not cancelled")
            out = runner.run_now(self.request("py.quick", 5))
            self.assertEqual((out.state, out.data), ("SUCCESS", "in time"))
            # Through submit(): the slot is held until the late sync handler returns.
            done = threading.Event()
            results = []
            returned.clear()
            runner.submit(self.request("py.slow_sync", 1),
                          lambda req, outcome: (results.append(outcome.state), done.set()))
            self.assertTrue(done.wait(10))
            self.assertEqual(results, ["ERROR"])
            self.assertTrue(runner.wait_idle(10))
            self.assertTrue(returned.is_set())
        finally:
            runner.close()

if __name__ == "__main__":
    unittest.main()
