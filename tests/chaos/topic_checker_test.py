#!/usr/bin/env python3
"""The Kafka-topic checker works and can fail (ctest chaos.topic_checker).

Usage: topic_checker_test.py BORA_BIN [--kafka HOST:PORT --redis URL]

Starts a redis-server and a Kafka broker (scripts/services.sh in a private directory, unless --kafka and
--redis name running ones), one `bora orchestrator`, one `bora worker` and one `bora api` on a fresh
prefix, runs two executions each of the chaos run's chain, join, with-items (20 items), parent (three
sub-workflows) and retried failing task to the end, then:
  1. the checker reports no problem and counts exactly the RunActions and results those executions
     made (sub-workflows' included);
  2. after publishing a RunAction for a made-up action execution of a real execution on a pool nobody
     serves (its result never comes), a result for an action execution no execution has, a second,
     different result for a real action execution (a redelivery: the engine keeps the first) and a
     copy of a result on another partition than its execution's, the checker reports exactly the
     lost, the unknown and the misrouted result, and counts the two redeliveries;
  3. after the chain's events partition is trimmed (delete_records, as retention would), it reports
     the partition's log start, counts what it cannot check as unverifiable, and no longer reports
     the lost result there: what is elsewhere is still reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import chaos_run  # noqa: E402
import topic_checker  # noqa: E402

# The chaos run's workflows (chaos_run.WORKFLOWS). kind -> (workflow, input, final state, the
# RunActions one execution makes, its sub-workflows' included).
KINDS = {
    "chain": ("chaos_chain", {}, "SUCCESS", 5),
    "join": ("chaos_join", {}, "SUCCESS", 4),
    "items": ("chaos_items", {"n": 20}, "SUCCESS", 20),
    "sub": ("chaos_parent", {}, "SUCCESS", 3),  # three child executions of one action each
    "retry": ("chaos_retry", {}, "ERROR", 3),  # one action execution per attempt
}
CHILDREN = {"sub": 3}
COPIES = 2  # executions of each kind


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def services(services_dir: str, *args: str) -> str:
    env = dict(os.environ, BORA_SERVICES_DIR=services_dir)
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts/services.sh"), *args], env=env,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"services.sh {' '.join(args)}: {r.stderr[-2000:]}")
    return r.stdout


def wait_final(api: Any, eid: str, deadline: float) -> Dict[str, Any]:
    while True:
        status, ex = api("GET", f"/v2/executions/{eid}")
        if status == 200 and ex["state"] in topic_checker.FINAL:
            return ex
        if time.monotonic() > deadline:
            raise RuntimeError(f"execution {eid} did not end: {status} {ex}")
        time.sleep(0.2)  # polling the execution until it ends, bounded by the deadline


def publish(bootstrap: str, topic: str, key: str, doc: Dict[str, Any],
            partition: Optional[int] = None) -> None:
    from confluent_kafka import (  # type: ignore[import-not-found]
        KafkaError,
        KafkaException,
        Producer,
    )
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[import-not-found]

    # The topic of a pool nobody serves is created here, as a worker of that pool would.
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures resolve
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=-1)])
    try:
        futures[topic].result(timeout=30)
    except KafkaException as e:
        if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
    # murmur2_random, as Bora's producers: the message lands on its execution's partition.
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    errors: List[str] = []
    where = {} if partition is None else {"partition": partition}
    producer.produce(topic, key=key.encode(), value=json.dumps(doc).encode(), **where,
                     on_delivery=lambda err, _msg: errors.append(str(err)) if err else None)
    if producer.flush(30) != 0 or errors:
        raise RuntimeError(f"could not publish to {topic}: {errors}")


def run(bora: str, kafka: str, redis: str, workdir: str, procs: List[chaos_run.Proc]) -> List[str]:
    """Returns the failures (empty: pass)."""
    prefix = f"topics{uuid.uuid4().hex[:8]}."
    common = ["--kafka", kafka, "--redis", redis, "--prefix", prefix, "--partitions", "4",
              "--log-level", "warn"]
    port_file = os.path.join(workdir, "api.port")
    procs.append(chaos_run.Proc("orchestrator", [bora, "orchestrator", *common], workdir))
    procs.append(chaos_run.Proc("worker", [bora, "worker", *common], workdir))
    procs.append(chaos_run.Proc("api", [bora, "api", *common, "--port", "0", "--port-file",
                                        port_file], workdir, port_file))
    for p in procs:
        p.start()
    api = chaos_run.Api(procs[-1:]).call
    status, reply = api("POST", "/v2/workflows", chaos_run.WORKFLOWS, "text/plain")
    if status not in (200, 201):
        raise RuntimeError(f"POST /v2/workflows: {status} {reply}")
    started: List[Tuple[str, str]] = []
    for kind, (workflow, input_, _, _) in KINDS.items():
        for _ in range(COPIES):
            eid = str(uuid.uuid4())
            status, reply = api("POST", "/v2/executions",
                                {"id": eid, "workflow_name": workflow, "input": input_})
            if status != 201:
                raise RuntimeError(f"starting {workflow}: {status} {reply}")
            started.append((kind, eid))
    deadline = time.monotonic() + 180
    failures: List[str] = []
    for kind, eid in started:
        ex = wait_final(api, eid, deadline)
        if ex["state"] != KINDS[kind][2]:
            failures.append(f"{kind} {eid}: {ex['state']}: {ex.get('state_info')}")
    if failures:
        return failures
    ids = [eid for _, eid in started]
    want_runs = COPIES * sum(n for _, _, _, n in KINDS.values())
    want_executions = len(ids) + COPIES * sum(CHILDREN.values())

    # 1. A clean deployment: nothing reported, and every RunAction and result counted.
    report = topic_checker.check_topics(kafka, prefix, api, ids)
    stats = report["stats"]
    log(f"clean run: {json.dumps(stats)}; problems {report['problems']}")
    if report["problems"]:
        failures.append(f"clean run: problems reported: {report['problems']}")
    if stats["run_actions"] != want_runs or stats["results"] != want_runs:
        failures.append(f"clean run: {stats['run_actions']} RunActions and {stats['results']} "
                        f"results counted, expected {want_runs} of each")
    if stats["executions"] != want_executions:
        failures.append(f"clean run: {stats['executions']} executions checked, expected "
                        f"{want_executions}")

    # 2. What it must catch: a RunAction whose result never comes (its pool has no worker) and a
    # result for an action execution the engine does not know.
    chain = next(eid for kind, eid in started if kind == "chain")
    items = next(eid for kind, eid in started if kind == "items")
    status, tasks = api("GET", f"/v2/executions/{chain}/tasks")
    task = tasks["tasks"][0]
    lost_aid, unknown_aid = f"lost-{uuid.uuid4()}", f"unknown-{uuid.uuid4()}"
    publish(kafka, f"{prefix}bora.actions.nobody", chain, {
        "schema_version": 1, "type": "RunAction", "execution_id": chain,
        "workflow_name": "chaos_chain", "task_execution_id": task["id"],
        "task_name": task["name"], "action_execution_id": lost_aid, "action_name": "std.noop",
        "input": {}, "target": "nobody"})
    publish(kafka, f"{prefix}bora.events", items, {
        "schema_version": 1, "type": "ActionCompleted", "execution_id": items,
        "task_execution_id": "no-such-task", "action_execution_id": unknown_aid,
        "result": "success", "data": 7})
    # A redelivered result with other data: normal (counted), the first one is what was applied.
    status, reply = api("GET", f"/v2/tasks/{task['id']}/action_executions?include_output=true")
    real = reply["action_executions"][0]
    result = {"schema_version": 1, "type": "ActionCompleted", "execution_id": chain,
              "task_execution_id": task["id"], "action_execution_id": real["id"],
              "result": "error", "data": "a late second result"}
    publish(kafka, f"{prefix}bora.events", chain, result)
    # The same result again, on another partition than its execution's: it can never be applied.
    right = topic_checker.murmur2_partition(chain, 4)
    publish(kafka, f"{prefix}bora.events", chain,
            dict(result, result="success", data=json.loads(real["output"])["result"]),
            partition=(right + 1) % 4)
    report = topic_checker.check_topics(kafka, prefix, api, ids)
    problems = report["problems"]
    log(f"after the injection: problems {json.dumps(problems, indent=1)}")
    caught = {
        "lost": [p for p in problems if lost_aid in p and "no result" in p],
        "unknown": [p for p in problems if unknown_aid in p and "never applied" in p],
        "misrouted": [p for p in problems if f"[{(right + 1) % 4}]@" in p and "not on the" in p],
    }
    if len(problems) != 3 or any(len(v) != 1 for v in caught.values()):
        failures.append(f"injected a lost result ({lost_aid}), an unknown one ({unknown_aid}) "
                        f"and a misrouted one; the checker reported {problems}")
    if report["stats"]["run_actions"] != want_runs + 1 or \
            report["stats"]["result_redeliveries"] != 2:
        failures.append(f"the injected RunAction or redelivered results were not counted: "
                        f"{report['stats']}")

    # 3. Retention: the chain's events partition trimmed to its end. What was there cannot be
    # checked (its lost RunAction is unverifiable now), what is elsewhere still is.
    check_trimmed(kafka, prefix, api, ids, right, problems, lost_aid, failures)
    return failures


def check_trimmed(kafka: str, prefix: str, api: Any, ids: List[str], partition: int,
                  before: List[str], lost_aid: str, failures: List[str]) -> None:
    """Trims `partition` of the events topic to its end: the problems `before` stay reported, but
    the lost result of `lost_aid` (on that partition) and any problem at a trimmed message go."""
    from confluent_kafka import TopicPartition  # type: ignore[import-not-found]
    from confluent_kafka.admin import AdminClient  # type: ignore[import-not-found]

    topic = f"{prefix}bora.events"
    admin = AdminClient({"bootstrap.servers": kafka})
    # OFFSET_END (-1): delete every record there is now.
    futures = admin.delete_records([TopicPartition(topic, partition, -1)])
    for f in futures.values():
        f.result(timeout=30)
    report = topic_checker.check_topics(kafka, prefix, api, ids)
    problems, stats = report["problems"], report["stats"]
    log(f"after trimming {topic}[{partition}]: trimmed {stats['topics'][topic]['trimmed']}, "
        f"unverifiable {stats['unverifiable']}, problems {json.dumps(problems, indent=1)}")
    if str(partition) not in map(str, stats["topics"][topic]["trimmed"]):
        failures.append(f"trimmed {topic}[{partition}]; the checker reports {stats['topics']}")
    if stats["unverifiable"] == 0:
        failures.append("after trimming, nothing counted as unverifiable")
    topic_at = f"{topic}[{partition}]@"
    expected = [p for p in before if lost_aid not in p and topic_at not in p]
    if sorted(problems) != sorted(expected):
        failures.append(f"after trimming {topic}[{partition}], expected {expected}; "
                        f"the checker reported {problems}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bora")
    ap.add_argument("--kafka", default="", help="a running broker (default: start one)")
    ap.add_argument("--redis", default="", help="a running redis-server (default: start one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bora-topics-") as workdir:
        services_dir = os.path.join(workdir, "services")
        kafka, redis = args.kafka, args.redis
        if not (kafka and redis):
            env = dict(line[len("export "):].split("=", 1)
                       for line in services(services_dir, "start").splitlines()
                       if line.startswith("export "))
            kafka, redis = env["BORA_KAFKA"].strip("'\""), env["BORA_REDIS"].strip("'\"")
        procs: List[chaos_run.Proc] = []
        try:
            failures = run(os.path.abspath(args.bora), kafka, redis, workdir, procs)
        except Exception as e:  # noqa: BLE001 - reported with the process logs
            failures = [f"{type(e).__name__}: {e}"]
        for p in procs:
            p.stop()
            if failures:
                with open(p.log_path) as f:
                    print(f"--- {p.name} log (tail)\n{f.read()[-1500:]}", flush=True)
        if not (args.kafka and args.redis):
            services(services_dir, "stop")
    if failures:
        log("FAIL:\n  " + "\n  ".join(failures))
        return 1
    log("PASS: the checker read the topics, found nothing on a clean run, exactly the injected "
        "problems, and told trimmed from lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
