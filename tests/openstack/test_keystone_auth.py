#!/usr/bin/python3
"""`bora serve --auth keystone` against the real Keystone of scripts/openstack.sh.

Usage: test_keystone_auth.py REPO BORA   (BORA_OPENSTACK_DIR names the folder of the running services)

FixtureKeystoneTest runs one `bora serve --in-memory --auth keystone --keystone-cache-seconds 1` against the
shared Keystone: missing, forged and revoked tokens, the tokens of alpha and beta, the project on the access
line. PrivateKeystoneTest needs a Keystone it may stop without breaking the other tests of the fixture: a
second uwsgi process of Keystone's WSGI application on the fixture's configuration, SQLite database and fernet
keys (so it validates the same tokens) on a port of its own, which the test freezes (SIGSTOP: a Keystone that
hangs), stops and starts again under a second `bora serve`; it also counts the metrics.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

from openstack_env import ENV, end, free_port, http, issue, load_env, member, revoke, wait_for

BORA = None
FAULT_KEYS = {"faultstring", "faultcode", "debuginfo"}


def forged_token():
    return "gAAAAA" + uuid.uuid4().hex * 4  # shaped as a fernet token, issued by nobody


class BoraServe:
    """`bora serve --in-memory --auth keystone` on a free port, its log (info level) in a file."""

    def __init__(self, tmp, name, keystone_url, *extra):
        self.log_path = os.path.join(tmp, name + ".log")
        port_file = os.path.join(tmp, name + ".port")
        password_file = os.path.join(tmp, name + ".password")
        with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(ENV["BORA_OS_SERVICE_PASSWORD"])
        args = [BORA, "serve", "--in-memory", "--port", "0", "--port-file", port_file, "--log-level", "info",
                "--auth", "keystone", "--keystone-url", keystone_url,
                "--keystone-service-user", ENV["BORA_OS_SERVICE_USER"],
                "--keystone-service-project", ENV["BORA_OS_SERVICE_PROJECT"],
                "--keystone-service-password-file", password_file, *extra]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

        def port():
            if self.proc.poll() is not None:
                raise RuntimeError(f"bora serve exited with {self.proc.returncode}: {self.tail()}")
            try:
                with open(port_file) as f:
                    return int(f.read().strip() or 0)
            except FileNotFoundError:
                return 0

        self.base = "http://127.0.0.1:%d" % wait_for(port, "bora serve's port file")

    def tail(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def get(self, path, token=None, request_id=None):
        headers = {}
        if token:
            headers["X-Auth-Token"] = token
        if request_id:
            headers["X-Request-Id"] = request_id
        return http("GET", self.base + path, headers=headers)

    def access_line(self, request_id):
        """The access line of the request sent with X-Request-Id request_id (written once it was answered)."""
        def find():
            with open(self.log_path) as f:
                return next((line for line in f if f"request_id={request_id} " in line + " "), None)
        return wait_for(find, f"the access line of request {request_id}")

    def metrics(self, token):
        """{'name{labels}': value} of GET /metrics (which needs a token too)."""
        request = urllib.request.Request(self.base + "/metrics", headers={"X-Auth-Token": token})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        values = {}
        for line in text.splitlines():
            if line.startswith("bora_auth_"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def stop(self):
        end(self.proc)
        self.log.close()
        if self.proc.returncode not in (0, -signal.SIGTERM):
            sys.stderr.write(self.tail())


class FixtureKeystoneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.bora = BoraServe(cls.tmp.name, "fixture", ENV["OS_AUTH_URL"], "--keystone-cache-seconds", "1")

    @classmethod
    def tearDownClass(cls):
        cls.bora.stop()
        cls.tmp.cleanup()

    def assertFault(self, body, status, text):
        self.assertIsInstance(body, dict)
        self.assertEqual(set(body), FAULT_KEYS, body)
        self.assertEqual(body["faultcode"], "Client" if status < 500 else "Server", body)
        self.assertIsNone(body["debuginfo"])
        self.assertIn(text, body["faultstring"])

    def test_health_needs_no_token(self):
        self.assertEqual(self.bora.get("/health/live")[0], 200)

    def test_no_token_is_401(self):
        status, head, body = self.bora.get("/v2/workflows")
        self.assertEqual(status, 401)
        self.assertFault(body, 401, "no X-Auth-Token header")
        self.assertIn("WWW-Authenticate", head)

    def test_forged_token_is_401_with_mistrals_fault(self):
        for _ in range(2):  # asked of Keystone, then from the negative cache: the same answer
            status, _, body = self.bora.get("/v2/workflows", forged_token())
            self.assertEqual(status, 401)
            self.assertFault(body, 401, "invalid or expired token")

    def test_member_tokens_pass_with_their_project_on_the_access_line(self):
        for project in ("alpha", "beta"):
            token, issued = issue(*member(project))
            request_id = f"kc-{project}-{uuid.uuid4().hex[:8]}"
            status, _, body = self.bora.get("/v2/workflows", token, request_id)
            self.assertEqual(status, 200, body)
            self.assertIsInstance(body["workflows"], list)
            line = self.bora.access_line(request_id)
            self.assertIn(" status=200 ", line)
            self.assertEqual(re.search(r" project=(\S+)", line).group(1), issued["project"]["id"], line)

    def test_refused_requests_carry_no_project(self):
        request_id = f"kc-forged-{uuid.uuid4().hex[:8]}"
        self.assertEqual(self.bora.get("/v2/workflows", forged_token(), request_id)[0], 401)
        line = self.bora.access_line(request_id)
        self.assertIn(" status=401 ", line)
        self.assertNotIn("project=", line)

    def test_revoked_token_is_refused_once_its_cache_entry_ends(self):
        token, _ = issue(*member("beta"))
        self.assertEqual(self.bora.get("/v2/executions?limit=1", token)[0], 200)
        self.assertEqual(revoke(token), 204)
        # Valid for Bora until its cache entry (1 s here) ends; then Keystone answers 404 and Bora 401.
        status = wait_for(lambda: (lambda s: s if s != 200 else None)(
            self.bora.get("/v2/executions?limit=1", token)[0]), "the revoked token to be refused", 30)
        self.assertEqual(status, 401)
        status, _, body = self.bora.get("/v2/executions?limit=1", token)
        self.assertEqual(status, 401)
        self.assertFault(body, 401, "invalid or expired token")


class PrivateKeystone:
    """A second Keystone process (uwsgi, one worker) on the fixture's configuration, database and keys."""

    def __init__(self, port):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None

    def start(self):
        directory = ENV["BORA_OPENSTACK_DIR"]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        env["OS_KEYSTONE_CONFIG_FILES"] = os.path.join(directory, "keystone/keystone.conf")
        self.log = open(os.path.join(directory, f"keystone/uwsgi-private-{self.port}.log"), "a")
        # Its own session: the master and its worker form a process group the test can freeze and end.
        self.proc = subprocess.Popen(
            ["uwsgi", "--plugin", "python3", "--http11-socket", f"127.0.0.1:{self.port}", "--wsgi-file",
             "/usr/bin/keystone-wsgi-public", "--master", "--processes", "1", "--die-on-term",
             "--no-orphans", "--need-app", "--buffer-size", "65535"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the private Keystone exited with {self.proc.returncode}")
            try:
                return http("GET", self.url + "/v3", timeout=5)[0] == 200
            except OSError:
                return False

        wait_for(ready, f"the private Keystone on port {self.port}", 150)

    def signal(self, signum):
        os.killpg(self.proc.pid, signum)

    def stop(self):
        if self.proc is None:
            return
        self.signal(signal.SIGCONT)  # a frozen one must run to end
        end(self.proc)
        try:
            self.signal(signal.SIGKILL)  # a worker --no-orphans missed
        except ProcessLookupError:
            pass
        self.proc = None
        self.log.close()


class PrivateKeystoneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.keystone = PrivateKeystone(free_port())
        cls.keystone.start()
        # Its URL without /v3 (the fixture's test gives it with /v3): Bora takes both.
        cls.bora = BoraServe(cls.tmp.name, "private", cls.keystone.url, "--keystone-timeout-ms", "1500")
        cls.scrape, _ = issue(*member("alpha"))  # the token /metrics is read with

    @classmethod
    def tearDownClass(cls):
        cls.bora.stop()
        cls.keystone.stop()
        cls.tmp.cleanup()

    def counters(self):
        m = self.bora.metrics(self.scrape)
        return {
            "valid": m.get('bora_auth_keystone_requests_total{result="valid"}', 0),
            "invalid": m.get('bora_auth_keystone_requests_total{result="invalid"}', 0),
            "error": m.get('bora_auth_keystone_requests_total{result="error"}', 0),
            "hits": m.get("bora_auth_token_cache_hits_total", 0),
            "misses": m.get("bora_auth_token_cache_misses_total", 0),
        }

    def delta(self, before):
        after = self.counters()
        return {k: after[k] - before[k] for k in after}

    def test_1_metrics_count_keystone_answers_and_cache_hits(self):
        self.counters()  # the scrape token is in the cache from here on
        before = self.counters()
        token, _ = issue(*member("alpha"))
        forged = forged_token()
        self.assertEqual(self.bora.get("/v2/workflows", token)[0], 200)  # miss, valid
        self.assertEqual(self.bora.get("/v2/workflows", token)[0], 200)  # hit
        self.assertEqual(self.bora.get("/v2/workflows", forged)[0], 401)  # miss, invalid
        self.assertEqual(self.bora.get("/v2/workflows", forged)[0], 401)  # hit (negative cache, 10 s)
        self.assertEqual(self.bora.get("/v2/workflows")[0], 401)  # no token: neither counted nor asked
        # Each scrape is a hit too: the one that reads `after`.
        self.assertEqual(self.delta(before), {"valid": 1, "invalid": 1, "error": 0, "hits": 3, "misses": 2})

    def test_2_keystone_that_hangs_gives_503_then_recovers(self):
        cached, _ = issue(*member("alpha"))
        self.assertEqual(self.bora.get("/v2/workflows", cached)[0], 200)
        fresh, _ = issue(*member("beta"))  # from the fixture's Keystone; never shown to Bora yet
        before = self.counters()
        self.keystone.signal(signal.SIGSTOP)
        try:
            began = time.monotonic()
            status, _, body = self.bora.get("/v2/workflows", fresh)
            waited = time.monotonic() - began
            self.assertEqual(self.bora.get("/v2/workflows", cached)[0], 200)  # the cache needs no Keystone
        finally:
            self.keystone.signal(signal.SIGCONT)
        self.assertEqual(status, 503, body)
        self.assertEqual(set(body), FAULT_KEYS, body)
        self.assertEqual(body["faultcode"], "Server")
        self.assertIn(f"Keystone at {self.keystone.url} cannot validate the token", body["faultstring"])
        self.assertGreaterEqual(waited, 1.4)  # --keystone-timeout-ms 1500: it waited for Keystone
        self.assertEqual(self.delta(before)["error"], 1)
        # Not cached: once Keystone answers again, the same token passes.
        status = wait_for(lambda: (lambda s: s if s != 503 else None)(self.bora.get("/v2/workflows", fresh)[0]),
                          "the token to pass once Keystone runs again")
        self.assertEqual(status, 200)

    def test_3_keystone_stopped_gives_503_until_it_runs_again(self):
        cached, _ = issue(*member("alpha"))
        self.assertEqual(self.bora.get("/v2/workflows", cached)[0], 200)
        fresh, _ = issue(*member("beta"))
        self.keystone.stop()
        before = self.counters()
        for _ in range(2):  # refused connections, and nothing cached: asked again each time
            status, _, body = self.bora.get("/v2/workflows", fresh)
            self.assertEqual(status, 503, body)
            self.assertEqual(body["faultcode"], "Server")
            self.assertIn(f"Keystone at {self.keystone.url} cannot validate the token", body["faultstring"])
        self.assertEqual(self.bora.get("/v2/workflows", cached)[0], 200)
        self.assertEqual(self.bora.get("/v2/workflows")[0], 401)  # no token is still 401, not 503
        self.assertEqual(self.delta(before)["error"], 2)
        self.keystone.start()  # the same port: Bora's --keystone-url
        self.assertEqual(self.bora.get("/v2/workflows", fresh)[0], 200)


if __name__ == "__main__":
    load_env(sys.argv[1])
    BORA = sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"], warnings="ignore")
