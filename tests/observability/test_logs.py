#!/usr/bin/env python3
"""The logs of a real `bora serve` (issue 20, "Logs"): the access line of POST /v2/executions with the
request id the client sent, and the execution lifecycle lines (finished SUCCESS with a duration, failed
naming the task and its reason), in JSON lines and in text. Usage: test_logs.py <bora binary>.

Each server's stderr is read by a thread as it comes; a check waits for its line until a deadline (no sleeps).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

BORA = sys.argv[1] if len(sys.argv) > 1 else "build/cli/bora"
DEADLINE_S = 60

WORKFLOWS = """version: '2.0'
logs_ok:
  tasks:
    hello:
      action: std.echo output=hi
logs_bad:
  tasks:
    boom:
      action: std.fail error_data="disk on fire"
"""


class Server:
    """`bora serve --in-memory` on an ephemeral port, its stderr collected line by line."""

    def __init__(self, tmp, log_format):
        port_file = os.path.join(tmp, log_format + ".port")
        self.proc = subprocess.Popen(
            [BORA, "serve", "--in-memory", "--port", "0", "--port-file", port_file,
             "--log-format", log_format],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        # The port file is written before this line (cli/serve_command.cc), so it is there once it shows.
        self.wait_line(lambda l: "bora serve (embedded, in memory): REST API on" in l, "the start line")
        with open(port_file) as f:
            self.base = "http://127.0.0.1:%d" % int(f.read().strip())

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of the stream
            self.cond.notify_all()

    def wait_line(self, predicate, what):
        """The first line for which predicate(line) holds, waiting up to DEADLINE_S."""
        deadline = time.monotonic() + DEADLINE_S
        with self.cond:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if line is None:
                        raise AssertionError("bora exited (%s) before %s:\n%s" % (
                            self.proc.poll(), what, "\n".join(l for l in self.lines if l)))
                    if predicate(line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no line for %s within %d s:\n%s" % (
                        what, DEADLINE_S, "\n".join(l for l in self.lines if l)))
                self.cond.wait(left)

    def call(self, method, path, body=None, content_type="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=30)
        self.proc.stderr.close()


def json_lines_where(server, what, **fields):
    """Waits for a JSON log line having every field of `fields` (values compared exactly)."""
    def matches(line):
        try:
            obj = json.loads(line)
        except ValueError:
            return False
        return all(obj.get(k) == v for k, v in fields.items())
    return json.loads(server.wait_line(matches, what))


class LogsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def start(self, log_format):
        server = Server(self.tmp.name, log_format)
        self.addCleanup(server.stop)
        status, _, _ = server.call("POST", "/v2/workflows", WORKFLOWS, "text/plain")
        self.assertEqual(status, 201)
        return server

    def run_both(self, server, request_id):
        status, headers, ok = server.call("POST", "/v2/executions",
                                          json.dumps({"workflow_name": "logs_ok"}),
                                          headers={"X-Request-Id": request_id})
        self.assertEqual(status, 201)
        self.assertEqual(headers.get("X-Request-Id"), request_id)
        _, headers, bad = server.call("POST", "/v2/executions", json.dumps({"workflow_name": "logs_bad"}))
        generated = headers.get("X-Request-Id", "")
        self.assertRegex(generated, r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        return ok["id"], bad["id"], generated

    def test_json_lines(self):
        server = self.start("json")
        ok_id, bad_id, generated = self.run_both(server, "logs-json-1")

        access = json_lines_where(server, "the access line", msg="access", request_id="logs-json-1")
        self.assertEqual(access["level"], "info")
        self.assertEqual(access["method"], "POST")
        self.assertEqual(access["path"], "/v2/executions")
        self.assertEqual(access["status"], 201)
        self.assertIsInstance(access["bytes"], int)
        self.assertGreater(access["bytes"], 0)
        self.assertIsInstance(access["duration_ms"], (int, float))
        self.assertRegex(access["remote"], r"^127\.0\.0\.1:\d+$")
        json_lines_where(server, "the generated id's access line", msg="access", request_id=generated)

        started = json_lines_where(server, "execution started", msg="execution started", id=ok_id)
        self.assertEqual(started["workflow"], "logs_ok")
        finished = json_lines_where(server, "execution finished", msg="execution finished", id=ok_id)
        self.assertEqual(finished["workflow"], "logs_ok")
        self.assertEqual(finished["state"], "SUCCESS")
        self.assertIsInstance(finished["duration_ms"], (int, float))
        self.assertGreaterEqual(finished["duration_ms"], 0)

        failed = json_lines_where(server, "execution failed", msg="execution failed", id=bad_id)
        self.assertEqual(failed["workflow"], "logs_bad")
        self.assertEqual(failed["state"], "ERROR")
        self.assertEqual(failed["task"], "boom")
        self.assertIn("disk on fire", failed["reason"])
        self.assertIsInstance(failed["duration_ms"], (int, float))

    def test_text_lines(self):
        server = self.start("text")
        ok_id, bad_id, _ = self.run_both(server, "logs-text-1")
        stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info "
        access = server.wait_line(lambda l: "request_id=logs-text-1 " in l, "the access line")
        self.assertRegex(access, stamp + r"access method=POST path=/v2/executions status=201 bytes=\d+ "
                                 r"duration_ms=\d+\.\d{3} request_id=logs-text-1 remote=127\.0\.0\.1:\d+$")
        finished = server.wait_line(lambda l: "execution finished id=%s " % ok_id in l, "execution finished")
        self.assertRegex(finished, stamp + r"execution finished id=%s workflow=logs_ok state=SUCCESS "
                                   r"duration_ms=\d+\.\d{3}$" % re.escape(ok_id))
        failed = server.wait_line(lambda l: "execution failed id=%s " % bad_id in l, "execution failed")
        self.assertRegex(failed, stamp + r"execution failed id=%s workflow=logs_bad state=ERROR "
                                 r'duration_ms=\d+\.\d{3} task=boom reason=".*disk on fire.*"$'
                                 % re.escape(bad_id))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
