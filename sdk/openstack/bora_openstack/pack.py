"""Runs the catalog's actions: credentials, clients, the call, its result or error.

Credentials: by default the configured ones (a keystoneauth1 session from the standard OS_*
environment or a clouds.yaml cloud); when the request carries the caller's `security`
({auth_token, project_id, ...}: the API's Keystone auth puts it there), a token auth scoped to the
caller's project instead, as Mistral calls the services with the caller's token. Endpoints come
from the token's catalog by region (`action_region` input, else the configured one) and interface.
"""

import base64
import collections
import io
import json
import threading
from typing import Any, Callable, Dict, Hashable, List, Optional, Tuple

from bora_worker import ActionError

from bora_openstack import results, services

CatalogEntry = Dict[str, str]
# The input spec of an action, parsed: name → its declared default (absent when required).
Defaults = Dict[str, Any]


def load_catalog(path: Optional[str] = None) -> List[CatalogEntry]:
    from bora_openstack import generate

    with open(path or generate.CATALOG_FILE, encoding="utf-8") as f:
        doc = json.load(f)
    return doc["actions"] if isinstance(doc, dict) else doc


def split_spec(spec: str) -> Tuple[Defaults, bool]:
    """The defaults an input spec declares, and whether it takes any keyword (`**kwargs`)."""
    defaults: Defaults = {}
    any_keyword = False
    for piece in (p.strip() for p in _top_level(spec)):
        if not piece:
            continue
        if piece.startswith("**"):
            any_keyword = True
        elif piece.startswith("*"):
            continue
        elif "=" in piece:
            name, literal = piece.split("=", 1)
            defaults[name.strip()] = json.loads(literal)
    return defaults, any_keyword


def _top_level(spec: str) -> List[str]:
    """spec split at the commas outside brackets and quotes (defaults may be lists or strings)."""
    out, depth, quote, cur = [], 0, "", []
    for ch in spec:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def declared_input(spec: str) -> Optional[str]:
    """What the worker declares to the server: the spec, or None (any input) for a spec with
    `**kwargs`, which the server's spec parser does not take; `*args` is left out (an action's
    input is keywords)."""
    pieces = [p.strip() for p in _top_level(spec) if p.strip()]
    if any(p.startswith("**") for p in pieces):
        return None
    return ", ".join(p for p in pieces if not p.startswith("*"))


def _image_data(value: Any) -> bytes:
    """glance.images_upload's image_data from JSON: a string (its UTF-8 bytes) or
    {"base64": "..."}."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        return base64.b64decode(value["base64"], validate=True)
    raise ActionError(
        {
            "type": "InvalidInput",
            "code": None,
            "message": 'glance.images_upload: image_data must be a string or {"base64": "..."}',
        }
    )


class Pack:
    """Calls `client.<method>(**input)` for the catalog's actions.

    session_factory() gives the configured session (called once, when an action first needs it);
    token_session(security) a session for a caller's token. region / interface: the configured
    ones (an action's `action_region` input overrides the region)."""

    def __init__(
        self,
        catalog: List[CatalogEntry],
        session_factory: Callable[[], Any],
        token_session: Optional[Callable[[Dict[str, Any]], Any]] = None,
        *,
        region: Optional[str] = None,
        interface: Optional[str] = None,
        cache_size: int = 64,
    ):
        self.actions: Dict[str, CatalogEntry] = {a["name"]: a for a in catalog}
        self._defaults = {a["name"]: split_spec(a["input"])[0] for a in catalog}
        self._session_factory = session_factory
        self._token_session = token_session
        self.region = region
        self.interface = interface
        self._lock = threading.Lock()
        self._configured: Any = None
        # (credentials key, service, region) → client; the least recently used go first.
        self._clients: "collections.OrderedDict[Hashable, Any]" = collections.OrderedDict()
        self._sessions: "collections.OrderedDict[Hashable, Any]" = collections.OrderedDict()
        self._cache_size = cache_size

    # ---- credentials and clients -----------------------------------------------------------------

    def _session(self, security: Optional[Dict[str, Any]]) -> Tuple[Hashable, Any]:
        token = security.get("auth_token") if isinstance(security, dict) else None
        with self._lock:
            if not token:
                if self._configured is None:
                    self._configured = self._session_factory()
                return ("configured",), self._configured
            if self._token_session is None:
                raise ActionError(
                    {"type": "Unauthorized", "code": None,
                     "message": "the request carries a token but no auth URL is configured"}
                )
            key = ("token", token, security.get("project_id"))
            session = self._sessions.get(key)
            if session is None:
                session = self._token_session(security)
                self._sessions[key] = session
                while len(self._sessions) > self._cache_size:
                    self._sessions.popitem(last=False)
            else:
                self._sessions.move_to_end(key)
            return key, session

    def client(
        self, service: str, security: Optional[Dict[str, Any]], region: Optional[str]
    ) -> Any:
        key, session = self._session(security)
        ckey = (key, service, region)
        with self._lock:
            client = self._clients.get(ckey)
            if client is not None:
                self._clients.move_to_end(ckey)
                return client
        client = services.SERVICES[service].make(
            services.Endpoint(session=session, region=region, interface=self.interface)
        )
        with self._lock:
            self._clients[ckey] = client
            while len(self._clients) > self._cache_size:
                self._clients.popitem(last=False)
        return client

    # ---- the call --------------------------------------------------------------------------------

    def run(
        self, name: str, kwargs: Dict[str, Any], security: Optional[Dict[str, Any]] = None
    ) -> Any:
        """The result of `name` called with `kwargs` (as JSON); ActionError when it fails."""
        entry = self.actions.get(name)
        if entry is None:
            raise ActionError({"type": "UnknownAction", "code": None,
                               "message": f"{name}: not an action of the OpenStack pack"})
        kwargs = dict(kwargs)
        region = kwargs.pop(services.REGION_INPUT, None) or self.region
        # The server fills the declared defaults into the input; one equal to its default is left
        # to the client (whose own default may be something JSON cannot say).
        defaults = self._defaults[name]
        for k in [k for k, v in kwargs.items() if k in defaults and defaults[k] == v]:
            del kwargs[k]
        if name == "glance.images_upload" and "image_data" in kwargs:
            data = _image_data(kwargs["image_data"])
            kwargs["image_data"] = io.BytesIO(data)
            kwargs.setdefault("image_size", len(data))
        try:
            client = self.client(entry["service"], security, region)
            method = services.resolve(client, entry["method"])
            value = method(**kwargs)
            return results.to_json(value)
        except ActionError:
            raise
        except Exception as e:  # noqa: BLE001 - every client error becomes the task's error
            raise ActionError(results.error_data(name, e)) from e
