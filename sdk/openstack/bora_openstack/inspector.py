"""ironic-inspector's API v1 (service type baremetal-introspection) for Mistral's
baremetal_introspection.* actions.

Debian 12's python3-ironic-inspector-client installs no module, so these are ours: the calls of the
client's ClientV1 that mapping.json names, with its parameter names (`node_id`, and the deprecated
`uuid` that TripleO's workbooks still pass), over a keystoneauth1 adapter of the caller's session.
Errors are keystoneauth1's HTTP errors (status and the service's message).
"""

import time
from typing import Any, Dict, List, Optional

SERVICE_TYPE = "baremetal-introspection"
_VERSION_HEADER = "X-OpenStack-Ironic-Inspector-API-Version"


class Api:
    def __init__(self, adapter: Any):
        self._adapter = adapter

    def request(self, method: str, path: str, version: Optional[str] = None, **kwargs: Any) -> Any:
        base = self._adapter.get_endpoint().rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        headers = {_VERSION_HEADER: version} if version else {}
        return self._adapter.request(base + path, method, headers=headers, raise_exc=True, **kwargs)


def _node(node_id: Optional[str], uuid: Optional[str]) -> str:
    node = node_id or uuid
    if not node or not isinstance(node, str):
        raise TypeError(f"node_id must be a node's UUID or name, got {node!r}")
    return node


class Rules:
    """baremetal_introspection.rules_*: introspection rules."""

    def __init__(self, api: Api):
        self._api = api

    def create(
        self,
        conditions: List[Dict[str, Any]],
        actions: List[Dict[str, Any]],
        uuid: Optional[str] = None,
        description: Optional[str] = None,
    ) -> Any:
        """Creates an introspection rule."""
        rule = {"uuid": uuid, "conditions": conditions, "actions": actions}
        if description is not None:
            rule["description"] = description
        return self.from_json(rule)

    def from_json(self, json_rule: Dict[str, Any]) -> Any:
        """Creates an introspection rule from its JSON form."""
        return self._api.request("post", "/rules", json=json_rule).json()

    def get_all(self) -> Any:
        """Lists the introspection rules (their uuid, description and links)."""
        return self._api.request("get", "/rules").json()["rules"]

    def get(self, uuid: str) -> Any:
        """Gets an introspection rule."""
        return self._api.request("get", f"/rules/{uuid}").json()

    def delete(self, uuid: str) -> None:
        """Deletes an introspection rule."""
        self._api.request("delete", f"/rules/{uuid}")

    def delete_all(self) -> None:
        """Deletes every introspection rule."""
        self._api.request("delete", "/rules")


class Inspector:
    """baremetal_introspection.<name> calls Inspector(adapter).<name>(**input)."""

    def __init__(self, adapter: Any):
        self._api = Api(adapter)
        self.rules = Rules(self._api)

    def introspect(
        self, node_id: Optional[str] = None, manage_boot: Optional[bool] = None,
        uuid: Optional[str] = None,
    ) -> None:
        """Starts introspection for a node."""
        params = {} if manage_boot is None else {"manage_boot": str(int(manage_boot))}
        version = None if manage_boot is None else "1.11"  # manage_boot came with 1.11
        self._api.request("post", f"/introspection/{_node(node_id, uuid)}", version, params=params)

    def get_status(self, node_id: Optional[str] = None, uuid: Optional[str] = None) -> Any:
        """Gets the introspection status of a node (finished, error, started_at, finished_at)."""
        return self._api.request("get", f"/introspection/{_node(node_id, uuid)}").json()

    def wait_for_finish(
        self, node_ids: Optional[List[str]] = None, retry_interval: float = 10,
        max_retries: int = 3600, uuids: Optional[List[str]] = None,
    ) -> Dict[str, Any]:
        """Waits until introspection finished for the nodes: their statuses by node."""
        waiting = list(node_ids or uuids or [])
        if not waiting:
            raise TypeError("node_ids must name at least one node")
        done: Dict[str, Any] = {}
        for attempt in range(max_retries + 1):
            statuses = {node: self.get_status(node) for node in waiting}
            done.update({n: s for n, s in statuses.items() if s.get("finished")})
            waiting = [n for n, s in statuses.items() if not s.get("finished")]
            if not waiting:
                return done
            if attempt < max_retries:
                time.sleep(retry_interval)  # the action's own polling interval, as the client's
        raise TimeoutError(f"introspection of nodes {', '.join(waiting)} did not finish")

    def get_data(
        self, node_id: Optional[str] = None, raw: bool = False, uuid: Optional[str] = None,
        processed: bool = True,
    ) -> Any:
        """Gets the data of a node's last introspection (processed, or as the ramdisk sent it)."""
        suffix = "data" if processed else "data/unprocessed"
        response = self._api.request("get", f"/introspection/{_node(node_id, uuid)}/{suffix}")
        return response.content if raw else response.json()

    def abort(self, node_id: Optional[str] = None, uuid: Optional[str] = None) -> None:
        """Aborts the running introspection of a node."""
        self._api.request("post", f"/introspection/{_node(node_id, uuid)}/abort")
