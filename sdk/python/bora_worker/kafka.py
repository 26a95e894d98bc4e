"""The Kafka transport: consumes RunAction requests for one pool, publishes ActionCompleted results
(wire formats: sdk/README.md).

Delivery is at least once, like the C++ worker: a batch's offsets are committed to the consumer
group `<prefix>bora-workers.<pool>` only after all its results were produced and flushed to
`<prefix>bora.events`. A worker killed mid-action leaves the request to the group's next owner,
which runs it again; the engine ignores a second result for the same action execution.

confluent-kafka (the `kafka` extra) is imported only when a KafkaTransport is made, so the package
and its HTTP transport work without it.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from bora_worker.runner import Runner
from bora_worker.types import ActionRequest, BadMessage, Outcome

SCHEMA_VERSION = 1
MAX_MESSAGE_BYTES = 8 << 20  # as sdk/protocol: larger messages are refused

log = logging.getLogger("bora_worker")


def events_topic(prefix: str = "") -> str:
    """`<prefix>bora.events`: where results go (key = execution id)."""
    return f"{prefix}bora.events"


def actions_topic(pool: str, prefix: str = "") -> str:
    """`<prefix>bora.actions.<pool>`: the requests of one pool (a task's `target`); empty means
    default."""
    return f"{prefix}bora.actions.{pool or 'default'}"


def _field(doc: Dict[str, Any], key: str, types: Tuple[type, ...], default: Any, required: bool) -> Any:
    value = doc.get(key)
    if value is None:
        if required:
            raise BadMessage(f"missing field '{key}'")
        return default
    # bool is an int in Python: only accept it where a bool is asked for.
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        raise BadMessage(f"field '{key}' must be {' or '.join(t.__name__ for t in types)}")
    return value


def decode_run_action(value: Optional[bytes]) -> ActionRequest:
    """Decodes a RunAction message; raises BadMessage saying what is wrong (never anything else)."""
    if value is None:
        raise BadMessage("empty message")
    if len(value) > MAX_MESSAGE_BYTES:
        raise BadMessage(
            f"message of {len(value)} bytes is over the {MAX_MESSAGE_BYTES} byte limit"
        )
    try:
        doc = json.loads(value)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise BadMessage(f"not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadMessage("not a JSON object")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadMessage("missing integer 'schema_version'")
    if version != SCHEMA_VERSION:
        raise BadMessage(f"unsupported schema_version {version} (this SDK reads {SCHEMA_VERSION})")
    if doc.get("type") != "RunAction":
        raise BadMessage(f"type must be 'RunAction', not {doc.get('type')!r}")
    req = ActionRequest(
        execution_id=_field(doc, "execution_id", (str,), "", True),
        task_execution_id=_field(doc, "task_execution_id", (str,), "", True),
        action_execution_id=_field(doc, "action_execution_id", (str,), "", True),
        action_name=_field(doc, "action_name", (str,), "", True),
        input=_field(doc, "input", (dict,), {}, True),
        workflow_name=_field(doc, "workflow_name", (str,), "", False),
        task_name=_field(doc, "task_name", (str,), "", False),
        target=_field(doc, "target", (str,), "", False),
        timeout_s=_field(doc, "timeout_s", (int,), 0, False),
        safe_rerun=_field(doc, "safe_rerun", (bool,), False, False),
        is_async=_field(doc, "is_async", (bool,), False, False),
        attempt=_field(doc, "attempt", (int,), 0, False),
        security=_field(doc, "security", (dict,), None, False),
    )
    if not req.execution_id or not req.action_execution_id or not req.action_name:
        raise BadMessage("execution_id, action_execution_id and action_name must not be empty")
    return req


def encode_action_completed(req: ActionRequest, result: str, data: Any) -> bytes:
    """The ActionCompleted message for `req`; result is "success", "error" or "cancelled".

    Raises ValueError/TypeError when `data` is not JSON (NaN and infinities are not JSON either).
    """
    if result not in ("success", "error", "cancelled"):
        raise ValueError(f"result must be success, error or cancelled, not {result!r}")
    doc = {
        "schema_version": SCHEMA_VERSION,
        "type": "ActionCompleted",
        "execution_id": req.execution_id,
        "task_execution_id": req.task_execution_id,
        "action_execution_id": req.action_execution_id,
        "result": result,
        "data": data,
    }
    return json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8")


def encode_outcome(req: ActionRequest, outcome: Outcome) -> bytes:
    """The ActionCompleted for an outcome; a result over the bus limit becomes an error saying so."""
    result = "success" if outcome.ok else "error"
    try:
        value = encode_action_completed(req, result, outcome.data)
    except (TypeError, ValueError) as e:  # Outcome data is JSON already; kept as a safety net
        value = encode_action_completed(
            req, "error", f"the result of action {req.action_name} is not JSON: {e}"
        )
    if len(value) > MAX_MESSAGE_BYTES:
        value = encode_action_completed(
            req,
            "error",
            f"the action's result is {len(value)} bytes encoded, more than the bus message "
            f"limit of {MAX_MESSAGE_BYTES} bytes (8 MiB)",
        )
    return value


class KafkaTransport:
    """Consumes `<prefix>bora.actions.<pool>` in group `<prefix>bora-workers.<pool>`, publishes to
    `<prefix>bora.events`.

    brokers: Kafka bootstrap servers ("host:port"); pool: the tasks' `target` this worker serves;
    prefix: the deployment prefix given to `bora --prefix`. `config` entries are added to both Kafka
    clients' settings (e.g. security), `session_timeout_ms` is how fast the group notices a dead
    worker.
    """

    def __init__(
        self,
        brokers: str,
        pool: str = "default",
        prefix: str = "",
        *,
        config: Optional[Dict[str, Any]] = None,
        session_timeout_ms: int = 10000,
        max_batch: int = 64,
        flush_timeout_s: float = 30.0,
        create_topic: bool = True,
        topic_partitions: int = 1,
    ):
        if not brokers:
            raise ValueError("brokers must not be empty")
        self.brokers = brokers
        self.pool = pool or "default"
        self.prefix = prefix
        self.group = f"{prefix}bora-workers.{self.pool}"
        self.topic = actions_topic(self.pool, prefix)
        self.events_topic = events_topic(prefix)
        self._config = dict(config or {})
        self._session_timeout_ms = session_timeout_ms
        self._max_batch = max(1, max_batch)
        self._flush_timeout_s = flush_timeout_s
        self._create_topic = create_topic
        self._topic_partitions = max(1, topic_partitions)
        self._consumer: Any = None
        self._producer: Any = None
        self._delivery_errors: List[str] = []
        self.stats: Dict[str, int] = {"skipped": 0, "redelivered_batches": 0}

    def describe(self) -> str:
        return f"{self.topic} on {self.brokers}"

    # ---- the loop --------------------------------------------------------------------------------

    def serve(
        self,
        runner: Runner,
        stop: threading.Event,
        until: Callable[[], bool],
        *,
        poll_timeout_s: float = 0.5,
        shutdown_grace: float = 30.0,
    ) -> None:
        """Polls batches until stop is set or until() is true, then leaves the group."""
        self.open()
        try:
            while not stop.is_set() and not until():
                self.poll_once(runner, poll_timeout_s, stop=stop, shutdown_grace=shutdown_grace)
        finally:
            self.close()

    def open(self) -> None:
        """Creates the pool's topic when missing (as the C++ worker does) and subscribes.
        Idempotent."""
        if self._consumer is not None:
            return
        from confluent_kafka import Consumer, Producer  # type: ignore[import-not-found,unused-ignore]

        common = {"bootstrap.servers": self.brokers, **self._config}
        if self._create_topic:
            self._ensure_topic(common)
        # murmur2_random, as Bora's own producers (common/kafka/kafka_bus.cc): a result must land on its
        # execution's partition of bora.events, where the orchestrator that owns the execution reads it.
        # librdkafka's default (consistent_random, CRC32) picks another partition for most keys, and the
        # result is then lost to the execution (seen with 4 partitions: the task stayed RUNNING).
        self._producer = Producer(
            {
                **common,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "partitioner": "murmur2_random",
            }
        )
        self._consumer = Consumer(
            {
                **common,
                "group.id": self.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # The C++ workers of the same pool share this group: same assignment protocol.
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": self._session_timeout_ms,
            }
        )
        self._consumer.subscribe([self.topic])

    def close(self) -> None:
        """Flushes pending results and leaves the group (its partitions move at once)."""
        from confluent_kafka import KafkaException  # type: ignore[import-not-found,unused-ignore]

        if self._producer is not None:
            self._producer.flush(self._flush_timeout_s)
        if self._consumer is not None:
            try:
                self._consumer.close()
            except KafkaException as e:
                log.warning("closing the consumer: %s", e)
        self._consumer = None
        self._producer = None

    def poll_once(
        self,
        runner: Runner,
        timeout_s: float = 0.5,
        *,
        stop: Optional[threading.Event] = None,
        shutdown_grace: float = 30.0,
    ) -> int:
        """Reads up to max_batch requests, runs them (up to the runner's concurrency at once),
        publishes and flushes their results, then commits their offsets. Returns how many messages
        were read. When the results cannot be delivered, nothing is committed and the consumer goes
        back to the batch's first offsets, so it is read again. When `stop` is set while the batch
        runs, its actions get `shutdown_grace` seconds; if some are still running then, nothing is
        committed (the group's next owner runs the batch again).
        """
        from confluent_kafka import (  # type: ignore[import-not-found,unused-ignore]
            KafkaError,
            KafkaException,
            TopicPartition,
        )

        self.open()
        messages = self._consumer.consume(self._max_batch, timeout_s)
        first: Dict[Tuple[str, int], int] = {}
        next_offsets: Dict[Tuple[str, int], int] = {}
        requests: List[ActionRequest] = []
        for m in messages:
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer: %s", err)
                continue
            tp = (m.topic(), m.partition())
            first.setdefault(tp, m.offset())
            next_offsets[tp] = m.offset() + 1
            try:
                requests.append(decode_run_action(m.value()))
            except BadMessage as e:
                self.stats["skipped"] += 1
                log.warning(
                    "dropping a bad action request at %s:%d@%d: %s",
                    m.topic(),
                    m.partition(),
                    m.offset(),
                    e,
                )
        if not next_offsets:
            return len(messages)
        outcomes = self._run_batch(runner, requests, stop, shutdown_grace)
        for i, req in enumerate(requests):
            outcome = outcomes.get(i)
            if outcome is not None:
                self._produce(req.execution_id, encode_outcome(req, outcome))
        complete = len(outcomes) == len(requests)
        remaining = self._producer.flush(self._flush_timeout_s)
        errors, self._delivery_errors = self._delivery_errors, []
        if not complete:
            log.warning(
                "shutting down with %d action(s) still running: their batch is not committed",
                len(requests) - len(outcomes),
            )
            return len(messages)
        if remaining or errors:
            self.stats["redelivered_batches"] += 1
            log.error(
                "cannot deliver %d result(s) (%s): the requests will be read again",
                remaining + len(errors),
                "; ".join(errors[:3]) or "flush timed out",
            )
            for (topic, partition), offset in first.items():
                try:
                    self._consumer.seek(TopicPartition(topic, partition, offset))
                except KafkaException as e:  # no longer assigned: the new owner reads it again
                    log.warning("seek %s[%d]@%d: %s", topic, partition, offset, e)
            if stop is not None:
                stop.wait(0.5)  # back off while Kafka is unavailable
            return len(messages)
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            # Typically a rebalance took the partition: its next owner runs the requests again.
            log.warning("commit %s: %s", offsets, e)
        return len(messages)

    # ---- internals -------------------------------------------------------------------------------

    @staticmethod
    def _run_batch(
        runner: Runner,
        requests: List[ActionRequest],
        stop: Optional[threading.Event],
        shutdown_grace: float,
    ) -> Dict[int, Outcome]:
        """Runs the batch on the runner; returns the outcomes of those that ended (all of them,
        unless a shutdown's grace ran out)."""
        done = threading.Condition()
        outcomes: Dict[int, Outcome] = {}  # by index in `requests`

        def on_done(index: int, outcome: Outcome) -> None:
            with done:
                outcomes[index] = outcome
                done.notify_all()

        for i, req in enumerate(requests):
            runner.submit(req, functools.partial(_indexed, on_done, i))
        deadline: Optional[float] = None
        with done:
            while len(outcomes) < len(requests):
                if stop is not None and stop.is_set():
                    if deadline is None:
                        deadline = time.monotonic() + shutdown_grace
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    done.wait(min(left, 0.2))
                else:
                    done.wait(0.2)  # wakes to notice a stop
            return dict(outcomes)

    def _produce(self, key: str, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(
                    self.events_topic,
                    key=key.encode("utf-8"),
                    value=value,
                    on_delivery=self._on_delivery,
                )
                break
            except BufferError:  # local queue full: make room
                self._producer.flush(1.0)
        self._producer.poll(0)

    def _ensure_topic(self, common: Dict[str, Any]) -> None:
        from confluent_kafka import KafkaError, KafkaException  # type: ignore[import-not-found,unused-ignore]
        from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[import-not-found,unused-ignore]

        admin = AdminClient(common)
        if self.topic in admin.list_topics(timeout=30).topics:
            return
        futures = admin.create_topics(
            [NewTopic(self.topic, num_partitions=self._topic_partitions, replication_factor=-1)]
        )
        try:
            futures[self.topic].result(timeout=30)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._delivery_errors.append(str(err))


def _indexed(
    on_done: Callable[[int, Outcome], None], index: int, _req: ActionRequest, outcome: Outcome
) -> None:
    on_done(index, outcome)
