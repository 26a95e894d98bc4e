"""A Bora worker in Python: consumes RunAction requests for one pool, runs registered actions,
publishes ActionCompleted results (wire formats: sdk/README.md).

Delivery is at least once, like the C++ worker: a request's offset is committed to the consumer
group `<prefix>bora-workers.<pool>` only after its result was produced and flushed to
`<prefix>bora.events`. A worker killed mid-action leaves the request to the group's next owner,
which runs it again; the engine ignores a second result for the same action execution. Handlers with
side effects should therefore be idempotent, keyed by (request.action_execution_id,
request.attempt).

Threading: a Worker's loop (run / run_until / poll_once) runs on one thread at a time and calls the
handlers on that thread, one request after the other; stop() may be called from any thread or a
signal handler.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

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


class BadMessage(ValueError):
    """A request that is not a valid RunAction of a schema version this SDK reads."""


class ActionError(Exception):
    """Raise from a handler to fail the action with structured `data` (any JSON value) as the error.

    Any other exception fails it too, with its message as the error text.
    """

    def __init__(self, data: Any):
        super().__init__(data if isinstance(data, str) else json.dumps(data, default=str))
        self.data = data


@dataclasses.dataclass(frozen=True)
class ActionRequest:
    """One decoded RunAction message (sdk/README.md)."""

    execution_id: str
    task_execution_id: str
    action_execution_id: str
    action_name: str
    input: Dict[str, Any]
    workflow_name: str = ""
    task_name: str = ""
    target: str = ""
    timeout_s: int = 0  # 0 = none; not enforced by the SDK, a handler may honour it
    safe_rerun: bool = False
    is_async: bool = False
    attempt: int = 0


def _field(doc: dict, key: str, types: tuple, default: Any, required: bool) -> Any:
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


@dataclasses.dataclass
class _Handler:
    fn: Callable[..., Any]
    with_request: bool


class Worker:
    """Runs the actions registered with @worker.action(name) for one pool.

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
        self._handlers: Dict[str, _Handler] = {}
        self._stop = threading.Event()
        self._consumer: Optional[Consumer] = None
        self._producer: Optional[Producer] = None
        self._delivery_errors: List[str] = []
        # Counters, for logs and tests: requests run (succeeded / failed), bad messages skipped,
        # batches whose results could not be delivered (left uncommitted and read again).
        self.stats = {"succeeded": 0, "failed": 0, "skipped": 0, "redelivered_batches": 0}

    # ---- registration ----------------------------------------------------------------------------

    def action(self, name: str, *, with_request: bool = False) -> Callable:
        """Decorator: registers `fn` as the action `name`. It is called with the action's input as
        keyword arguments (`fn(**input)`), or `fn(request, **input)` when with_request. Its return
        value (any JSON) is the action's result; an exception fails the action with its message
        (ActionError: with its data).
        """
        if not name:
            raise ValueError("an action needs a name")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._handlers[name] = _Handler(fn, with_request)
            return fn

        return register

    def actions(self) -> List[str]:
        return sorted(self._handlers)

    # ---- the loop --------------------------------------------------------------------------------

    def run(self, poll_timeout_s: float = 0.5) -> None:
        """Runs until stop() (or SIGINT / SIGTERM when called from the main thread), then closes."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self.stop())
        self.run_until(lambda: False, poll_timeout_s)

    def run_until(self, predicate: Callable[[], bool], poll_timeout_s: float = 0.5) -> None:
        """Runs until predicate() is true (checked after every poll) or stop(), then closes the
        clients."""
        self._stop.clear()
        self.open()
        try:
            while not self._stop.is_set() and not predicate():
                self.poll_once(poll_timeout_s)
        finally:
            self.close()

    def stop(self) -> None:
        """Asks the loop to return after the request it is running. Any thread, or a signal
        handler."""
        self._stop.set()

    def open(self) -> None:
        """Creates the pool's topic when missing (as the C++ worker does) and subscribes.
        Idempotent."""
        if self._consumer is not None:
            return
        common = {"bootstrap.servers": self.brokers, **self._config}
        if self._create_topic:
            self._ensure_topic(common)
        self._producer = Producer(
            {**common, "enable.idempotence": True, "acks": "all", "linger.ms": 5}
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
        log.info(
            "bora worker for pool '%s' (%s) on %s, actions %s",
            self.pool,
            self.topic,
            self.brokers,
            ", ".join(self.actions()) or "none",
        )

    def close(self) -> None:
        """Flushes pending results and leaves the group (its partitions move at once)."""
        if self._producer is not None:
            self._producer.flush(self._flush_timeout_s)
        if self._consumer is not None:
            try:
                self._consumer.close()
            except KafkaException as e:
                log.warning("closing the consumer: %s", e)
        self._consumer = None
        self._producer = None

    def poll_once(self, timeout_s: float = 0.5) -> int:
        """Reads up to max_batch requests, runs them, publishes and flushes their results, then
        commits their offsets. Returns how many messages were read. When the results cannot be
        delivered, nothing is committed and the consumer goes back to the batch's first offsets, so
        it is read again.
        """
        self.open()
        assert self._consumer is not None and self._producer is not None
        messages = self._consumer.consume(self._max_batch, timeout_s)
        first: Dict[Tuple[str, int], int] = {}
        next_offsets: Dict[Tuple[str, int], int] = {}
        for m in messages:
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer: %s", err)
                continue
            tp = (m.topic(), m.partition())
            first.setdefault(tp, m.offset())
            self._handle(m)
            next_offsets[tp] = m.offset() + 1
        if not next_offsets:
            return len(messages)
        remaining = self._producer.flush(self._flush_timeout_s)
        errors, self._delivery_errors = self._delivery_errors, []
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
            self._stop.wait(0.5)  # back off while Kafka is unavailable
            return len(messages)
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            # Typically a rebalance took the partition: its next owner runs the requests again.
            log.warning("commit %s: %s", offsets, e)
        return len(messages)

    # ---- internals -------------------------------------------------------------------------------

    def _ensure_topic(self, common: Dict[str, Any]) -> None:
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

    def _handle(self, m) -> None:
        try:
            req = decode_run_action(m.value())
        except BadMessage as e:
            self.stats["skipped"] += 1
            log.warning(
                "dropping a bad action request at %s:%d@%d: %s",
                m.topic(),
                m.partition(),
                m.offset(),
                e,
            )
            return
        value = self._run(req)
        while True:
            try:
                self._producer.produce(
                    self.events_topic,
                    key=req.execution_id.encode("utf-8"),
                    value=value,
                    on_delivery=self._on_delivery,
                )
                break
            except BufferError:  # local queue full: make room
                self._producer.flush(1.0)
        self._producer.poll(0)

    def _run(self, req: ActionRequest) -> bytes:
        handler = self._handlers.get(req.action_name)
        if handler is None:
            result, data = "error", f"Failed to find action [action_name={req.action_name}]"
        else:
            try:
                if handler.with_request:
                    data = handler.fn(req, **req.input)
                else:
                    data = handler.fn(**req.input)
                result = "success"
            except ActionError as e:
                result, data = "error", e.data
            except (
                Exception
            ) as e:  # noqa: BLE001 - every failure of user code is the action's error
                result, data = "error", str(e) or type(e).__name__
                log.info(
                    "action %s (%s) failed: %s", req.action_name, req.action_execution_id, data
                )
        try:
            value = encode_action_completed(req, result, data)
        except (TypeError, ValueError) as e:
            result = "error"
            value = encode_action_completed(
                req, result, f"the result of action {req.action_name} is not JSON: {e}"
            )
        if len(value) > MAX_MESSAGE_BYTES:
            result = "error"
            value = encode_action_completed(
                req,
                result,
                f"the action's result is {len(value)} bytes encoded, more than the bus message "
                f"limit of {MAX_MESSAGE_BYTES} bytes (8 MiB)",
            )
        self.stats["succeeded" if result == "success" else "failed"] += 1
        return value

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self._delivery_errors.append(str(err))
