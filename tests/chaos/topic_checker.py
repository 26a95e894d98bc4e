#!/usr/bin/env python3
"""The Kafka-topic checker (issue 21): reads what was actually published on a deployment's topics and
cross-checks it with the REST API, independently of the engine's own counters.

It reads every partition of `<prefix>bora.events` and of every `<prefix>bora.actions.<pool>` from its
log start to its end at the moment of reading (an assign() without a group commit: nothing is
consumed for anyone else), decodes the messages (the wire format of sdk/protocol, as the Python SDK's
bora_worker/kafka.py reads it) and asserts, for the executions a driver started and their
sub-workflow executions (found through the StartExecution messages that name a parent or root):

  - every StartExecution has exactly one execution in the REST API, final (SUCCESS, ERROR or
    CANCELLED), of the same workflow; every execution the driver names has a StartExecution;
  - every RunAction has a result (ActionCompleted) on the events topic, unless the REST API shows the
    action execution or its execution CANCELLED: no result lost;
  - every action execution with one or more results on the topic (redelivery makes duplicates normal)
    is shown once by the REST API, in its task's listing, final, with the state and output of its first
    result (the one the engine applies; later ones are ignored): a result the engine never applied is lost;
  - every event is keyed by its execution id and on the partition Kafka's murmur2 gives that key
    (the partitioner every producer must use): an event elsewhere never reaches its execution.

What was trimmed by retention (a log start offset above 0) cannot be checked: it is reported in the
stats, and a message missing from an execution's trimmed events partition is counted as unverifiable,
not as lost.

Usage by hand: topic_checker.py --bootstrap HOST:PORT --prefix P --api http://127.0.0.1:PORT
[--execution ID ...] (without --execution, every execution seen on the topics is checked).
Needs confluent-kafka (sdk/python/requirements.txt; the venv scripts/setup.sh builds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

SCHEMA_VERSION = 1
FINAL = ("SUCCESS", "ERROR", "CANCELLED")
STATE_OF_RESULT = {"success": "SUCCESS", "error": "ERROR", "cancelled": "CANCELLED"}

ApiCall = Callable[[str, str], Tuple[int, Any]]


def events_topic(prefix: str) -> str:
    return f"{prefix}bora.events"


def actions_topic_prefix(prefix: str) -> str:
    return f"{prefix}bora.actions."


def murmur2_partition(key: str, partitions: int) -> int:
    """The partition Kafka's murmur2 partitioner (Java's default, librdkafka's murmur2_random, which
    every producer of Bora's topics must use) gives `key`."""
    data = key.encode("utf-8")
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) & ~3
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


