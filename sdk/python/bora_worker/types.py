"""The SDK's vocabulary, shared by both transports: the request a handler sees (ActionRequest), the
error a handler raises to fail with data (ActionError), and the outcome of running a handler
(Outcome), made JSON-safe here once so that neither transport has to think about it."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any, Dict, Optional

SUCCESS = "SUCCESS"
ERROR = "ERROR"


class ActionError(Exception):
    """Raise from a handler to fail the action with structured `data` (any JSON value) as the error.

    Any other exception fails it too, with its message as the error text.
    """

    def __init__(self, data: Any):
        super().__init__(data if isinstance(data, str) else json.dumps(data, default=str))
        self.data = data


class BadMessage(ValueError):
    """A request that is not a valid RunAction (Kafka) or lease (HTTP) this SDK reads."""


@dataclasses.dataclass(frozen=True)
class ActionRequest:
    """One action to run: a decoded RunAction message (Kafka) or a lease (HTTP).

    Side effects should be idempotent, keyed by (action_execution_id, attempt): delivery is at least
    once on both transports.
    """

    execution_id: str
    task_execution_id: str  # "" over HTTP when the server's lease does not carry it
    action_execution_id: str
    action_name: str
    input: Dict[str, Any]
    workflow_name: str = ""
    task_name: str = ""
    target: str = ""  # the pool
    timeout_s: int = 0  # 0 = none; enforced by the SDK (Runner): the action fails after it
    safe_rerun: bool = False
    is_async: bool = False
    attempt: int = 0
    # The execution's security context, or None: {"project_id", "user_id", "project_name",
    # "user_name", "auth_token"} (keys may be missing: a cron-started run has no token). The token is
    # the Keystone token of whoever started the execution; it expires (no trusts yet).
    security: Optional[Dict[str, Any]] = None
    lease_id: str = ""  # HTTP only: the lease this run holds
    expires_in: float = 0.0  # HTTP only: seconds the lease had left when it was polled
    # Set when the action timed out (timeout_s): a sync handler (with_request=True) that runs long
    # should check it and return; its result is not used any more. Async handlers are cancelled.
    cancelled: threading.Event = dataclasses.field(
        default_factory=threading.Event, compare=False, repr=False
    )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a handler's run came to: state SUCCESS with the result, or ERROR with the error data.

    `data` is always JSON-encodable (no NaN or infinities): `Outcome.of_value` turns a value that is
    not into an ERROR explaining why.
    """

    state: str
    data: Any

    @property
    def ok(self) -> bool:
        return self.state == SUCCESS

    @staticmethod
    def of_value(action_name: str, value: Any) -> "Outcome":
        """SUCCESS with `value`, or ERROR when `value` is not JSON."""
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:
            return Outcome(ERROR, f"the result of action {action_name} is not JSON: {e}")
        return Outcome(SUCCESS, value)

    @staticmethod
    def of_exception(action_name: str, e: BaseException) -> "Outcome":
        """ERROR with ActionError's data, or else the exception's message (its class name when the
        message is empty)."""
        if isinstance(e, ActionError):
            try:
                json.dumps(e.data, allow_nan=False)
                return Outcome(ERROR, e.data)
            except (TypeError, ValueError) as err:
                return Outcome(
                    ERROR, f"the error data of action {action_name} is not JSON: {err}: {e}"
                )
        return Outcome(ERROR, str(e) or type(e).__name__)
