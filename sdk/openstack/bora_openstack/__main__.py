"""python3 -m bora_openstack --url http://127.0.0.1:8989 --pool openstack [--token T | --keystone-token]
[--concurrency N] [--os-cloud NAME] [--catalog FILE] [--services nova,glance]

Serves the catalog's actions over Bora's HTTP worker API (bora_worker): declares each (name, input
spec, description) on its polls, so they show in GET /v2/actions and route to this pool, and runs
them with the configured credentials (OS_* environment, or the clouds.yaml cloud --os-cloud) or the
caller's token when the request carries one.
"""

import argparse
import dataclasses
import functools
import logging
import os
import sys
from typing import Any, Callable, Dict, List, Optional

from bora_worker import ActionError, ActionRequest, Worker

from bora_openstack import pack


def configured_session(cloud: Optional[str]) -> Callable[[], Any]:
    """The session of the configured credentials (openstack.config: the cloud `cloud` of
    clouds.yaml, or the OS_* environment), made when first needed."""

    def make() -> Any:
        import openstack.config

        return openstack.config.get_cloud_region(cloud=cloud).get_session()

    return make


def token_session_factory(auth_url: Optional[str], verify: Any = True) -> Optional[Callable]:
    """Sessions for the callers' tokens (request.security), scoped to the caller's project."""
    if not auth_url:
        return None

    def make(security: Dict[str, Any]) -> Any:
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        if security.get("is_trust_scoped"):
            return trust_token_session(auth_url, security, verify)
        auth = v3.Token(
            auth_url=auth_url,
            token=security["auth_token"],
            project_id=security.get("project_id") or None,
        )
        return session.Session(auth=auth, verify=verify)

    return make


def trust_token_session(auth_url: str, security: Dict[str, Any], verify: Any = True) -> Any:
    """A session that uses a trust-scoped token as it is (a cron trigger's run: Keystone refuses to
    make another token from it), with the endpoints of the catalog Bora got with it
    (security.service_catalog, as Mistral's context carries it)."""
    from keystoneauth1 import access, session
    from keystoneauth1.identity import access as access_plugin

    catalog = security.get("service_catalog")
    if not isinstance(catalog, list):
        raise ActionError({"type": "Unauthorized", "code": None,
                           "message": "a trust-scoped token came without its service catalog"})
    body = {"token": {"catalog": catalog, "methods": ["password"],
                      "user": {"id": security.get("user_id"), "name": security.get("user_name")},
                      "project": {"id": security.get("project_id"),
                                  "name": security.get("project_name")}}}
    auth_ref = access.create(body=body, auth_token=security["auth_token"])
    return session.Session(auth=access_plugin.AccessInfoPlugin(auth_ref, auth_url=auth_url),
                           verify=verify)


def keystone_token(session_of: Callable[[], Any]) -> Callable[[], Optional[str]]:
    """X-Auth-Token for Bora's API (`bora serve --auth keystone`): a token of the configured
    credentials, renewed by their session before it expires. None while Keystone cannot give one
    (the poll is then refused and retried, the worker goes on)."""
    log = logging.getLogger("bora_openstack")

    def token() -> Optional[str]:
        try:
            return session_of().get_token()
        except Exception as e:  # noqa: BLE001 - keystoneauth raises many kinds; all mean "no token now"
            log.warning("no Keystone token for Bora's API: %s", e)
            return None

    return token


def register(worker: Worker, the_pack: pack.Pack, names: List[str]) -> None:
    """Declares and serves `names` (catalog actions) on `worker`."""

    def handler_of(name: str) -> Callable[..., Any]:
        def handler(request: ActionRequest, /, **kwargs: Any) -> Any:
            return the_pack.run(name, kwargs, getattr(request, "security", None))

        return handler

    for name in names:
        entry = the_pack.actions[name]
        handler = handler_of(name)
        spec = pack.declared_input(entry["input"])
        worker.action(name, with_request=True, input=spec or "", description=entry["description"])(
            handler
        )
        if spec is None:
            # A spec with **kwargs goes out as "any input" (null): bora_worker declares a string.
            runner = worker._runner  # noqa: SLF001 - the SDK has no way to declare a null input
            runner.handlers[name] = dataclasses.replace(runner.handlers[name], input=None)


def parse_args(argv: List[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="python3 -m bora_openstack", description=__doc__.split("\n")[0]
    )
    p.add_argument("--url", default=env("BORA_URL", "http://127.0.0.1:8989"))
    p.add_argument("--pool", default="openstack")
    p.add_argument("--token", default=env("BORA_TOKEN"), help="Bora's API token (X-Auth-Token)")
    p.add_argument(
        "--keystone-token",
        action="store_true",
        help="authenticate to Bora's API with a Keystone token of the configured credentials "
        "(for bora serve --auth keystone; renewed before it expires)",
    )
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--os-cloud", default=env("OS_CLOUD"), help="a cloud of clouds.yaml")
    p.add_argument("--catalog", default=None, help="the catalog (default: the package's)")
    p.add_argument("--services", default="", help="serve only these namespaces (comma-separated)")
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("keystoneauth").setLevel(logging.WARNING)
    catalog = pack.load_catalog(args.catalog)
    wanted = {s for s in args.services.split(",") if s}
    if wanted:
        catalog = [a for a in catalog if a["service"] in wanted]
    region = os.environ.get("OS_REGION_NAME") or None
    interface = os.environ.get("OS_INTERFACE") or None
    auth_url = os.environ.get("OS_AUTH_URL")
    if args.os_cloud:
        import openstack.config

        cloud = openstack.config.OpenStackConfig().get_one(cloud=args.os_cloud)
        region = cloud.region_name or region
        interface = cloud.get_interface() or interface
        auth_url = cloud.config.get("auth", {}).get("auth_url", auth_url)
    if args.token and args.keystone_token:
        raise SystemExit("bora_openstack: --token and --keystone-token exclude each other")
    configured = functools.lru_cache(maxsize=1)(configured_session(args.os_cloud))
    the_pack = pack.Pack(
        catalog,
        configured,
        token_session_factory(auth_url),
        region=region,
        interface=interface,
    )
    token = keystone_token(configured) if args.keystone_token else args.token
    worker = Worker.http(args.url, pool=args.pool, token=token, concurrency=args.concurrency)
    register(worker, the_pack, sorted(the_pack.actions))
    logging.getLogger("bora_openstack").info(
        "serving %d OpenStack actions on pool '%s' of %s",
        len(the_pack.actions),
        args.pool,
        args.url,
    )
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
