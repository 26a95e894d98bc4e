#!/usr/bin/python3
"""What scripts/openstack.sh asks of the running services, in Debian's python3 with its OpenStack clients.

  admin.py keystone-ready           a token is issued to the admin (exit 1 if not)
  admin.py glance-ready             glance-api lists images for the admin's token (exit 1 if not)
  admin.py provision                creates the projects, users, roles and the Glance service of the tests
  admin.py register-bora URL        registers Bora's API as Mistral's service (name mistral, type workflowv2)
                                    with public, internal and admin endpoints URL (http://127.0.0.1:PORT/v2) in
                                    RegionOne, replacing any workflowv2 service there was (what
                                    `mistral --os-auth-url` looks up in the catalog)
  admin.py unregister-bora          removes the workflowv2 services and their endpoints
  admin.py fernet-keys DIR...       makes each DIR a key repository as keystone-manage fernet_setup does

Everything it needs comes from the environment: OS_AUTH_URL and the admin's OS_* variables; for provision and
glance-ready also the BORA_OS_* and BORA_GLANCE_URL variables that scripts/openstack.sh writes (see its env).
"""
import json
import os
import sys
import urllib.error
import urllib.request


def password_auth(user, password, project):
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}


def admin_token():
    """A token of the admin (POST /v3/auth/tokens), or None when Keystone does not answer with one."""
    body = json.dumps(password_auth(os.environ["OS_USERNAME"], os.environ["OS_PASSWORD"],
                                    os.environ["OS_PROJECT_NAME"])).encode()
    request = urllib.request.Request(os.environ["OS_AUTH_URL"] + "/auth/tokens", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.headers.get("X-Subject-Token")
    except (OSError, urllib.error.URLError):
        return None


def glance_ready():
    token = admin_token()
    if not token:
        return False
    request = urllib.request.Request(os.environ["BORA_GLANCE_URL"] + "/v2/images",
                                     headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def admin_client():
    """python3-keystoneclient's v3 client on a session of the admin."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from keystoneclient.v3 import client

    auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
                       password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
                       user_domain_name="Default", project_domain_name="Default")
    return client.Client(session=session.Session(auth=auth), interface="public")


def provision():
    ks = admin_client()
    domain = ks.domains.get("default")
    roles = {r.name: r for r in ks.roles.list()}
    for name in ("member", "reader", "service"):
        if name not in roles:
            roles[name] = ks.roles.create(name)

    def project(name):
        return ks.projects.create(name, domain, description=f"scripts/openstack.sh: {name}")

    def user(name, password, proj, *role_names):
        u = ks.users.create(name, domain=domain, password=password, default_project=proj)
        for role in role_names:
            ks.roles.grant(roles[role], user=u, project=proj)

    env = os.environ
    service = project("service")
    # glance-api's keystonemiddleware validates tokens as this user; Bora's API would as BORA_OS_SERVICE_USER.
    user("glance", env["BORA_OS_GLANCE_PASSWORD"], service, "service")
    user(env["BORA_OS_SERVICE_USER"], env["BORA_OS_SERVICE_PASSWORD"], service, "service")
    for name in ("alpha", "beta"):
        proj = project(name)
        prefix = f"BORA_OS_{name.upper()}"
        user(env[prefix + "_USER"], env[prefix + "_PASSWORD"], proj, "member", "reader")
        if name == "alpha":
            user(env[prefix + "_ADMIN_USER"], env[prefix + "_ADMIN_PASSWORD"], proj, "admin", "member",
                 "reader")
    glance = ks.services.create("glance", type="image", description="scripts/openstack.sh: Glance")
    for interface in ("public", "internal", "admin"):
        ks.endpoints.create(glance, env["BORA_GLANCE_URL"], interface=interface, region="RegionOne")


def unregister_bora(ks):
    """Deletes every workflowv2 service (its endpoints first); how many there were."""
    services = ks.services.list(type="workflowv2")
    for service in services:
        for endpoint in ks.endpoints.list(service=service):
            ks.endpoints.delete(endpoint)
        ks.services.delete(service)
    return len(services)


def register_bora(url):
    ks = admin_client()
    unregister_bora(ks)
    bora = ks.services.create("mistral", type="workflowv2",
                              description="scripts/openstack/admin.py: Bora's API (Mistral v2)")
    for interface in ("public", "internal", "admin"):
        ks.endpoints.create(bora, url, interface=interface, region="RegionOne")


def fernet_keys(dirs):
    from cryptography.fernet import Fernet

    for directory in dirs:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        for name in ("0", "1"):  # 0 the staged key, the highest number the primary one
            path = os.path.join(directory, name)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as key:
                key.write(Fernet.generate_key().decode())


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "keystone-ready":
        return 0 if admin_token() else 1
    if command == "glance-ready":
        return 0 if glance_ready() else 1
    if command == "fernet-keys" and len(sys.argv) > 2:
        fernet_keys(sys.argv[2:])
        return 0
    if command == "register-bora" and len(sys.argv) == 3:
        register_bora(sys.argv[2])
        return 0
    if command == "unregister-bora":
        unregister_bora(admin_client())
        return 0
    if command == "provision":
        provision()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
