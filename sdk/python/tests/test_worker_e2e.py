#!/usr/bin/env python3
"""End to end: a custom action run by the Python SDK worker, on the real Kafka and Redis.

Starts `bora orchestrator --external-action py.reverse --external-action py.fail` under a unique
prefix, runs a bora_worker.Worker for pool `python` in a thread, publishes StartExecution messages
to <prefix>bora.events and polls the executions' states in Redis (the hashes {<prefix>p<N>}:states)
until they finish:
  - py.reverse (target: python) succeeds; its reversed text is published into the output;
  - py.fail raises: the execution ends in ERROR with the exception's message;
  - a malformed request on the pool's topic is logged and skipped, and the worker keeps going.

Usage: test_worker_e2e.py [path/to/bora]   (or BORA_BIN). Needs BORA_KAFKA and BORA_REDIS (fails
without).
"""

import json
import logging
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

from bora_worker import Worker  # noqa: E402

PARTITIONS = 4
DEADLINE_S = 120.0

WORKFLOWS = """\
version: '2.0'

py_reverse_wf:
  input:
    - text
  tasks:
    reverse:
      action: py.reverse text=<% $.text %>
      target: python
      publish:
        reversed: <% task().result %>
  output:
    reversed: <% $.reversed %>

py_fail_wf:
  input:
    - text
  tasks:
    explode:
      action: py.fail text=<% $.text %>
      target: python
"""


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def redis_cli(url, *args):
    out = subprocess.run(
        ["redis-cli", "-u", url, *args], capture_output=True, text=True, timeout=30
    )
    if out.returncode != 0:
        raise TestFailure(f"redis-cli {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.rstrip("\n")


def read_state(redis, prefix, execution_id):
    """The execution's state JSON, looked up in every partition's hash (no need to hash the id
    here). The hash holds the state's head ("task_count" in place of "tasks"); the tasks are in
    {<prefix>p<N>}:tasks:<execution id>: field "<task index>" is a task without its actions
    ("action_count" in their place), "<task index>.<action index>" an action execution
    (orchestrator/store/README.md)."""

    def hmget(key, fields):
        if not fields:
            return []
        return [json.loads(t) for t in redis_cli(redis, "HMGET", key, *fields).split("\n")]

    for p in range(PARTITIONS):
        text = redis_cli(redis, "HGET", f"{{{prefix}p{p}}}:states", execution_id)
        if not text:
            continue
        state = json.loads(text)
        if "task_count" in state:
            key = f"{{{prefix}p{p}}}:tasks:{execution_id}"
            tasks = hmget(key, [str(i) for i in range(state.pop("task_count"))])
            for i, task in enumerate(tasks):
                if "action_count" in task:
                    count = task.pop("action_count")
                    actions = hmget(key, [f"{i}.{a}" for a in range(count)])
                    if actions:
                        task["actions"] = actions
            state["tasks"] = tasks
        return state
    return None


def wait_for(what, predicate, orchestrator, deadline):
    """Polls predicate() until it returns a truthy value; fails at the deadline or if bora exits."""
    while True:
        value = predicate()
        if value:
            return value
        if orchestrator.poll() is not None:
            raise TestFailure(
                f"bora orchestrator exited ({orchestrator.returncode}) waiting for {what}"
            )
        if time.monotonic() > deadline:
            raise TestFailure(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling interval, not a wait for a result


def publish(producer, topic, key, doc):
    value = doc if isinstance(doc, bytes) else json.dumps(doc).encode("utf-8")
    errors = []
    producer.produce(
        topic,
        key=key.encode("utf-8"),
        value=value,
        on_delivery=lambda err, _msg: errors.append(err) if err else None,
    )
    check(producer.flush(30) == 0 and not errors, f"cannot publish to {topic}: {errors}")


def start_execution(producer, prefix, workflow, workflow_input):
    execution_id = str(uuid.uuid4())
    publish(
        producer,
        f"{prefix}bora.events",
        execution_id,
        {
            "schema_version": 1,
            "type": "StartExecution",
            "execution_id": execution_id,
            "workflow_name": workflow,
            "workflow_namespace": "",
            "input": workflow_input,
            "params": {},
            "description": "python sdk e2e",
        },
    )
    return execution_id


def finished(redis, prefix, execution_id):
    state = read_state(redis, prefix, execution_id)
    if state and state["state"] in ("SUCCESS", "ERROR", "CANCELLED"):
        return state
    return None


def cleanup(kafka, redis, prefix):
    try:
        admin = AdminClient({"bootstrap.servers": kafka})
        topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
        if topics:
            for f in admin.delete_topics(topics).values():
                f.result(timeout=30)
        keys = redis_cli(redis, "--scan", "--pattern", f"*{prefix}*").split()
        if keys:
            redis_cli(redis, "DEL", *keys)
    except Exception as e:  # noqa: BLE001 - best effort: the prefix is unique anyway
        print(f"cleanup of {prefix}: {e}")


def run(bora, kafka, redis, workdir):
    prefix = f"pysdk-{uuid.uuid4().hex[:8]}."
    wf_file = workdir / "py_workflows.yaml"
    wf_file.write_text(WORKFLOWS)
    log_path = workdir / "orchestrator.log"
    deadline = time.monotonic() + DEADLINE_S

    calls = []
    worker = Worker(kafka, pool="python", prefix=prefix)

    @worker.action("py.reverse", with_request=True)
    def reverse(request, text):
        calls.append(request)
        return text[::-1]

    @worker.action("py.fail")
    def fail(text):
        raise ValueError(f"boom: cannot handle {text!r}")

    # Before anything starts: a malformed request the worker must skip.
    # Bora's own producers' partitioner: a start lands on the partition Bora would put it on (with
    # librdkafka's default the starts and the worker's results agreed with each other but not with Bora).
    producer = Producer({"bootstrap.servers": kafka, "enable.idempotence": True,
                         "partitioner": "murmur2_random"})
    AdminClient({"bootstrap.servers": kafka})  # fail fast on a bad broker address
    worker.open()  # creates <prefix>bora.actions.python
    publish(producer, worker.topic, "bad", {"schema_version": 99, "type": "RunAction"})
    publish(producer, worker.topic, "bad", b"not json at all")

    done = threading.Event()
    worker_error = []

    def worker_main():
        try:
            worker.run_until(done.is_set, poll_timeout_s=0.1)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            worker_error.append(e)

    with open(log_path, "w") as log_file:
        orchestrator = subprocess.Popen(
            [
                bora,
                "orchestrator",
                "--kafka",
                kafka,
                "--redis",
                redis,
                "--prefix",
                prefix,
                "--partitions",
                str(PARTITIONS),
                "--load",
                str(wf_file),
                "--external-action",
                "py.reverse",
                "--external-action",
                "py.fail",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    thread = threading.Thread(target=worker_main, name="bora-worker", daemon=True)
    thread.start()
    try:
        admin = AdminClient({"bootstrap.servers": kafka})

        def events_topic_ready():
            t = admin.list_topics(timeout=10).topics.get(f"{prefix}bora.events")
            return t is not None and len(t.partitions) == PARTITIONS

        wait_for(
            "the orchestrator to create its events topic",
            events_topic_ready,
            orchestrator,
            deadline,
        )

        text = "Hello, Bora! \u00e9t\u00e9"
        ok_id = start_execution(producer, prefix, "py_reverse_wf", {"text": text})
        fail_id = start_execution(producer, prefix, "py_fail_wf", {"text": "x"})

        ok = wait_for(
            f"execution {ok_id}", lambda: finished(redis, prefix, ok_id), orchestrator, deadline
        )
        check(
            ok["state"] == "SUCCESS", f"py_reverse_wf ended {ok['state']}: {ok.get('state_info')}"
        )
        check(ok["output"] == {"reversed": text[::-1]}, f"unexpected output {ok['output']!r}")
        tasks = ok["tasks"]
        check(
            len(tasks) == 1 and tasks[0]["name"] == "reverse" and tasks[0]["state"] == "SUCCESS",
            f"unexpected tasks {[(t['name'], t['state']) for t in tasks]}",
        )
        check(
            tasks[0]["published"] == {"reversed": text[::-1]},
            f"unexpected published {tasks[0]['published']!r}",
        )
        check(len(calls) >= 1, "the worker never ran py.reverse")
        req = calls[0]
        check(
            req.execution_id == ok_id
            and req.task_name == "reverse"
            and req.target == "python"
            and req.workflow_name == "py_reverse_wf"
            and req.action_name == "py.reverse",
            f"unexpected request {req!r}",
        )

        bad = wait_for(
            f"execution {fail_id}", lambda: finished(redis, prefix, fail_id), orchestrator, deadline
        )
        check(bad["state"] == "ERROR", f"py_fail_wf ended {bad['state']}, expected ERROR")
        check(
            "boom: cannot handle 'x'" in (bad.get("state_info") or ""),
            f"the exception's message is not in state_info: {bad.get('state_info')!r}",
        )

        check(
            worker.stats["skipped"] == 2, f"expected 2 skipped bad requests, stats {worker.stats}"
        )
        check(
            worker.stats["succeeded"] >= 1 and worker.stats["failed"] >= 1, f"stats {worker.stats}"
        )
        check(not worker_error, f"the worker loop raised {worker_error}")
        print(
            f"OK: {ok_id} SUCCESS output {ok['output']}; "
            f"{fail_id} ERROR ({bad['state_info'][:80]}); "
            f"worker stats {worker.stats}"
        )
    finally:
        done.set()
        thread.join(30)
        orchestrator.terminate()
        try:
            orchestrator.wait(30)
        except subprocess.TimeoutExpired:
            orchestrator.kill()
            orchestrator.wait()
        producer.flush(10)
        cleanup(kafka, redis, prefix)
    check(not thread.is_alive(), "the worker loop did not stop")
    return log_path


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kafka, redis = os.environ.get("BORA_KAFKA"), os.environ.get("BORA_REDIS")
    if not kafka or not redis:
        print(
            "FAIL: BORA_KAFKA and BORA_REDIS must be set "
            "(make test starts the services and exports them; "
            'or eval "$(bash scripts/services.sh start)")',
            file=sys.stderr,
        )
        return 1
    bora = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BORA_BIN", "")
    if not bora or not os.access(bora, os.X_OK):
        print(
            f"FAIL: the bora binary is needed as the first argument or BORA_BIN (got {bora!r})",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="bora-pysdk-") as tmp:
        workdir = pathlib.Path(tmp)
        try:
            run(bora, kafka, redis, workdir)
        except Exception as e:  # noqa: BLE001 - any failure: print why and the orchestrator's log
            print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
            log_path = workdir / "orchestrator.log"
            if log_path.exists():
                print(
                    "---- bora orchestrator log ----\n" + log_path.read_text()[-20000:],
                    file=sys.stderr,
                )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
