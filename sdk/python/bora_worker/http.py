"""The HTTP transport: leases actions from `bora serve`'s worker API (/v2/workers/...).

The worker long-polls `POST /v2/workers/poll` declaring its actions (that is how the server learns
them and routes them to this pool), runs each lease's action, heartbeats leases of actions that run
longer than a third of the lease, and completes each with SUCCESS or ERROR. A lease that is not
completed or heartbeated in time expires and its action goes back to the queue for another worker:
delivery is at least once, so side effects should be idempotent, keyed by (action_execution_id,
attempt). On a graceful shutdown, leases still running after the grace are released (handed back at
once instead of waiting for their expiry).

Only the standard library is used (http.client), so this transport needs no dependency.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from bora_worker.runner import Runner
from bora_worker.types import ERROR, ActionRequest, BadMessage, Outcome

log = logging.getLogger("bora_worker")

MAX_LEASES_PER_POLL = 100


# X-Auth-Token: none, a fixed token, or a function giving the current one (called per request).
Token = Union[None, str, Callable[[], str]]

class HttpError(Exception):
    """A non-2xx answer: `status` and the server's `faultstring` (or the body's start)."""

    def __init__(self, status: int, faultstring: str):
        super().__init__(f"HTTP {status}: {faultstring}")
        self.status = status
        self.faultstring = faultstring


def _seconds(value: float) -> Any:
    """An int when the value is whole (the server's lease/extend are seconds), else the float."""
    return int(value) if float(value).is_integer() else value


def decode_lease(doc: Any, pool: str = "") -> ActionRequest:
    """One element of poll's `leases` as an ActionRequest; BadMessage when it is not one."""
    if not isinstance(doc, dict):
        raise BadMessage("a lease is not a JSON object")

    def get(key: str, types: Tuple[type, ...], default: Any) -> Any:
        value = doc.get(key, default)
        if value is None:
            value = default
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise BadMessage(f"lease field '{key}' must be {' or '.join(t.__name__ for t in types)}")
        return value

    req = ActionRequest(
        execution_id=get("execution_id", (str,), ""),
        task_execution_id=get("task_execution_id", (str,), ""),
        action_execution_id=get("action_execution_id", (str,), ""),
        action_name=get("action_name", (str,), ""),
        input=get("input", (dict,), {}),
        workflow_name=get("workflow_name", (str,), ""),
        task_name=get("task_name", (str,), ""),
        target=pool,
        timeout_s=get("timeout_s", (int,), 0),
        attempt=get("attempt", (int,), 0),
        security=doc.get("security") if isinstance(doc.get("security"), dict) else None,
        lease_id=get("lease_id", (str,), ""),
        expires_in=float(get("expires_in", (int, float), 0.0)),
    )
    if not req.lease_id or not req.action_name:
        raise BadMessage("a lease needs lease_id and action_name")
    return req


class HttpClient:
    """JSON over HTTP to one server: post() returns the decoded body of a 2xx answer and raises
    HttpError for others, OSError (incl. socket.timeout) for network failures."""

    def __init__(self, url: str, token: Token = None, timeout_s: float = 30.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._base_path = parsed.path.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._open: Dict[int, http.client.HTTPConnection] = {}
        self._aborted = threading.Event()

    def post(
        self, path: str, body: Any, timeout_s: Optional[float] = None, abortable: bool = False
    ) -> Any:
        data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = self._token() if callable(self._token) else self._token
        if token:
            headers["X-Auth-Token"] = token
        conn_cls = (
            http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(self._host, self._port, timeout=timeout_s or self._timeout_s)
        if abortable:
            # Connected before it is registered, under the lock abort() takes: an abort either
            # sees this socket or ran before, and then this request does not start.
            try:
                conn.connect()
                with self._lock:
                    if self._aborted.is_set():
                        raise ConnectionAbortedError("the worker is stopping")
                    self._open[id(conn)] = conn
            except BaseException:
                conn.close()
                raise
        try:
            conn.request("POST", self._base_path + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        finally:
            with self._lock:
                self._open.pop(id(conn), None)
            conn.close()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        if 200 <= status < 300:
            return doc
        if isinstance(doc, dict) and isinstance(doc.get("faultstring"), str):
            fault = doc["faultstring"]
        else:
            fault = raw[:200].decode("utf-8", "replace") or http.client.responses.get(status, "")
        raise HttpError(status, fault)

    def reset(self) -> None:
        """Abortable requests work again (a new run)."""
        self._aborted.clear()

    def abort(self) -> None:
        """Breaks the abortable requests in flight (their post() raises OSError): a long poll then
        ends at once on shutdown (completions and releases are not abortable). Later abortable
        requests fail at once until reset()."""
        with self._lock:
            self._aborted.set()
            for conn in self._open.values():
                sock = conn.sock
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


class _Lease:
    """A running lease: `done` is set when its action ended (or was given up)."""

    def __init__(self, req: ActionRequest):
        self.req = req
        self.done = threading.Event()
        self.abandoned = False  # released on shutdown: its late result is not sent
        self.lost = False  # the server said 404/409 to a heartbeat: someone else may run it


class HttpTransport:
    """Leases the actions of `pool` from the server at `url`.

    lease: seconds each lease lasts (heartbeats extend a running one by as much, every lease/3
    seconds); wait: seconds a poll may wait on the server for work (0..30); token: sent as
    X-Auth-Token (a string, or a function called for every request that returns the current one:
    e.g. a Keystone session's get_token, which renews the token before it expires). Poll failures (network, 5xx, any non-2xx) back off from backoff_min_s doubling to
    backoff_max_s and are retried; they never end the loop.
    """

    def __init__(
        self,
        url: str,
        pool: str = "python",
        token: Token = None,
        *,
        lease: float = 30.0,
        wait: float = 20.0,
        worker_id: Optional[str] = None,
        backoff_min_s: float = 0.5,
        backoff_max_s: float = 10.0,
        complete_retry_s: float = 60.0,
        request_timeout_s: float = 30.0,
    ):
        if lease <= 0:
            raise ValueError("lease must be positive")
        self.client = HttpClient(url, token, request_timeout_s)
        self.url = self.client.url
        self.pool = pool or "default"
        self.lease = lease
        self.wait = max(0.0, min(30.0, wait))
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.complete_retry_s = complete_retry_s
        self._cond = threading.Condition()
        self._active: Dict[str, _Lease] = {}
        self._stop: Optional[threading.Event] = None
        self._connected = False  # the last poll succeeded (logged on each change)
        self.stats: Dict[str, int] = {
            "polls": 0,
            "poll_errors": 0,
            "leases": 0,
            "skipped": 0,
            "heartbeats": 0,
            "completed": 0,
            "duplicates": 0,
            "lost": 0,
            "released": 0,
        }

    def describe(self) -> str:
        return f"{self.url} (worker {self.worker_id})"

    # ---- the API calls ---------------------------------------------------------------------------

    def poll(
        self, runner: Runner, max_leases: int, wait: Optional[float] = None
    ) -> List[ActionRequest]:
        """One `POST /v2/workers/poll` (waiting up to `wait`, default self.wait, seconds on the
        server); raises HttpError / OSError."""
        wait = self.wait if wait is None else wait
        body = {
            "worker": self.worker_id,
            "pool": self.pool,
            "actions": [h.declaration() for h in runner.handlers.values()],
            "max": max(1, min(MAX_LEASES_PER_POLL, max_leases)),
            "wait": _seconds(wait),
            "lease": _seconds(self.lease),
        }
        doc = self.client.post(
            "/v2/workers/poll", body, timeout_s=wait + 30.0, abortable=True
        )
        self._count("polls")
        leases = doc.get("leases") if isinstance(doc, dict) else None
        if not isinstance(leases, list):
            raise BadMessage("the poll answer has no 'leases' list")
        out: List[ActionRequest] = []
        for item in leases:
            try:
                out.append(decode_lease(item, self.pool))
            except BadMessage as e:
                self._count("skipped")
                log.warning("dropping a bad lease %r: %s", item, e)
                lease_id = item.get("lease_id") if isinstance(item, dict) else None
                if isinstance(lease_id, str) and lease_id:
                    self._complete(lease_id, Outcome(ERROR, f"the worker could not read it: {e}"))
        return out

    def heartbeat(self, lease_id: str) -> Any:
        return self.client.post(
            f"/v2/workers/leases/{urllib.parse.quote(lease_id, safe='')}/heartbeat",
            {"extend": _seconds(self.lease)},
        )

    def complete(self, lease_id: str, outcome: Outcome) -> Any:
        return self.client.post(
            f"/v2/workers/leases/{urllib.parse.quote(lease_id, safe='')}/complete",
            {"state": outcome.state, "result": outcome.data},
        )

    def release(self, lease_id: str) -> Any:
        return self.client.post(
            f"/v2/workers/leases/{urllib.parse.quote(lease_id, safe='')}/release", {}
        )

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
        """Polls for as many leases as there are free slots and runs them, until stop is set or
        until() is true (checked between polls, at least every poll_timeout_s while all slots are
        busy); then shuts down gracefully: running actions get shutdown_grace seconds, the leases
        still running after that are released."""
        self._stop = stop
        self.client.reset()
        if stop.is_set():
            return
        runner.start()
        delay = 0.0
        try:
            while not stop.is_set() and not until():
                if not runner.wait_free(poll_timeout_s) or stop.is_set():
                    continue
                try:
                    # Until a poll succeeded, polls do not wait: the first answer confirms that the
                    # server knows the actions (logged), then polls wait for work.
                    leases = self.poll(
                        runner, runner.free(), wait=None if self._connected else 0.0
                    )
                except Exception as e:  # noqa: BLE001 - nothing a poll does may end the loop
                    if stop.is_set():
                        break
                    self._count("poll_errors")
                    self._connected = False
                    delay = min(self.backoff_max_s, delay * 2) if delay else self.backoff_min_s
                    expected = (HttpError, OSError, BadMessage, http.client.HTTPException)
                    log.warning(
                        "poll %s: %s (retrying in %.1f s)",
                        self.url,
                        e,
                        delay,
                        exc_info=not isinstance(e, expected),
                    )
                    stop.wait(delay)
                    continue
                delay = 0.0
                if not self._connected:
                    self._connected = True
                    log.info(
                        "polling %s for pool '%s': actions %s declared",
                        self.url,
                        self.pool,
                        ", ".join(sorted(runner.handlers)) or "none",
                    )
                for req in leases:
                    if stop.is_set():  # polled while shutting down: hand it back untouched
                        self._release(req.lease_id)
                    else:
                        self._start(runner, req)
        finally:
            self._shutdown(shutdown_grace)
            self._stop = None

    def abort(self) -> None:
        """Called by Worker.stop(): ends a long poll in flight at once."""
        self.client.abort()

    # ---- internals -------------------------------------------------------------------------------

    def _count(self, key: str, n: int = 1) -> None:
        with self._cond:
            self.stats[key] += n

    def _start(self, runner: Runner, req: ActionRequest) -> None:
        lease = _Lease(req)
        with self._cond:
            self._active[req.lease_id] = lease
            self.stats["leases"] += 1
        threading.Thread(
            target=self._heartbeats, args=(lease,), name=f"bora-heartbeat-{req.lease_id}", daemon=True
        ).start()
        runner.submit(req, lambda _req, outcome: self._finish(lease, outcome))

    def _heartbeats(self, lease: _Lease) -> None:
        """Every lease/3 seconds while the action runs: extend the lease. The lease's length is
        the one asked for, or less when the server granted less (its `expires_in`)."""

        def third(expires_in: Any) -> float:
            if isinstance(expires_in, (int, float)) and 0 < expires_in < self.lease:
                return float(expires_in) / 3.0
            return self.lease / 3.0

        interval = third(lease.req.expires_in)
        while not lease.done.wait(interval):
            try:
                doc = self.heartbeat(lease.req.lease_id)
                self._count("heartbeats")
                interval = third(doc.get("expires_in") if isinstance(doc, dict) else None)
            except HttpError as e:
                if e.status in (404, 409):
                    self._mark_lost(lease)
                    log.warning(
                        "lease %s of action %s (%s) is lost (%s): another worker may run it",
                        lease.req.lease_id,
                        lease.req.action_name,
                        lease.req.action_execution_id,
                        e,
                    )
                    return
                log.warning("heartbeat %s: %s", lease.req.lease_id, e)
            except (OSError, http.client.HTTPException) as e:
                log.warning("heartbeat %s: %s", lease.req.lease_id, e)

    def _finish(self, lease: _Lease, outcome: Outcome) -> None:
        lease.done.set()
        try:
            if lease.abandoned:
                log.info("action %s ended after its lease was released", lease.req.lease_id)
            else:
                self._complete(lease.req.lease_id, outcome, lease)
        finally:
            with self._cond:
                self._active.pop(lease.req.lease_id, None)
                self._cond.notify_all()

    def _mark_lost(self, lease: Optional[_Lease]) -> None:
        """Counts a lease the server no longer gives us, once."""
        with self._cond:
            if lease is None or not lease.lost:
                self.stats["lost"] += 1
            if lease is not None:
                lease.lost = True

    def _complete(self, lease_id: str, outcome: Outcome, lease: Optional[_Lease] = None) -> None:
        """Completes the lease, retrying network errors and 5xx for complete_retry_s; a 413 turns
        the result into an ERROR saying it was too large."""
        deadline = time.monotonic() + self.complete_retry_s
        delay = self.backoff_min_s
        shortened = False
        while True:
            try:
                doc = self.complete(lease_id, outcome)
                self._count("completed")
                if isinstance(doc, dict) and doc.get("duplicate"):
                    self._count("duplicates")
                    log.info("lease %s was completed already (duplicate)", lease_id)
                return
            except HttpError as e:
                if e.status == 413 and not shortened:
                    shortened = True
                    outcome = Outcome(
                        ERROR,
                        f"the action's result is too large for the server (HTTP 413: "
                        f"{e.faultstring})",
                    )
                    continue
                if e.status in (404, 409):
                    self._mark_lost(lease)
                    log.warning("complete %s refused (%s): the lease is gone", lease_id, e)
                    return
                if e.status < 500:
                    log.error("complete %s: %s", lease_id, e)
                    return
                error: Exception = e
            except (OSError, http.client.HTTPException) as e:
                error = e
            if time.monotonic() + delay > deadline:
                log.error("complete %s: %s; giving up (the lease will expire)", lease_id, error)
                return
            log.warning("complete %s: %s (retrying in %.1f s)", lease_id, error, delay)
            time.sleep(delay)  # a retry delay, not a wait for an event
            delay = min(self.backoff_max_s, delay * 2)

    def _release(self, lease_id: str) -> None:
        try:
            self.release(lease_id)
            self._count("released")
        except (HttpError, OSError, http.client.HTTPException) as e:
            log.warning("release %s: %s (it goes back to the queue when it expires)", lease_id, e)

    def _shutdown(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        with self._cond:
            if self._active:
                log.info(
                    "stopping: %d running action(s) get up to %.1f s to finish",
                    len(self._active),
                    grace,
                )
            self._cond.wait_for(lambda: not self._active, max(0.0, deadline - time.monotonic()))
            left = list(self._active.values())
            for lease in left:
                lease.abandoned = True
        for lease in left:
            lease.done.set()  # stops its heartbeats
            log.warning(
                "shutdown: releasing lease %s of action %s still running after %.1f s",
                lease.req.lease_id,
                lease.req.action_name,
                grace,
            )
            self._release(lease.req.lease_id)
        with self._cond:
            for lease in left:
                self._active.pop(lease.req.lease_id, None)

