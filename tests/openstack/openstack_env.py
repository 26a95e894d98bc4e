"""What the tests of the real Keystone share: the services' variables, plain HTTP, tokens, free ports, waits.

ENV holds the variables `scripts/openstack.sh env` prints (load_env fills it; BORA_OPENSTACK_DIR names the
folder of the running services, and it fails, never skips, when they do not run).
"""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ENV = {}


def load_env(repo):
    out = subprocess.run(["bash", os.path.join(repo, "scripts/openstack.sh"), "env"], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        ENV[key] = value
    return ENV


def http(method, url, headers=None, body=None, timeout=30, text=None):
    """(status, headers, parsed JSON body or None) of one request; HTTP errors are answers too. `body` is
    sent as JSON, `text` as text/plain."""
    data, ctype = None, None
    if body is not None:
        data, ctype = json.dumps(body).encode(), "application/json"
    elif text is not None:
        data, ctype = text.encode(), "text/plain"
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if ctype:
        request.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, error.headers, error.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, head, parsed


def password_body(user, password, project):
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}


def issue(user, password, project):
    """POST /v3/auth/tokens: (token id, token body)."""
    status, head, body = http("POST", ENV["OS_AUTH_URL"] + "/auth/tokens",
                              body=password_body(user, password, project))
    if status != 201:
        raise AssertionError(f"token for {user} in {project}: HTTP {status} {body}")
    return head["X-Subject-Token"], body["token"]


def member(project):
    """(user, password, project name) of the member user of project alpha or beta."""
    prefix = f"BORA_OS_{project.upper()}"
    return ENV[prefix + "_USER"], ENV[prefix + "_PASSWORD"], ENV[prefix + "_PROJECT"]


def revoke(token):
    """DELETE /v3/auth/tokens of the token, by itself; the HTTP status (204 when revoked)."""
    return http("DELETE", ENV["OS_AUTH_URL"] + "/auth/tokens",
                headers={"X-Auth-Token": token, "X-Subject-Token": token})[0]


def free_port():
    """A loopback TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=60.0):
    """The first truthy value of predicate(), polled every 50 ms until the deadline (then AssertionError)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def end(proc, timeout=30):
    """SIGTERM to a child process, SIGKILL if it has not exited within timeout; its exit status."""
    proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
