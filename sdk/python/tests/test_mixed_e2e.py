#!/usr/bin/env python3
"""Distributed: HTTP workers and Kafka workers of one pool share its action topic.

Usage: test_mixed_e2e.py BORA_BIN   (needs BORA_KAFKA / BORA_REDIS: scripts/services.sh start)

`bora serve --kafka --redis --partitions 4` serves the worker API. A poll declares `mix.who` in pool `mix`
(the API process creates the pool's topic with 4 partitions and consumes it in the pool's consumer group);
an HTTP worker (Worker.http) and a Kafka worker (Worker.kafka, the same group) serve it, each answering
which it is. Executions of one task each (requests are keyed by execution id, so they spread over the
partitions) run one after the other until both kinds of worker have answered (the Kafka worker gets its
partitions after the group's rebalance, a few seconds in): every one succeeds within 30 s, none is lost,
and both transports served the pool.

It found the SDK's Kafka producer partitioning results with librdkafka's default (CRC32) instead of
Bora's murmur2: a result landed on another partition of bora.events than its execution's and was lost to
it (the task stayed RUNNING).
"""

from __future__ import annotations

import logging
import os
import pathlib
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import test_http_e2e as e2e  # noqa: E402
from bora_worker import Worker  # noqa: E402

WORKFLOW = """\
version: '2.0'
mix_wf:
  tasks:
    who:
      action: mix.who
"""


class MixedTransportsTest(unittest.TestCase):
    def test_http_and_kafka_workers_share_a_pool(self) -> None:
        kafka = os.environ.get("BORA_KAFKA")
        if not kafka or not os.environ.get("BORA_REDIS"):
            self.fail("needs BORA_KAFKA and BORA_REDIS (eval \"$(scripts/services.sh start)\")")
        server = e2e.Server(tempfile.mkdtemp())
        prefix = server.proc.args[server.proc.args.index("--prefix") + 1]
        http_worker = Worker.http(server.url, pool="mix", wait=2, concurrency=2)
        kafka_worker = Worker.kafka(kafka, pool="mix", prefix=prefix, concurrency=2)

        @http_worker.action("mix.who")
        def who_http() -> str:
            return "http"

        @kafka_worker.action("mix.who")
        def who_kafka() -> str:
            return "kafka"

        threads = []
        try:
            # A poll of our own declares mix.who and creates the pool's topic (4 partitions) before
            # either worker starts.
            status, reply = e2e.call(server.url, "POST", "/v2/workers/poll", {
                "worker": "mix-declare", "pool": "mix", "actions": ["mix.who"], "wait": 0})
            self.assertEqual((status, reply), (200, {"leases": []}))
            for w in (http_worker, kafka_worker):
                threads.append(threading.Thread(target=w.run, daemon=True))
                threads[-1].start()
            status, _ = e2e.call(server.url, "POST", "/v2/workflows", WORKFLOW, "text/plain")
            self.assertEqual(status, 201)
            ran = []
            deadline = time.monotonic() + 90
            while set(ran) != {'"http"', '"kafka"'} and time.monotonic() < deadline:
                status, ex = e2e.call(server.url, "POST", "/v2/executions", {"workflow_name": "mix_wf"})
                self.assertEqual(status, 201, ex)
                status, done = {}, {}
                for _ in range(300):  # each one ends (nothing is lost): at most 30 s
                    status, done = e2e.call(server.url, "GET", "/v2/executions/" + ex["id"])
                    if done.get("state") != "RUNNING":
                        break
                    threading.Event().wait(0.1)
                if done.get("state") != "SUCCESS":
                    _, items = e2e.call(server.url, "GET", "/v2/executions/%s/tasks" % ex["id"])
                    _, workers = e2e.call(server.url, "GET", "/v2/workers")
                    print("STUCK", ex["id"], done.get("state"), len(ran), items, workers, flush=True)
                    print(server.tail(), flush=True)
                self.assertEqual(done["state"], "SUCCESS", done)
                status, tasks = e2e.call(server.url, "GET", "/v2/executions/%s/tasks" % ex["id"])
                ran.append(tasks["tasks"][0]["result"])
            self.assertEqual(set(ran), {'"http"', '"kafka"'}, ran)
            print("executions: %d, by HTTP: %d, by Kafka: %d"
                  % (len(ran), ran.count('"http"'), ran.count('"kafka"')))
        finally:
            http_worker.stop()
            kafka_worker.stop()
            for t in threads:
                t.join(60)
            server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    e2e.BORA = sys.argv.pop(1)
    e2e.MODE = "distributed"
    unittest.main()
