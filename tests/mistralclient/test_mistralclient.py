"""Drives a running `bora serve` with the real python-mistralclient CLI (Debian's python3-mistralclient).

Usage: test_mistralclient.py BORA_BINARY embedded|distributed|keystone
Starts `bora serve` on an ephemeral port (written to a port file), runs `mistral ... <cmd> -f json` for the
commands issue 5 lists and checks each output. Distributed mode needs BORA_KAFKA and BORA_REDIS (it fails,
never skips, without them) and uses a fresh topic/key prefix. Embedded and distributed, the client is given
the URL (`--os-mistral-url`) and no token.

Keystone mode (issue 22) runs embedded `bora serve --auth keystone` against the real Keystone of
scripts/openstack.sh (BORA_OPENSTACK_DIR names its folder; it fails, never skips, when it does not run),
registers that server in Keystone's catalog as Mistral's service (`admin.py register-bora`: type workflowv2)
and runs the same commands as `mistral --os-auth-url ... --os-username alpha-member --os-project-name alpha`:
the client takes a token from Keystone and finds Bora's URL in the token's catalog.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openstack"))
from openstack_env import ENV, end, issue, load_env, member, wait_for  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BORA = None
MODE = None

WORKFLOWS = """\
version: '2.0'
mc_hello:
  input:
    - name: world
  output:
    greeting: <% $.greeting %>
  tasks:
    greet:
      action: std.echo output="Hello, <% $.name %>"
      publish:
        greeting: <% task().result %>
mc_wait:
  tasks:
    hold:
      action: std.async_noop
      on-success: after
    after:
      action: std.noop
