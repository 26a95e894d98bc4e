#!/usr/bin/python3
"""Per-project isolation of Bora's REST API with real Keystone tokens (issue 22).

Usage: test_projects.py REPO BORA   (BORA_OPENSTACK_DIR names the folder of the running services)
Starts `bora serve --in-memory --auth keystone` with the service user of `scripts/openstack.sh env`, takes
tokens of alpha's member, beta's member and alpha's admin, and checks for every resource kind that what
alpha creates beta cannot list, read, change or delete (404), that alpha can, and that the admin sees
beta's records only with all_projects=true (which beta may not ask for: 403); and that a workflow alpha
shares with beta (members) is beta's to list and run once beta accepted it.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import openstack_env
from openstack_env import ENV, wait_for

BORA = None

WORKFLOWS = """version: '2.0'
wf:
  input:
    - who: nobody
  tasks:
    t:
      action: std.echo output=<% $.who %>
      publish:
        who: <% task().result %>
  output:
    who: <% $.who %>
"""

ACTIONS = """version: '2.0'
my_echo:
  base: std.echo
  base-input:
    output: hi
"""

WORKBOOK = """version: '2.0'
name: wb
workflows:
  inner:
    tasks:
      t:
        action: std.noop
"""


SHARED = """version: '2.0'
shared_wf:
  tasks:
    t:
      action: std.echo output=shared
