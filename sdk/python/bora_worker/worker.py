"""Worker: one API for writing Bora actions in Python, over either transport.

    worker = Worker.http("http://127.0.0.1:8989", pool="python")        # bora serve's worker API
    worker = Worker.kafka("localhost:9092", pool="python", prefix="")   # the bus, as the C++ workers
    worker = Worker("localhost:9092", pool="python")                    # the same as Worker.kafka

    @worker.action("py.reverse", input="text", description="reverses text")
    def reverse(text): return text[::-1]

    worker.run()   # until SIGINT / SIGTERM or worker.stop()

Handlers get the action's input as keyword arguments (and the ActionRequest first with
with_request=True); sync handlers run on `concurrency` threads, coroutine functions on one asyncio
loop thread, at most `concurrency` actions at once in all. The return value (any JSON) is the
result; ActionError(data) fails the action with `data`, any other exception with its message.

Delivery is at least once on both transports: make side effects idempotent, keyed by
(request.action_execution_id, request.attempt).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Callable, Dict, List, Optional, TypeVar, Union

from bora_worker.http import HttpTransport, Token
from bora_worker.kafka import KafkaTransport, encode_outcome
from bora_worker.runner import Runner
from bora_worker.types import ActionRequest

log = logging.getLogger("bora_worker")

F = TypeVar("F", bound=Callable[..., Any])
Transport = Union[HttpTransport, KafkaTransport]


class Worker:
    """Runs the actions registered with @worker.action(name) for one pool.

    Worker(brokers, pool, prefix, ...) is the Kafka worker (kept for existing code; see
    Worker.kafka for the options); Worker.http(url, ...) leases actions over HTTP instead.
    shutdown_grace: seconds running actions get to finish after stop() before their requests are
    handed back.
    """

    def __init__(
        self,
        brokers: str = "",
        pool: str = "default",
        prefix: str = "",
        *,
        concurrency: int = 1,
        shutdown_grace: float = 30.0,
        transport: Optional[Transport] = None,
        **kafka_options: Any,
    ):
        if transport is None:
            transport = KafkaTransport(brokers, pool, prefix, **kafka_options)
        elif kafka_options or brokers:
            raise ValueError("brokers and Kafka options go with the Kafka transport only")
        self.transport: Transport = transport
        self.pool = transport.pool
        self.shutdown_grace = shutdown_grace
        self._runner = Runner(concurrency)
        self._stop = threading.Event()

    @classmethod
    def http(
        cls,
        url: str,
        pool: str = "python",
        token: Token = None,
        *,
        concurrency: int = 1,
        shutdown_grace: float = 30.0,
        lease: float = 30.0,
        wait: float = 20.0,
        worker_id: Optional[str] = None,
    ) -> "Worker":
        """A worker leasing actions from `bora serve` at `url` (see bora_worker.http).

        pool: the pool this worker serves (not `default`: that is the built-in actions' pool, the
        server refuses it); lease: seconds a lease lasts (heartbeats keep long actions' leases
        alive); wait: seconds a poll may wait on the server for work; token: the X-Auth-Token, when
        the server wants one: a string, or a function returning the current token, called for
        every request (e.g. a keystoneauth1 session's get_token with `bora serve --auth keystone`).
        """
        transport = HttpTransport(
            url, pool, token, lease=lease, wait=wait, worker_id=worker_id
        )
        return cls(concurrency=concurrency, shutdown_grace=shutdown_grace, transport=transport)

    @classmethod
    def kafka(
        cls,
        brokers: str,
        pool: str = "default",
        prefix: str = "",
        *,
        concurrency: int = 1,
        shutdown_grace: float = 30.0,
        config: Optional[Dict[str, Any]] = None,
        session_timeout_ms: int = 10000,
        max_batch: int = 64,
        flush_timeout_s: float = 30.0,
        create_topic: bool = True,
        topic_partitions: int = 1,
    ) -> "Worker":
        """A worker on the Kafka bus (needs the `kafka` extra: confluent-kafka). See
        bora_worker.kafka: brokers are Kafka's bootstrap servers, prefix the cluster's `bora
        --prefix`, config extra librdkafka settings for both clients."""
        transport = KafkaTransport(
            brokers,
            pool,
            prefix,
            config=config,
            session_timeout_ms=session_timeout_ms,
            max_batch=max_batch,
            flush_timeout_s=flush_timeout_s,
            create_topic=create_topic,
            topic_partitions=topic_partitions,
        )
        return cls(concurrency=concurrency, shutdown_grace=shutdown_grace, transport=transport)

    # ---- registration ----------------------------------------------------------------------------

    def action(
        self,
        name: str,
        *,
        with_request: bool = False,
        input: Optional[str] = None,
        description: str = "",
    ) -> Callable[[F], F]:
        """Decorator: registers `fn` (a function or a coroutine function) as the action `name`.

        It is called with the action's input as keyword arguments (`fn(**input)`), or
        `fn(request, **input)` when with_request. Its return value (any JSON) is the action's
        result; an exception fails the action with its message (ActionError: with its data).
        input / description declare the action to the server (HTTP); input defaults to the
        parameters of fn's signature ("text, suffix=''"), description to its docstring's first line.
        """
        if not name:
            raise ValueError("an action needs a name")

        def register(fn: F) -> F:
            self._runner.register(
                name, fn, with_request=with_request, input=input, description=description
            )
            return fn

        return register

    def actions(self) -> List[str]:
        return sorted(self._runner.handlers)

    def declarations(self) -> List[Dict[str, str]]:
        """The actions as the HTTP poll declares them: [{"name", "input", "description"}]."""
        return [h.declaration() for h in self._runner.handlers.values()]

    # ---- the loop --------------------------------------------------------------------------------

    def run(self, poll_timeout_s: float = 0.5) -> None:
        """Runs until stop() (or SIGINT / SIGTERM when called from the main thread): stops polling,
        lets running actions finish for up to shutdown_grace seconds, hands back the rest."""
        previous: Dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self.stop())
        try:
            self.run_until(lambda: False, poll_timeout_s)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def run_until(self, predicate: Callable[[], bool], poll_timeout_s: float = 0.5) -> None:
        """Runs until predicate() is true (checked between polls, at least every poll_timeout_s)
        or stop(), then shuts down as run() does."""
        self._stop.clear()
        self._runner.start()
        log.info(
            "bora worker for pool '%s' on %s, actions %s, concurrency %d",
            self.pool,
            self.transport.describe(),
            ", ".join(self.actions()) or "none",
            self._runner.concurrency,
        )
        try:
            self.transport.serve(
                self._runner,
                self._stop,
                predicate,
                poll_timeout_s=poll_timeout_s,
                shutdown_grace=self.shutdown_grace,
            )
        finally:
            self._runner.close()

    def stop(self) -> None:
        """Asks the loop to stop polling and shut down. Any thread, or a signal handler."""
        self._stop.set()
        self._runner.notify()
        if isinstance(self.transport, HttpTransport):
            self.transport.abort()

    # ---- Kafka compatibility (the 0.1 API) -------------------------------------------------------

    def _kafka(self) -> KafkaTransport:
        if not isinstance(self.transport, KafkaTransport):
            raise TypeError("this worker does not use the Kafka transport")
        return self.transport

    @property
    def group(self) -> str:
        return self._kafka().group

    @property
    def topic(self) -> str:
        return self._kafka().topic

    @property
    def events_topic(self) -> str:
        return self._kafka().events_topic

    def open(self) -> None:
        self._kafka().open()

    def close(self) -> None:
        self._kafka().close()

    def poll_once(self, timeout_s: float = 0.5) -> int:
        """Kafka: reads one batch, runs it, publishes its results and commits it (see
        KafkaTransport.poll_once), for your own loop."""
        return self._kafka().poll_once(
            self._runner, timeout_s, stop=self._stop, shutdown_grace=self.shutdown_grace
        )

    def _run(self, req: ActionRequest) -> bytes:
        """Runs `req` on this thread and returns the ActionCompleted the Kafka transport sends."""
        return encode_outcome(req, self._runner.run_now(req))

    # ---- counters --------------------------------------------------------------------------------

    @property
    def stats(self) -> Dict[str, int]:
        """Counters, for logs and tests: succeeded / failed actions, and the transport's (Kafka:
        skipped bad messages, redelivered_batches; HTTP: polls, poll_errors, leases, heartbeats,
        completed, duplicates, lost, released, skipped)."""
        return {**self._runner.stats, **self.transport.stats}
