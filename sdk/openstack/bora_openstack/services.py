"""The OpenStack services of the pack: which python client serves each of Mistral's action
namespaces, and how to build that client on a keystoneauth1 session.

An action `<service>.<name>` calls `client.<path>(**input)`, where `path` is what mapping.json (the
action names and client paths of mistral-extra 13.0.0) gives for it, e.g. `glance.images_list` →
`images.list` on a glanceclient v2 client. Services whose client Debian 12 does not package are in
mapping.json but not here: the catalog leaves them out (README.md lists them).
"""

import dataclasses
import importlib
import json
import os
from typing import Any, Callable, Dict, Optional

from bora_openstack import inspector, zaqar

MAPPING_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mapping.json")

# Namespaces whose actions take an extra `action_region` input (Mistral's default
# `modules_support_region`, for the services covered here): the region to call instead of the
# configured one.
REGION_INPUT = "action_region"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where to call: the session (credentials), and region/interface to pick the endpoint from the
    catalog (keystoneauth does the picking)."""

    session: Any
    region: Optional[str] = None
    interface: Optional[str] = None
    offline: bool = False  # the generator's: a client to describe, never called

    def url(self, service_type: str) -> str:
        url = self.session.get_endpoint(
            service_type=service_type, interface=self.interface, region_name=self.region
        )
        if not url:
            raise LookupError(
                f"no {service_type} endpoint in the catalog (region {self.region or 'any'}, "
                f"interface {self.interface or 'public'})"
            )
        return url


def _nova(e: Endpoint) -> Any:
    from novaclient import api_versions, client

    kwargs = dict(session=e.session, region_name=e.region, endpoint_type=e.interface or "public")
    if e.offline:
        return client.Client(api_versions.APIVersion("2.1"), **kwargs)
    # The newest microversion both sides speak, as Mistral does.
    probe = client.Client(api_versions.APIVersion("2.1"), **kwargs)
    version = api_versions.discover_version(probe, api_versions.APIVersion("2.latest"))
    return client.Client(version, **kwargs)


def _glance(e: Endpoint) -> Any:
    import glanceclient

    return glanceclient.Client("2", session=e.session, region_name=e.region, interface=e.interface)


def _keystone(e: Endpoint) -> Any:
    from keystoneclient.v3 import client

    return client.Client(session=e.session, region_name=e.region, interface=e.interface)


def _heat(e: Endpoint) -> Any:
    from heatclient import client

    return client.Client("1", session=e.session, region_name=e.region, interface=e.interface)


def _aodh(e: Endpoint) -> Any:
    from aodhclient import client

    return client.Client("2", session=e.session, region_name=e.region, interface=e.interface)


def _neutron(e: Endpoint) -> Any:
    from neutronclient.v2_0 import client

    return client.Client(session=e.session, region_name=e.region, endpoint_type=e.interface)


def _cinder(e: Endpoint) -> Any:
    from cinderclient import client

    return client.Client(
        "3", session=e.session, region_name=e.region, endpoint_type=e.interface or "public"
    )


def _ironic(e: Endpoint) -> Any:
    from ironicclient.v1 import client

    # ironicclient reads the catalog when built: an address for the generator's client.
    override = {"endpoint_override": "http://127.0.0.1"} if e.offline else {}
    return client.Client(
        session=e.session, region_name=e.region, interface=e.interface, **override
    )


def _swift(e: Endpoint) -> Any:
    from swiftclient import client

    return client.Connection(
        session=e.session,
        os_options={"region_name": e.region, "interface": e.interface or "public"},
    )


def _swiftservice(e: Endpoint) -> Any:
    from swiftclient import service

    if e.offline:
        return service.SwiftService(options={})
    return service.SwiftService(
        options={
            "os_storage_url": e.url("object-store"),
            "os_auth_token": e.session.get_token(),
            "os_region_name": e.region,
        }
    )


def _zaqar(e: Endpoint) -> Any:
    from zaqarclient.queues import client

    url = "http://127.0.0.1" if e.offline else e.url("messaging")
    return zaqar.Functions(client.Client(url=url, version=2, session=e.session))


def _inspector(e: Endpoint) -> Any:
    from keystoneauth1 import adapter

    return inspector.Inspector(
        adapter.Adapter(
            e.session,
            service_type=inspector.SERVICE_TYPE,
            region_name=e.region,
            interface=e.interface or "public",
        )
    )


def _mistral(e: Endpoint) -> Any:
    from mistralclient.api import client

    return client.client(
        session=e.session,
        region_name=e.region,
        endpoint_type=(e.interface or "public") + "URL",
        service_type="workflowv2",
    )


@dataclasses.dataclass(frozen=True)
class Service:
    name: str  # Mistral's namespace: the part of the action name before the dot
    debian_package: str
    module: str  # imported to tell the client's version
    make: Callable[[Endpoint], Any]
    region_input: bool  # Mistral adds `action_region` to its actions


SERVICES: Dict[str, Service] = {
    s.name: s
    for s in [
        Service("nova", "python3-novaclient", "novaclient", _nova, True),
        Service("glance", "python3-glanceclient", "glanceclient", _glance, True),
        Service("keystone", "python3-keystoneclient", "keystoneclient", _keystone, False),
        Service("heat", "python3-heatclient", "heatclient", _heat, True),
        Service("aodh", "python3-aodhclient", "aodhclient", _aodh, True),
        Service("neutron", "python3-neutronclient", "neutronclient", _neutron, True),
        Service("cinder", "python3-cinderclient", "cinderclient", _cinder, True),
        Service("ironic", "python3-ironicclient", "ironicclient", _ironic, True),
        # Ours (bora_openstack/inspector.py): Debian's python3-ironic-inspector-client is empty.
        Service("baremetal_introspection", "python3-keystoneauth1", "keystoneauth1", _inspector, False),
        Service("swift", "python3-swiftclient", "swiftclient", _swift, False),
        Service("swiftservice", "python3-swiftclient", "swiftclient", _swiftservice, False),
        Service("zaqar", "python3-zaqarclient", "zaqarclient", _zaqar, False),
        Service("mistral", "python3-mistralclient", "mistralclient", _mistral, False),
    ]
}


def load_mapping() -> Dict[str, Dict[str, str]]:
    """Mistral's namespaces → {action name without namespace: client path}."""
    with open(MAPPING_FILE, encoding="utf-8") as f:
        return json.load(f)


def client_version(service: Service) -> str:
    module = importlib.import_module(service.module)
    version = getattr(module, "__version__", None)
    if version is None:
        from importlib import metadata

        dist = {"novaclient": "python-novaclient"}.get(service.module, "python-" + service.module)
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "unknown"
    return str(version)


def resolve(client: Any, path: str) -> Any:
    """`client.<path>` for a dotted path ("images.list")."""
    target = client
    for part in path.split("."):
        target = getattr(target, part)
    return target