"""


class MistralClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        port_file = os.path.join(cls.tmp.name, "port")
        args = [BORA, "serve", "--port", "0", "--port-file", port_file]
        args += ["--log-level", "info" if MODE == "keystone" else "warn"]
        if MODE != "distributed":
            args += ["--data-dir", os.path.join(cls.tmp.name, "data")]
        if MODE == "keystone":
            args += cls.keystone_args()
        if MODE == "distributed":
            kafka, redis = os.environ.get("BORA_KAFKA"), os.environ.get("BORA_REDIS")
            if not kafka or not redis:
                raise RuntimeError("distributed mode needs BORA_KAFKA and BORA_REDIS "
                                   "(eval \"$(scripts/services.sh start)\")")
            args += ["--kafka", kafka, "--redis", redis, "--prefix", "mc%s." % uuid.uuid4().hex[:8],
                     "--partitions", "2", "--session-timeout-ms", "6000"]
        cls.log = open(os.path.join(cls.tmp.name, "serve.log"), "w")
        cls.server = subprocess.Popen(args, stdout=cls.log, stderr=subprocess.STDOUT)

        def port():
            if cls.server.poll() is not None:
                raise RuntimeError("bora serve exited with %s" % cls.server.returncode)
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                return int(text) if text else None
            except FileNotFoundError:
                return None

        cls.url = "http://127.0.0.1:%d/v2" % wait_for(port, what="bora serve's port file")
        if MODE == "keystone":
            cls.admin("register-bora", cls.url)
        cls.wf_file = os.path.join(cls.tmp.name, "wf.yaml")
        with open(cls.wf_file, "w") as f:
            f.write(WORKFLOWS)

    @classmethod
    def keystone_args(cls):
        """The flags of `bora serve --auth keystone` with the service user of scripts/openstack.sh."""
        load_env(REPO)
        password_file = os.path.join(cls.tmp.name, "service-password")
        with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(ENV["BORA_OS_SERVICE_PASSWORD"])
        return ["--auth", "keystone", "--keystone-url", ENV["OS_AUTH_URL"],
                "--keystone-service-user", ENV["BORA_OS_SERVICE_USER"],
                "--keystone-service-project", ENV["BORA_OS_SERVICE_PROJECT"],
                "--keystone-service-password-file", password_file]

    @classmethod
    def admin(cls, *args):
        """scripts/openstack/admin.py as the admin of scripts/openstack.sh (Debian's python3, its clients)."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        env.update(ENV)
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts/openstack/admin.py"), *args],
                       env=env, check=True, timeout=120)

    @classmethod
    def tearDownClass(cls):
        if MODE == "keystone":
            cls.admin("unregister-bora")
        end(cls.server)
        cls.log.close()
        if cls.server.returncode not in (0, -15):
            with open(os.path.join(cls.tmp.name, "serve.log")) as f:
                sys.stderr.write(f.read()[-4000:])
        cls.tmp.cleanup()

    def connection(self, project="alpha"):
        """How the client finds Bora: the URL, or (keystone mode) Keystone and the credentials of
        `project`'s member (alpha-member unless told)."""
        if MODE != "keystone":
            return ["--os-mistral-url", self.url]
        user, password, project = member(project)
        return ["--os-auth-url", ENV["OS_AUTH_URL"], "--os-username", user, "--os-password", password,
                "--os-project-name", project, "--os-user-domain-name", "Default",
                "--os-project-domain-name", "Default"]

    def mistral(self, *args, fmt="json", check=True, connection=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        cmd = ["mistral"] + (connection or self.connection()) + list(args)
        if fmt:
            cmd += ["-f", fmt]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        if check and p.returncode != 0:
            self.fail("%s failed (%d):\n%s\n%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        if fmt == "json" and p.returncode == 0:
            return json.loads(p.stdout) if p.stdout.strip() else None
        return p

    def execution(self, ex_id):
        return self.mistral("execution-get", ex_id)

    def test_1_workflows(self):
        created = self.mistral("workflow-create", self.wf_file)
        names = sorted(w["Name"] for w in created)
        self.assertEqual(names, ["mc_hello", "mc_wait"])
        listed = {w["Name"]: w for w in self.mistral("workflow-list")}
        self.assertIn("mc_hello", listed)
        self.assertEqual(listed["mc_hello"]["Input"], 'name="world"')
        got = self.mistral("workflow-get", "mc_hello")
        self.assertEqual(got["Name"], "mc_hello")
        self.assertEqual(got["Namespace"], "")
        definition = self.mistral("workflow-get-definition", "mc_hello", fmt=None).stdout
        self.assertIn("mc_hello", definition)
        # Creating the same workflows again is a conflict, reported by the client.
        dup = self.mistral("workflow-create", self.wf_file, check=False)
        self.assertNotEqual(dup.returncode, 0)
        self.assertIn("Duplicate", dup.stderr + dup.stdout)

    def test_2_execution_runs_to_success(self):
        ex = self.mistral("execution-create", "mc_hello", json.dumps({"name": "Bora"}))
        self.assertEqual(ex["Workflow name"], "mc_hello")
        final = wait_for(lambda: (lambda e: e if e["State"] == "SUCCESS" else None)(self.execution(ex["ID"])),
                         what="mc_hello to succeed")
        self.assertEqual(final["Workflow name"], "mc_hello")
        given = self.mistral("execution-get-input", ex["ID"], fmt=None).stdout
        self.assertEqual(json.loads(given), {"name": "Bora"})
        out = self.mistral("execution-get-output", ex["ID"], fmt=None).stdout
        self.assertEqual(json.loads(out), {"greeting": "Hello, Bora"})
        tasks = self.mistral("task-list", ex["ID"])
        self.assertEqual([(t["Name"], t["State"]) for t in tasks], [("greet", "SUCCESS")])
        actions = self.mistral("action-execution-list", tasks[0]["ID"])
        self.assertEqual([(a["Name"], a["State"]) for a in actions], [("std.echo", "SUCCESS")])
        listed = [e["ID"] for e in self.mistral("execution-list")]
        self.assertIn(ex["ID"], listed)

    def test_3_pause_resume_and_complete_async_action(self):
        ex = self.mistral("execution-create", "mc_wait")
        tasks = wait_for(lambda: self.mistral("task-list", ex["ID"]) or None, what="task hold")
        self.assertEqual(tasks[0]["Name"], "hold")
        paused = self.mistral("execution-update", ex["ID"], "-s", "PAUSED")
        self.assertEqual(paused["ID"], ex["ID"])
        wait_for(lambda: self.execution(ex["ID"])["State"] == "PAUSED", what="PAUSED")
        self.mistral("execution-update", ex["ID"], "-s", "RUNNING")
        wait_for(lambda: self.execution(ex["ID"])["State"] == "RUNNING", what="RUNNING again")
        actions = wait_for(lambda: self.mistral("action-execution-list", tasks[0]["ID"]) or None,
                           what="the async action execution")
        self.assertEqual(actions[0]["State"], "RUNNING")
        self.mistral("action-execution-update", actions[0]["ID"], "--state", "SUCCESS", "--output",
                     json.dumps({"done": True}))
        wait_for(lambda: self.execution(ex["ID"])["State"] == "SUCCESS", what="SUCCESS after completion")
        names = sorted(t["Name"] for t in self.mistral("task-list", ex["ID"]))
        self.assertEqual(names, ["after", "hold"])

    def test_4_environment(self):
        env_file = os.path.join(self.tmp.name, "env.json")
        with open(env_file, "w") as f:
            json.dump({"name": "mc_env", "description": "for the client test",
                       "variables": {"region": "r1", "n": 3}}, f)
        env = self.mistral("environment-create", env_file)
        self.assertEqual(env["Name"], "mc_env")
        self.assertEqual(json.loads(env["Variables"]), {"region": "r1", "n": 3})
        got = self.mistral("environment-get", "mc_env")
        self.assertEqual(got["Description"], "for the client test")

    def test_5_cron_triggers(self):
        trig = self.mistral("cron-trigger-create", "mc_cron", "mc_hello", json.dumps({"name": "cron"}),
                            "--pattern", "0 4 * * *", "--count", "3")
        self.assertEqual(trig["Name"], "mc_cron")
        self.assertEqual(trig["Workflow"], "mc_hello")
        self.assertEqual(trig["Pattern"], "0 4 * * *")
        self.assertEqual(trig["Remaining executions"], 3)
        self.assertTrue(trig["Next execution time"].endswith("04:00:00"))
        listed = [t["Name"] for t in self.mistral("cron-trigger-list")]
        self.assertIn("mc_cron", listed)
        self.mistral("cron-trigger-delete", "mc_cron", fmt=None)
        listed = [t["Name"] for t in self.mistral("cron-trigger-list")]
        self.assertNotIn("mc_cron", listed)

    def test_7_service_list(self):
        services = self.mistral("service-list")
        types = sorted(s["Type"] for s in services)
        expected = ["api_group", "engine_group", "event_engine_group", "executor_group"]
        self.assertEqual(types, expected, services)
        self.assertTrue(all("_" in s["Name"] for s in services), services)

    def test_6_delete_workflow(self):
        self.mistral("workflow-delete", "mc_wait", fmt=None)
        names = [w["Name"] for w in self.mistral("workflow-list")]
        self.assertNotIn("mc_wait", names)
        missing = self.mistral("workflow-get", "mc_wait", check=False)
        self.assertNotEqual(missing.returncode, 0)

    def test_8_keystone_project_on_every_request(self):
        if MODE != "keystone":
            self.skipTest("keystone mode only")
        _, token = issue(*member("alpha"))
        with open(os.path.join(self.tmp.name, "serve.log")) as f:
            lines = [line for line in f if " access " in line and " path=/v2/" in line]
        self.assertGreater(len(lines), 20)  # every command of the tests before this one
        projects = {line.partition(" project=")[2].split()[0] if " project=" in line else None
                    for line in lines}
        self.assertEqual(projects, {token["project"]["id"]})

    def test_9_keystone_token_given_to_the_client(self):
        if MODE != "keystone":
            self.skipTest("keystone mode only")
        token, _ = issue(*member("alpha"))
        # --os-auth-token with --os-auth-url: keystoneauth's token plugin, Bora's URL from the catalog.
        names = [w["Name"] for w in self.mistral("workflow-list", connection=[
            "--os-auth-url", ENV["OS_AUTH_URL"], "--os-auth-token", token, "--os-project-name", "alpha",
            "--os-project-domain-name", "Default"])]
        self.assertIn("mc_hello", names)
        # (The CLI always scopes a given token at Keystone first, even with --os-mistral-url: a forged
        # token never reaches Bora from it; tests/openstack/test_keystone_auth.py sends one directly.)

    def test_9z_keystone_members(self):
        """member-create/-update/-list/-delete: alpha shares a workflow with beta, beta accepts it and
        reads it, alpha takes it back (after test_8, which wants alpha's project only)."""
        if MODE != "keystone":
            self.skipTest("keystone mode only")
        path = os.path.join(self.tmp.name, "shared.yaml")
        with open(path, "w") as f:
            f.write("version: '2.0'\nmc_shared:\n  tasks:\n    t:\n      action: std.noop\n")
        wf_id = self.mistral("workflow-create", path)[0]["ID"]
        beta_id = issue(*member("beta"))[1]["project"]["id"]
        beta = self.connection("beta")
        shared = self.mistral("member-create", wf_id, "workflow", beta_id)
        self.assertEqual((shared["Member ID"], shared["Status"]), (beta_id, "pending"))
        self.assertNotEqual(self.mistral("workflow-get", wf_id, check=False, connection=beta).returncode, 0)
        # -m: with a Keystone session the client knows no project id of its own (it would send an
        # empty member id, which Mistral does not take either).
        accepted = self.mistral("member-update", wf_id, "workflow", "-m", beta_id, "-s", "accepted",
                                connection=beta)
        self.assertEqual(accepted["Status"], "accepted")
        self.assertEqual(self.mistral("workflow-get", wf_id, connection=beta)["Name"], "mc_shared")
        listed = self.mistral("member-list", wf_id, "workflow", connection=beta)
        self.assertEqual([m["Member ID"] for m in listed], [beta_id])
        self.mistral("member-delete", wf_id, "workflow", beta_id, fmt=None)
        self.assertNotEqual(self.mistral("workflow-get", wf_id, check=False, connection=beta).returncode, 0)
        self.mistral("workflow-delete", wf_id, fmt=None)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[2] not in ("embedded", "distributed", "keystone"):
        sys.exit(__doc__)
    BORA, MODE = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
