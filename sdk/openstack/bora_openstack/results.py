"""What the clients return, as JSON; what they raise, as a task error."""

import base64
import datetime
import http
import inspect
import re
from typing import Any, Dict, Optional

# Attributes the clients keep an HTTP status in: keystoneauth1 (and keystoneclient) http_status,
# glance/nova/heat/cinder/ironic code, neutron status_code, swift http_status, mistral error_code.
_STATUS_ATTRS = ("http_status", "code", "status_code", "error_code")
# "HTTP 404 Not Found: ...", "404 Not Found: ...", "Not Found (HTTP 404) ..." at the start of a
# client's message: the error says status and reason once, itself.
_STATUS_PREFIX = re.compile(
    r"^\s*(ERROR:\s*)?((HTTP\s+)?\d{3}(\s+[A-Za-z][A-Za-z ]*?)?\s*[:\-]\s*)?"
)
_STATUS_SUFFIX = re.compile(r"\s*\(HTTP \d{3}\)(\s*\(Request-ID: [^)]*\))?\s*$")


def to_json(value: Any) -> Any:
    """A client's result as JSON: resources as dicts (to_dict() or _info), generators and tuples
    as lists, an iterable of byte chunks (image data) joined, bytes as text when they are UTF-8 or
    else {"base64": ...}, dates as ISO 8601, anything else as its str()."""
    if type(value).__name__ == "RequestIdProxy":  # glanceclient's (wrapt) proxy of a result
        return to_json(value.__wrapped__)  # (its GeneratorProxy is iterated as it is, below)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if _is_response(value):  # the HTTP response alone: nothing more to say than that it succeeded
        return None
    if isinstance(value, tuple) and len(value) == 2 and _is_response(value[0]):
        return to_json(value[1])  # (response, body), as some managers return
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not inspect.isclass(value):
        return to_json(to_dict())
    info = getattr(value, "_info", None)
    if isinstance(info, dict):
        return to_json(info)
    if isinstance(value, (list, tuple, set, frozenset)) or inspect.isgenerator(value):
        items = list(value)
    elif hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        items = list(value)
    else:
        return str(value)
    if items and all(isinstance(i, (bytes, bytearray)) for i in items):
        return to_json(b"".join(items))
    return [to_json(i) for i in items]


def _is_response(value: Any) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover - keystoneauth1 depends on it
        return False
    return isinstance(value, requests.Response)


def status_of(e: BaseException) -> Optional[int]:
    for attr in _STATUS_ATTRS:
        value = getattr(e, attr, None)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    response = getattr(e, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _detail(e: BaseException) -> str:
    text = ""
    for attr in ("details", "error_message"):
        value = getattr(e, attr, None)
        if isinstance(value, str) and value.strip():
            text = value
            break
    text = " ".join((text or str(e)).split()) or type(e).__name__
    text = _STATUS_SUFFIX.sub("", text)
    return _STATUS_PREFIX.sub("", text, count=1) or text


def error_data(action: str, e: BaseException) -> Dict[str, Any]:
    """The task error of a failed call: {"type": the exception's class, "code": the HTTP status (or
    null), "message": "<action>: <status> <reason>: <what the service said>"}."""
    code = status_of(e)
    detail = _detail(e)
    if code is not None:
        try:
            reason = http.HTTPStatus(code).phrase
        except ValueError:
            reason = ""
        status = f"{code} {reason}".strip()
        message = f"{action}: {status}: {detail}" if detail else f"{action}: {status}"
    else:
        message = f"{action}: {type(e).__name__}: {detail}"
    return {"type": type(e).__name__, "code": code, "message": message}
