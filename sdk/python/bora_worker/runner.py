"""Runs handlers, at most `concurrency` at once, for either transport.

Sync handlers run on a fixed set of `concurrency` daemon threads; async handlers (coroutine
functions) all run on one asyncio loop thread, each awaited by one of those threads so that the one
limit covers both kinds. The threads are daemons on purpose: a handler that never returns must not
keep the process alive after a graceful shutdown gave up on it (its request is handed back).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import queue
import threading
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from bora_worker.types import ActionRequest, Outcome

log = logging.getLogger("bora_worker")

OnDone = Callable[[ActionRequest, Outcome], None]


@dataclasses.dataclass(frozen=True)
class Handler:
    """A registered action: how to call it and how to declare it (HTTP poll's `actions`)."""

    name: str
    fn: Callable[..., Any]
    with_request: bool
    is_async: bool
    input: str  # Mistral-style parameter list, "text, suffix=''"
    description: str

    def declaration(self) -> Dict[str, str]:
        return {"name": self.name, "input": self.input, "description": self.description}


def describe_input(fn: Callable[..., Any], with_request: bool) -> str:
    """The Mistral-style input of `fn` from its signature: "a, b=1, c='x'" (the request parameter,
    *args and **kwargs left out)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ""
    if with_request and params:
        params = params[1:]
    parts: List[str] = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty:
            parts.append(p.name)
        elif p.default is None or isinstance(p.default, bool):
            parts.append(f"{p.name}={json.dumps(p.default)}")
        else:
            parts.append(f"{p.name}={p.default!r}")
    return ", ".join(parts)


class Runner:
    """Handlers by name and the threads that run them. submit() blocks while `concurrency` actions
    are in flight; wait_free() / wait_idle() let a transport wait for room without sleeping."""

    def __init__(self, concurrency: int = 1):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.handlers: Dict[str, Handler] = {}
        self._cond = threading.Condition()
        self._in_flight = 0
        self._jobs: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._threads: List[threading.Thread] = []
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[threading.Thread] = None
        self.stats: Dict[str, int] = {"succeeded": 0, "failed": 0}

    # ---- registration ----------------------------------------------------------------------------

    def register(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        with_request: bool = False,
        input: Optional[str] = None,
        description: str = "",
    ) -> None:
        if not name:
            raise ValueError("an action needs a name")
        is_async = inspect.iscoroutinefunction(fn)
        self.handlers[name] = Handler(
            name=name,
            fn=fn,
            with_request=with_request,
            is_async=is_async,
            input=describe_input(fn, with_request) if input is None else input,
            description=description or (inspect.getdoc(fn) or "").split("\n")[0],
        )

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Starts the threads (idempotent)."""
        if self._threads:
            return
        self._jobs = queue.Queue()  # a fresh queue: threads of an earlier run keep theirs
        for i in range(self.concurrency):
            t = threading.Thread(
                target=self._work, args=(self._jobs,), name=f"bora-action-{i}", daemon=True
            )
            t.start()
            self._threads.append(t)
        if any(h.is_async for h in self.handlers.values()):
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._loop_thread = threading.Thread(
                target=self._run_loop, args=(loop,), name="bora-asyncio", daemon=True
            )
            self._loop_thread.start()

    def close(self) -> None:
        """Lets idle threads end; threads still in a handler end when it returns (daemons)."""
        for _ in self._threads:
            self._jobs.put(None)
        self._threads = []
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
            self._loop_thread = None

    # ---- capacity --------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    def free(self) -> int:
        with self._cond:
            return self.concurrency - self._in_flight

    def wait_free(self, timeout: Optional[float]) -> bool:
        """Waits until an action can start; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight < self.concurrency, timeout)

    def wait_idle(self, timeout: Optional[float]) -> bool:
        """Waits until no action runs; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout)

    def notify(self) -> None:
        """Wakes wait_free / wait_idle callers (e.g. to check a stop flag)."""
        with self._cond:
            self._cond.notify_all()

    # ---- running ---------------------------------------------------------------------------------

    def submit(self, req: ActionRequest, on_done: OnDone) -> None:
        """Runs `req` on a worker thread and calls on_done(req, outcome) there when it ends (after
        the slot is freed). Blocks while every slot is taken."""
        self.start()
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight < self.concurrency)
            self._in_flight += 1

        def job() -> None:
            straggler: Optional[threading.Event] = None
            try:
                outcome, straggler = self._run(req)
                try:
                    on_done(req, outcome)
                except Exception:  # noqa: BLE001 - a transport bug must not kill the thread
                    log.exception("handing back the result of %s", req.action_execution_id)
                # A sync handler past its timeout_s keeps its slot until it returns: the
                # concurrency limit stays true (its timeout was already reported).
                if straggler is not None:
                    straggler.wait()
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

        self._jobs.put(job)

    def run_now(self, req: ActionRequest) -> Outcome:
        """Runs `req` on the calling thread (async handlers: on the loop thread, or a private loop
        when the runner is not started) and returns its outcome. Never raises. With a timeout_s the
        outcome is an ERROR once it passes (a sync handler goes on in the background)."""
        return self._run(req)[0]

    def _run(self, req: ActionRequest) -> Tuple[Outcome, Optional[threading.Event]]:
        """run_now, and for a sync handler that outlived its timeout_s the event set when it ends."""
        handler = self.handlers.get(req.action_name)
        straggler: Optional[threading.Event] = None
        if handler is None:
            outcome = Outcome("ERROR", f"Failed to find action [action_name={req.action_name}]")
        elif handler.is_async:
            outcome = self._run_async(handler, req)
        elif req.timeout_s > 0:
            outcome, straggler = self._run_sync_with_timeout(handler, req)
        else:
            try:
                value = self._call(handler, req)
                outcome = Outcome.of_value(req.action_name, value)
            except Exception as e:  # noqa: BLE001 - every failure of user code is the action's error
                outcome = Outcome.of_exception(req.action_name, e)
        if not outcome.ok:
            log.info(
                "action %s (%s) failed: %s", req.action_name, req.action_execution_id, outcome.data
            )
        with self._cond:
            self.stats["succeeded" if outcome.ok else "failed"] += 1
        return outcome, straggler

    # ---- internals -------------------------------------------------------------------------------

    @staticmethod
    def _call(handler: Handler, req: ActionRequest) -> Any:
        if handler.with_request:
            return handler.fn(req, **req.input)
        return handler.fn(**req.input)

    @staticmethod
    def _timed_out(req: ActionRequest) -> Outcome:
        return Outcome(
            "ERROR", f"action {req.action_name} timed out after {req.timeout_s} s (timeout_s)"
        )

    def _run_sync_with_timeout(
        self, handler: Handler, req: ActionRequest
    ) -> Tuple[Outcome, Optional[threading.Event]]:
        """Runs a sync handler on a thread of its own and waits up to timeout_s. A thread cannot be
        stopped: past the deadline the outcome is a timeout, `req.cancelled` is set for a handler
        that checks it, and the returned event tells when the handler has returned after all."""
        box: Dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                box["value"] = self._call(handler, req)
            except Exception as e:  # noqa: BLE001
                box["error"] = e
            finally:
                done.set()

        threading.Thread(
            target=call, name=f"bora-action-{req.action_execution_id[:8]}", daemon=True
        ).start()
        if not done.wait(req.timeout_s):
            req.cancelled.set()
            return self._timed_out(req), done
        if "error" in box:
            return Outcome.of_exception(req.action_name, box["error"]), None
        return Outcome.of_value(req.action_name, box.get("value")), None

    def _run_async(self, handler: Handler, req: ActionRequest) -> Outcome:
        async def go() -> Outcome:
            try:
                coro: Awaitable[Any] = self._call(handler, req)
                if req.timeout_s > 0:
                    value = await asyncio.wait_for(coro, req.timeout_s)  # cancels it when late
                else:
                    value = await coro
            except asyncio.TimeoutError:
                req.cancelled.set()
                return self._timed_out(req)
            except Exception as e:  # noqa: BLE001
                return Outcome.of_exception(req.action_name, e)
            return Outcome.of_value(req.action_name, value)

        loop = self._loop
        if loop is None:
            return asyncio.run(go())
        return asyncio.run_coroutine_threadsafe(go(), loop).result()

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    @staticmethod
    def _work(jobs: "queue.Queue[Optional[Callable[[], None]]]") -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            job()