"""


def http(method, url, headers=None, body=None, text=None):
    """(status, parsed JSON body or None, headers) of one request (openstack_env.http, reordered)."""
    status, head, parsed = openstack_env.http(method, url, headers=headers, body=body, text=text)
    return status, parsed, head


def token(user, password, project):
    """(token, project id) of a password login."""
    issued, body = openstack_env.issue(user, password, project)
    return issued, body["project"]["id"]


class ProjectsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        port_file = os.path.join(cls.tmp.name, "port")
        cls.log_path = os.path.join(cls.tmp.name, "serve.log")
        cls.log = open(cls.log_path, "w")
        env = dict(os.environ, BORA_KEYSTONE_SERVICE_PASSWORD=ENV["BORA_OS_SERVICE_PASSWORD"])
        cls.proc = subprocess.Popen(
            # BORA_PROJECTS_SERVE_ARGS (by hand): e.g. "--kafka K --redis R" for distributed mode.
            [BORA, "serve"] + (os.environ.get("BORA_PROJECTS_SERVE_ARGS", "").split() or ["--in-memory"]) +
            ["--port", "0", "--port-file", port_file, "--log-level", "warn",
             "--auth", "keystone", "--keystone-url", ENV["BORA_KEYSTONE_URL"],
             "--keystone-service-user", ENV["BORA_OS_SERVICE_USER"],
             "--keystone-service-project", ENV["BORA_OS_SERVICE_PROJECT"]],
            stdout=cls.log, stderr=subprocess.STDOUT, env=env)

        def port():
            if cls.proc.poll() is not None:
                raise AssertionError("bora serve exited:\n" + open(cls.log_path).read()[-3000:])
            try:
                with open(port_file) as f:
                    return f.read().strip()
            except FileNotFoundError:
                return None
        cls.base = "http://127.0.0.1:%s/v2" % wait_for(port, "the port file of bora serve")
        cls.alpha, cls.alpha_id = token(ENV["BORA_OS_ALPHA_USER"], ENV["BORA_OS_ALPHA_PASSWORD"],
                                        ENV["BORA_OS_ALPHA_PROJECT"])
        cls.beta, cls.beta_id = token(ENV["BORA_OS_BETA_USER"], ENV["BORA_OS_BETA_PASSWORD"],
                                      ENV["BORA_OS_BETA_PROJECT"])
        cls.admin, _ = token(ENV["BORA_OS_ALPHA_ADMIN_USER"], ENV["BORA_OS_ALPHA_ADMIN_PASSWORD"],
                             ENV["BORA_OS_ALPHA_PROJECT"])

    @classmethod
    def tearDownClass(cls):
        openstack_env.end(cls.proc)
        cls.log.close()
        cls.tmp.cleanup()

    def call(self, who, method, path, **kw):
        return http(method, self.base + path, headers={"X-Auth-Token": who}, **kw)

    def ids(self, who, path, collection):
        status, body, _ = self.call(who, "GET", path)
        self.assertEqual(status, 200, body)
        return {r["id"] for r in body[collection]}

    def assert_isolated(self, path, collection, rid, item, change=None, delete=(404,)):
        """alpha owns `rid` (at `item`): beta cannot list, get, change or delete it (`delete`: the
        answers expected, () when the resource has no DELETE); the admin's all_projects list shows
        it; beta may not ask for all_projects."""
        self.assertIn(rid, self.ids(self.alpha, path, collection))
        self.assertNotIn(rid, self.ids(self.beta, path, collection))
        self.assertEqual(self.call(self.alpha, "GET", item)[0], 200)
        self.assertEqual(self.call(self.beta, "GET", item)[0], 404)
        if change:  # (method, request keywords[, target])
            method, kw, target = change if len(change) > 2 else (*change, item)
            status, body, _ = self.call(self.beta, method, target, **kw)
            self.assertEqual(status, 404, body)
        if delete:
            self.assertIn(self.call(self.beta, "DELETE", item)[0], delete)
        self.assertEqual(self.call(self.alpha, "GET", item)[0], 200)
        self.assertEqual(self.call(self.beta, "GET", path + "?all_projects=true")[0], 403)
        self.assertIn(rid, self.ids(self.admin, path + "?all_projects=true", collection))

    def test_every_resource_kind(self):
        # Definitions (beta also has a `wf` of its own: names are per project).
        status, body, _ = self.call(self.alpha, "POST", "/workflows", text=WORKFLOWS)
        self.assertEqual(status, 201, body)
        wf_id = body["workflows"][0]["id"]
        self.assertEqual(body["workflows"][0]["project_id"], self.alpha_id)
        self.assertEqual(self.call(self.beta, "POST", "/workflows", text=WORKFLOWS)[0], 201)
        self.assert_isolated("/workflows", "workflows", wf_id, "/workflows/" + wf_id,
                             ("PUT", {"text": WORKFLOWS}, "/workflows/" + wf_id))
        status, body, _ = self.call(self.alpha, "POST", "/actions", text=ACTIONS)
        self.assertEqual(status, 201, body)
        self.assert_isolated("/actions", "actions", body["actions"][0]["id"], "/actions/my_echo",
                             ("PUT", {"text": ACTIONS}, "/actions"))
        status, body, _ = self.call(self.alpha, "POST", "/workbooks", text=WORKBOOK)
        self.assertEqual(status, 201, body)
        self.assert_isolated("/workbooks", "workbooks", body["id"], "/workbooks/wb",
                             ("PUT", {"text": WORKBOOK}, "/workbooks"))
        status, body, _ = self.call(self.alpha, "POST", "/environments",
                                    body={"name": "env1", "variables": {"a": 1}})
        self.assertEqual(status, 201, body)
        self.assert_isolated("/environments", "environments", body["id"], "/environments/env1",
                             ("PUT", {"body": {"name": "env1", "description": "x"}}, "/environments"))
        # Triggers.
        status, body, _ = self.call(self.alpha, "POST", "/cron_triggers", body={
            "name": "nightly", "workflow_name": "wf", "pattern": "0 3 * * *"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["project_id"], self.alpha_id)
        self.assert_isolated("/cron_triggers", "cron_triggers", body["id"], "/cron_triggers/" + body["id"])
        status, body, _ = self.call(self.alpha, "POST", "/event_triggers", body={
            "name": "on-alarm", "workflow_id": "wf", "type": "com.example.alarm"})
        self.assertEqual(status, 201, body)
        self.assert_isolated("/event_triggers", "event_triggers", body["id"],
                             "/event_triggers/" + body["id"],
                             ("PUT", {"body": {"name": "x"}}))
        # An execution of alpha's `wf`, its task and its action execution.
        status, body, _ = self.call(self.alpha, "POST", "/executions",
                                    body={"workflow_name": "wf", "input": {"who": "alpha"}})
        self.assertEqual(status, 201, body)
        exec_id = body["id"]
        self.assertEqual(body["project_id"], self.alpha_id)

        def finished():
            s, b, _ = self.call(self.alpha, "GET", "/executions/" + exec_id)
            return b if s == 200 and b["state"] in ("SUCCESS", "ERROR") else None
        done = wait_for(finished, "alpha's execution to finish")
        self.assertEqual(done["state"], "SUCCESS", done)
        self.assertEqual(json.loads(done["output"]), {"who": "alpha"})
        self.assert_isolated("/executions", "executions", exec_id, "/executions/" + exec_id,
                             ("PUT", {"body": {"description": "mine"}}))
        task_ids = self.ids(self.alpha, "/executions/%s/tasks" % exec_id, "tasks")
        self.assertEqual(len(task_ids), 1)
        task_id = task_ids.pop()
        self.assertEqual(self.ids(self.beta, "/executions/%s/tasks" % exec_id, "tasks"), set())
        self.assert_isolated("/tasks", "tasks", task_id, "/tasks/" + task_id, delete=())
        action_ids = self.ids(self.alpha, "/tasks/%s/action_executions" % task_id, "action_executions")
        self.assertEqual(len(action_ids), 1)
        action_id = action_ids.pop()
        self.assert_isolated("/action_executions", "action_executions", action_id,
                             "/action_executions/" + action_id,
                             ("PUT", {"body": {"state": "SUCCESS"}}),
                             delete=(403,))  # Mistral never deletes action executions

        # Beta's own execution runs beta's `wf`; the admin of alpha lists it only with all_projects.
        status, body, _ = self.call(self.beta, "POST", "/executions", body={"workflow_name": "wf"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["project_id"], self.beta_id)
        self.assertNotIn(body["id"], self.ids(self.admin, "/executions", "executions"))
        self.assertIn(body["id"], self.ids(self.admin, "/executions?all_projects=true", "executions"))
        self.assertNotIn(body["id"], self.ids(self.alpha, "/executions", "executions"))

    def test_members_share_a_workflow(self):
        """Mistral's resource sharing with real project ids: alpha shares its private workflow with
        beta; beta sees and runs it (in beta's project) once it accepted, cannot change it, and loses
        it when alpha removes the member."""
        status, body, _ = self.call(self.alpha, "POST", "/workflows", text=SHARED)
        self.assertEqual(status, 201, body)
        wf_id = body["workflows"][0]["id"]
        members = "/workflows/%s/members" % wf_id
        member = "%s/%s" % (members, self.beta_id)
        status, body, _ = self.call(self.alpha, "POST", members, body={"member_id": self.beta_id})
        self.assertEqual(status, 201, body)
        self.assertEqual((body["project_id"], body["member_id"], body["status"], body["resource_type"]),
                         (self.alpha_id, self.beta_id, "pending", "workflow"))
        self.assertEqual(self.call(self.alpha, "POST", members, body={"member_id": self.beta_id})[0], 409)
        # Pending: beta does not see the workflow, but sees its membership.
        self.assertNotIn(wf_id, self.ids(self.beta, "/workflows", "workflows"))
        self.assertEqual(self.call(self.beta, "GET", "/workflows/" + wf_id)[0], 404)
        alpha_members = self.ids(self.alpha, members, "members")
        self.assertEqual(len(alpha_members), 1)
        self.assertEqual(self.ids(self.beta, members, "members"), alpha_members)
        status, body, _ = self.call(self.beta, "PUT", member, body={"status": "accepted"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "accepted")
        # Accepted: listed, readable, runnable in beta's project; not changeable.
        self.assertIn(wf_id, self.ids(self.beta, "/workflows", "workflows"))
        self.assertEqual(self.call(self.beta, "GET", "/workflows/" + wf_id)[0], 200)
        self.assertEqual(self.call(self.beta, "PUT", "/workflows/" + wf_id, text=SHARED)[0], 403)
        self.assertEqual(self.call(self.beta, "DELETE", "/workflows/" + wf_id)[0], 403)
        status, body, _ = self.call(self.beta, "POST", "/executions", body={"workflow_id": wf_id})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["project_id"], self.beta_id)
        exec_id = body["id"]

        def finished():
            s, b, _ = self.call(self.beta, "GET", "/executions/" + exec_id)
            return b if s == 200 and b["state"] in ("SUCCESS", "ERROR") else None
        done = wait_for(finished, "beta's execution of the shared workflow to finish")
        self.assertEqual(done["state"], "SUCCESS", done)
        self.assertEqual(self.call(self.alpha, "GET", "/executions/" + exec_id)[0], 404)
        # Alpha removes the member: gone for beta.
        self.assertEqual(self.call(self.beta, "DELETE", member)[0], 404)
        self.assertEqual(self.call(self.alpha, "DELETE", member)[0], 204)
        self.assertEqual(self.call(self.beta, "GET", "/workflows/" + wf_id)[0], 404)
        self.assertEqual(self.call(self.alpha, "DELETE", "/workflows/" + wf_id)[0], 204)

    def test_actions_get_the_callers_security_context(self):
        """A worker of the HTTP worker API gets alpha's project, user and token with the lease."""
        poll = {"worker": "w1", "pool": "osp", "actions": ["osp.probe"], "max": 1, "wait": 0}
        status, body, _ = self.call(self.alpha, "POST", "/workers/poll", body=poll)
        self.assertEqual(status, 200, body)
        status, body, _ = self.call(self.alpha, "POST", "/workflows", text="""version: '2.0'
probe:
  tasks:
    t:
      action: osp.probe
""")
        self.assertEqual(status, 201, body)
        status, body, _ = self.call(self.alpha, "POST", "/executions", body={"workflow_name": "probe"})
        self.assertEqual(status, 201, body)
        exec_id = body["id"]

        def lease():
            s, b, _ = self.call(self.alpha, "POST", "/workers/poll", body=dict(poll, wait=5))
            self.assertEqual(s, 200, b)
            return b["leases"][0] if b["leases"] else None
        got = wait_for(lease, "a lease of osp.probe")
        security = got["security"]
        self.assertEqual(security["project_id"], self.alpha_id)
        self.assertEqual(security["project_name"], ENV["BORA_OS_ALPHA_PROJECT"])
        self.assertEqual(security["user_name"], ENV["BORA_OS_ALPHA_USER"])
        self.assertEqual(security["auth_token"], self.alpha)
        # The token is a working Keystone token of alpha's (what an OpenStack action would use).
        status, body, _ = http("GET", ENV["OS_AUTH_URL"] + "/auth/tokens",
                               headers={"X-Auth-Token": security["auth_token"],
                                        "X-Subject-Token": security["auth_token"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token"]["project"]["id"], self.alpha_id)
        status, body, _ = self.call(self.alpha, "POST", "/workers/leases/%s/complete" % got["lease_id"],
                                    body={"state": "SUCCESS", "result": "ok"})
        self.assertEqual(status, 200, body)
        # Never in the execution's JSON.
        status, body, _ = self.call(self.alpha, "GET", "/executions/" + exec_id)
        self.assertNotIn(self.alpha, json.dumps(body))


if __name__ == "__main__":
    openstack_env.load_env(sys.argv[1])
    BORA = sys.argv[2]
    unittest.main(argv=[sys.argv[0]])