class Message:
    """One decoded message: where it was and its JSON document (None when it is not one)."""

    __slots__ = ("topic", "partition", "offset", "key", "doc", "error")

    def __init__(self, topic: str, partition: int, offset: int, key: Optional[bytes],
                 value: Optional[bytes]):
        self.topic, self.partition, self.offset = topic, partition, offset
        self.key = key.decode("utf-8", "replace") if key is not None else ""
        self.doc: Optional[Dict[str, Any]] = None
        self.error = ""
        try:
            doc = json.loads(value) if value is not None else None
        except (ValueError, UnicodeDecodeError) as e:
            self.error = f"not JSON: {e}"
            return
        if not isinstance(doc, dict):
            self.error = "not a JSON object"
        elif doc.get("schema_version") != SCHEMA_VERSION:
            self.error = f"schema_version {doc.get('schema_version')!r}"
        elif not isinstance(doc.get("type"), str):
            self.error = "no string 'type'"
        else:
            self.doc = doc

    def where(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def read_topics(bootstrap: str, topics: List[str], timeout_s: float = 300.0,
                config: Optional[Dict[str, Any]] = None) -> Tuple[List[Message], Dict[str, Any]]:
    """Every message of every partition of `topics`, from the log start to the end offsets read
    first. Returns the messages (in partition order) and, per topic, the partitions, messages read
    and the offsets trimmed (log start offsets above 0)."""
    from confluent_kafka import (  # type: ignore[import-not-found]
        Consumer,
        KafkaError,
        TopicPartition,
    )

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        # A throwaway group: assign() below, nothing committed.
        "group.id": f"bora-topic-checker-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        **(config or {}),
    })
    stats: Dict[str, Any] = {}
    messages: List[Message] = []
    try:
        metadata = consumer.list_topics(timeout=30)
        assign: List[Any] = []
        ends: Dict[Tuple[str, int], int] = {}
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                stats[topic] = {"missing": True}
                continue
            st = {"partitions": len(meta.partitions), "messages": 0, "trimmed": {}}
            stats[topic] = st
            for p in sorted(meta.partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
                if low > 0:
                    st["trimmed"][p] = low  # offsets 0..low-1 are gone: not checkable
                if high > low:
                    ends[(topic, p)] = high
                    assign.append(TopicPartition(topic, p, low))
        if assign:
            consumer.assign(assign)
        deadline = time.monotonic() + timeout_s
        while ends:
            if time.monotonic() > deadline:
                raise RuntimeError(f"reading the topics took over {timeout_s} s; still to read: "
                                   f"{sorted(ends)}")
            for m in consumer.consume(1000, 1.0):
                tp = (m.topic(), m.partition())
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        if tp in ends and m.offset() >= ends[tp]:
                            del ends[tp]
                        continue
                    raise RuntimeError(f"reading {tp}: {err}")
                if tp not in ends or m.offset() >= ends[tp]:
                    continue  # published after the end offsets were read
                messages.append(Message(m.topic(), m.partition(), m.offset(), m.key(), m.value()))
                stats[m.topic()]["messages"] += 1
                if m.offset() + 1 >= ends[tp]:
                    del ends[tp]
    finally:
        consumer.close()
    return messages, stats


def list_actions_topics(bootstrap: str, prefix: str) -> List[str]:
    from confluent_kafka.admin import AdminClient  # type: ignore[import-not-found]

    names = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).topics
    return sorted(t for t in names if t.startswith(actions_topic_prefix(prefix)))


def _get(api_call: ApiCall, path: str) -> Tuple[int, Any]:
    status, reply = api_call("GET", path)
    if status not in (200, 404):
        raise RuntimeError(f"GET {path}: {status} {str(reply)[:300]}")
    return status, reply


def list_all(api_call: ApiCall, path: str, collection: str) -> Optional[List[Dict[str, Any]]]:
    """Every record of a REST listing (`path` with its query, `collection` its key), page by page
    (None: 404). chaos_run.py's list_executions uses it too."""
    out: List[Dict[str, Any]] = []
    marker = ""
    while True:
        page_path = f"{path}{'&' if '?' in path else '?'}limit=500"
        if marker:
            page_path += f"&marker={marker}"
        status, reply = _get(api_call, page_path)
        if status == 404:
            return None
        page = reply.get(collection, [])
        out.extend(page)
        if len(page) < 500:
            return out
        marker = page[-1]["id"]


def check_topics(bootstrap: str, prefix: str, api_call: ApiCall,
                 executions: Optional[List[str]] = None,
                 kafka_config: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Reads the topics of deployment `prefix` and cross-checks them with the REST API
    (api_call(method, path) -> (status, json), as chaos_run.py's Api.call). `executions`: the ids a
    driver started (their sub-workflow executions are added); None checks every execution seen on
    the topics. Call it when those executions are final. Returns {"stats": {...}, "problems":
    [str, ...]}."""
    problems: List[str] = []
    topics = [events_topic(prefix)] + list_actions_topics(bootstrap, prefix)
    messages, per_topic = read_topics(bootstrap, topics, config=kafka_config)
    stats: Dict[str, Any] = {"topics": per_topic, "undecodable": 0, "by_type": {}}
    ev_topic = events_topic(prefix)

    starts: Dict[str, List[Message]] = {}  # execution id -> its StartExecution messages
    results: Dict[str, List[Message]] = {}  # action execution id -> its ActionCompleted messages
    runs: Dict[str, List[Message]] = {}  # action execution id -> its RunAction messages
    ev_partitions = per_topic.get(ev_topic, {}).get("partitions", 0)
    # Events partitions whose start was trimmed: a message missing there may have been trimmed.
    trimmed = set(per_topic.get(ev_topic, {}).get("trimmed", {}))

    def events_partition(eid: str) -> int:
        return murmur2_partition(eid, ev_partitions) if ev_partitions else -1

    for m in messages:
        if m.doc is None:
            stats["undecodable"] += 1
            problems.append(f"{m.where()}: undecodable message: {m.error}")
            continue
        kind = m.doc["type"]
        stats["by_type"][kind] = stats["by_type"].get(kind, 0) + 1
        eid = m.doc.get("execution_id")
        if not isinstance(eid, str) or not eid:
            problems.append(f"{m.where()}: {kind} without an execution_id")
            continue
        # Any partition of a pool's topic reaches a worker; an event must be on its execution's.
        if m.topic == ev_topic and (m.key != eid or m.partition != events_partition(eid)):
            problems.append(f"{m.where()}: {kind} of execution {eid} under key {m.key!r}: not on "
                            f"the partition of its execution (murmur2), it never reaches it")
        if m.topic == ev_topic:
            if kind == "ActionCompleted":
                results.setdefault(str(m.doc.get("action_execution_id")), []).append(m)
            elif kind == "StartExecution":
                starts.setdefault(eid, []).append(m)
        elif kind == "RunAction":
            runs.setdefault(str(m.doc.get("action_execution_id")), []).append(m)
        else:
            problems.append(f"{m.where()}: a {kind} on an actions topic")

    # The executions to check: the driver's and, transitively, their sub-workflow executions.
    if executions is None:
        relevant: Set[str] = set(starts)
        relevant.update(ms[0].doc["execution_id"] for ms in runs.values())
        relevant.update(ms[0].doc["execution_id"] for ms in results.values())
    else:
        relevant = set(executions)
        grew = True
        while grew:
            grew = False
            for eid, ms in starts.items():
                doc = ms[0].doc
                if eid not in relevant and (doc.get("parent_execution_id") in relevant or
                                            doc.get("root_execution_id") in relevant):
                    relevant.add(eid)
                    grew = True
    actions_trimmed = any(st.get("trimmed") for t, st in per_topic.items() if t != ev_topic)
    unverifiable = 0

    # Executions: one per StartExecution, final, of the workflow started.
    rest_exec: Dict[str, Optional[Dict[str, Any]]] = {}

    def execution(eid: str) -> Optional[Dict[str, Any]]:
        if eid not in rest_exec:
            status, reply = _get(api_call, f"/v2/executions/{eid}")
            rest_exec[eid] = reply if status == 200 else None
        return rest_exec[eid]

    stats["executions"] = len(relevant)
    stats["start_redeliveries"] = 0
    for eid in sorted(relevant):
        ms = starts.get(eid, [])
        stats["start_redeliveries"] += max(0, len(ms) - 1)
        ex = execution(eid)
        if not ms:
            if events_partition(eid) in trimmed:
                unverifiable += 1
            else:
                problems.append(f"execution {eid}: no StartExecution on {ev_topic}")
        if ex is None:
            if ms:
                problems.append(f"execution {eid}: started ({ms[0].where()}) but the REST API "
                                f"does not know it (404)")
            continue
        if ex.get("id") != eid:
            problems.append(f"execution {eid}: the REST API answers with id {ex.get('id')}")
        if ex.get("state") not in FINAL:
            problems.append(f"execution {eid}: {ex.get('state')}, not final")
        names = {m.doc.get("workflow_name") for m in ms}
        if ms and ex.get("workflow_name") not in names:
            problems.append(f"execution {eid}: workflow {ex.get('workflow_name')} in the REST API, "
                            f"{sorted(map(str, names))} on the topic")

    # The REST view of the action executions named on the topics, task by task.
    rest_actions: Dict[str, List[Dict[str, Any]]] = {}  # action execution id -> its listings
    tasks_seen: Set[str] = set()

    def load_task(task_id: str) -> None:
        if task_id in tasks_seen:
            return
        tasks_seen.add(task_id)
        listing = list_all(api_call, f"/v2/tasks/{task_id}/action_executions?include_output=true",
                           "action_executions")
        for a in listing or []:
            rest_actions.setdefault(a["id"], []).append(a)

    def rest_action(aid: str, task_id: str) -> Optional[Dict[str, Any]]:
        load_task(task_id)
        if aid not in rest_actions:  # not in the task the message names: ask for it by id
            status, reply = _get(api_call, f"/v2/action_executions/{aid}")
            if status == 200:
                rest_actions[aid] = [reply]
                problems.append(f"action execution {aid}: in task "
                                f"{reply.get('task_execution_id')}, not in task {task_id} its "
                                f"messages name")
        found = rest_actions.get(aid)
        return found[0] if found else None

    # Every RunAction has a result (unless cancelled).
    stats["run_actions"] = stats["run_action_redeliveries"] = 0
    for aid, ms in runs.items():
        doc = ms[0].doc
        if doc["execution_id"] not in relevant:
            continue
        stats["run_actions"] += 1
        stats["run_action_redeliveries"] += len(ms) - 1
        if aid in results:
            continue
        a = rest_action(aid, str(doc.get("task_execution_id")))
        ex = execution(doc["execution_id"])
        if (a is not None and a.get("state") == "CANCELLED") or (
                ex is not None and ex.get("state") == "CANCELLED"):
            continue
        if events_partition(doc["execution_id"]) in trimmed:
            unverifiable += 1
            continue
        problems.append(f"action execution {aid} ({doc.get('action_name')}, task "
                        f"{doc.get('task_name')} of execution {doc['execution_id']}): RunAction at "
                        f"{ms[0].where()} has no result on {ev_topic} (lost), REST state "
                        f"{a.get('state') if a else 'unknown (404)'}")

    # Every result was applied once, as its first message says.
    stats["results"] = stats["result_redeliveries"] = 0
    for aid, ms in results.items():
        doc = ms[0].doc
        eid = doc["execution_id"]
        if eid not in relevant:
            continue
        stats["results"] += 1
        stats["result_redeliveries"] += len(ms) - 1
        # The engine applies the first one on the execution's partition (others never reach it).
        routed = [m for m in ms if m.partition == events_partition(eid)] or ms
        first = min(routed, key=lambda m: (m.partition, m.offset))
        a = rest_action(aid, str(doc.get("task_execution_id")))
        if a is None:
            problems.append(f"action execution {aid} (execution {eid}): result at {first.where()} "
                            f"never applied: the REST API does not know it (404)")
            continue
        listed = len(rest_actions.get(aid, []))
        if listed != 1:
            problems.append(f"action execution {aid}: listed {listed} times by the REST API")
        want = STATE_OF_RESULT.get(str(first.doc.get("result")))
        if a.get("state") != want:
            problems.append(f"action execution {aid}: {a.get('state')} in the REST API, the result "
                            f"at {first.where()} says {first.doc.get('result')}")
            continue
        run = runs.get(aid)
        if run is not None and a.get("name") == run[0].doc.get("action_name"):  # not ad-hoc
            try:
                output = json.loads(a.get("output") or "{}")
            except ValueError:
                output = a.get("output")
            if output != {"result": first.doc.get("data")}:
                problems.append(f"action execution {aid}: output {str(output)[:200]} in the REST "
                                f"API, the result at {first.where()} says "
                                f"{str(first.doc.get('data'))[:200]}")
        elif run is None and actions_trimmed:
            unverifiable += 1
    stats["unverifiable"] = unverifiable
    stats["messages"] = len(messages)
    if not messages or stats["run_actions"] == 0 or stats["results"] == 0:
        problems.append(f"the checker read too little to check anything: {len(messages)} messages, "
                        f"{stats['run_actions']} RunActions, {stats['results']} results of the "
                        f"{len(relevant)} executions")
    return {"stats": stats, "problems": problems}


def http_api(base: str) -> ApiCall:
    """api_call for one API process at `base` (http://host:port): what the checker asks (GETs)."""

    def call(method: str, path: str) -> Tuple[int, Any]:
        try:
            with urllib.request.urlopen(urllib.request.Request(base.rstrip("/") + path,
                                                               method=method), timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    return call


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers (host:port)")
    ap.add_argument("--prefix", default="", help="the deployment's `bora --prefix`")
    ap.add_argument("--api", required=True, help="an API process, e.g. http://127.0.0.1:8989")
    ap.add_argument("--execution", action="append", default=None,
                    help="an execution id the driver started (repeatable; default: every one seen)")
    args = ap.parse_args()
    report = check_topics(args.bootstrap, args.prefix, http_api(args.api), args.execution)
    print(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
