#!/usr/bin/python3
"""The OpenStack action pack end to end, on the real Keystone and Glance of scripts/openstack.sh.

Usage: test_action_pack_e2e.py BORA_BIN REPO   (BORA_OPENSTACK_DIR names the running services' folder;
Debian's python3 with its clients). Fails, never skips, when the services do not run.

`bora serve --in-memory` and the worker `python3 -m bora_openstack` (a subprocess, with alpha-admin's
credentials in the OS_* environment, as `scripts/openstack.sh env` gives them):
  - the worker declares the catalog's actions: GET /v2/actions lists them with input spec and description;
  - a workflow creates a private image (glance.images_create), uploads data (glance.images_upload), lists
    images and sees it (glance.images_list), sets a property (glance.images_update); Glance itself (its
    client, directly) then has the image with that property, owner alpha, status active and the bytes;
  - a second workflow deletes it (glance.images_delete): Glance no longer has it;
  - glance.images_get of the deleted id ends the task ERROR with "404 Not Found: No image found ...";
  - keystone.projects_list (admin credentials) lists the projects alpha and beta, keystone.users_get
    gives alpha-member.
The callers' tokens (request.security), on the same services through bora_openstack.pack directly:
beta-member's token does not see alpha's private image (404), alpha-member's does; endpoints by
interface (public, internal, admin) and region (`action_region`; RegionTwo has no Glance: an error).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = pathlib.Path(__file__).resolve()
PACK_DIR = HERE.parents[1]
SDK_DIR = PACK_DIR.parent / "python"
sys.path[:0] = [str(PACK_DIR), str(SDK_DIR), str(SDK_DIR / "tests"), str(HERE.parents[3] / "tests/openstack")]

import test_http_e2e as sdk_e2e  # noqa: E402 - the SDK's Server and REST helpers
import test_openstack as services_test  # noqa: E402 - the services' variables (load_env)
from bora_worker import ActionError, Worker  # noqa: E402

from bora_openstack import __main__ as cli  # noqa: E402
from bora_openstack import pack  # noqa: E402

ENV = services_test.ENV  # filled by load_env
POOL = "openstack"

WORKFLOWS = """\
version: '2.0'

os_image_create:
  input:
    - name
  tasks:
    create:
      action: glance.images_create name=<% $.name %> disk_format=raw container_format=bare
        visibility=private
      publish:
        id: <% task().result.id %>
      on-success: upload
    upload:
      action: glance.images_upload image_id=<% $.id %> image_data="hello from bora"
      on-success: list
    list:
      action: glance.images_list
      publish:
        listed: <% task().result.select($.id) %>
      on-success: update
    update:
      action: glance.images_update image_id=<% $.id %> bora_color=blue
      publish:
        color: <% task().result.bora_color %>
  output:
    id: <% $.id %>
    listed: <% $.listed %>
    color: <% $.color %>

os_image_delete:
  input:
    - id
  tasks:
    delete:
      action: glance.images_delete image_id=<% $.id %>
      on-success: list
    list:
      action: glance.images_list
      publish:
        listed: <% task().result.select($.id) %>
  output:
    listed: <% $.listed %>

os_image_get:
  input:
    - id
  tasks:
    get:
      action: glance.images_get image_id=<% $.id %>

os_keystone:
  input:
    - user_id
  tasks:
    projects:
      action: keystone.projects_list
      publish:
        projects: <% task().result.select($.name) %>
      on-success: user
    user:
      action: keystone.users_get user=<% $.user_id %>
      publish:
        user: <% task().result.name %>
  output:
    projects: <% $.projects %>
    user: <% $.user %>
"""


def os_environ(user, password, project):
    """The OS_* variables of one user (the services' region, interface and auth URL)."""
    env = {k: v for k, v in ENV.items() if k.startswith("OS_")}
    env.update(OS_USERNAME=user, OS_PASSWORD=password, OS_PROJECT_NAME=project)
    return env


def session_of(user, password, project):
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    return session.Session(auth=v3.Password(
        auth_url=ENV["OS_AUTH_URL"], username=user, password=password, project_name=project,
        user_domain_name="Default", project_domain_name="Default"))


def glance_of(sess):
    import glanceclient

    return glanceclient.Client("2", session=sess, region_name="RegionOne", interface="public")


class ServerAndWorker(unittest.TestCase):
    """bora serve (cls.server) and a bora_openstack worker subprocess (cls.worker), stopped after the class."""

    @classmethod
    def spawn_worker(cls, credentials, *args):
        """The worker with `credentials` (OS_* of os_environ) and the extra command-line `args`."""
        env = dict(os.environ)
        env.update(credentials)
        env["PYTHONPATH"] = f"{PACK_DIR}:{SDK_DIR}"
        env["PYTHONWARNINGS"] = "ignore"
        cls.worker_log = os.path.join(cls.tmp.name, "worker.log")
        with open(cls.worker_log, "w") as log:
            cls.worker = subprocess.Popen(
                [sys.executable, "-m", "bora_openstack", "--url", cls.server.url, "--pool", POOL, *args],
                env=env, stdout=log, stderr=subprocess.STDOUT)

    @classmethod
    def tearDownClass(cls):
        cls.worker.terminate()
        try:
            cls.worker.wait(60)
        finally:
            cls.server.stop()
            cls.tmp.cleanup()

    def tail(self):
        with open(self.worker_log, errors="replace") as f:
            worker = f.read()[-3000:]
        return f"\n--- worker:\n{worker}\n--- bora serve:\n{self.server.tail()}"


class ActionPackE2ETest(ServerAndWorker):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bora-ospack-e2e-")
        cls.server = sdk_e2e.Server(cls.tmp.name)
        try:
            cls.start_worker()
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def start_worker(cls):
        # Declared first with a poll of our own (what the worker declares), so the workflows can be created
        # and started at once: their tasks wait in the pool's queue for the worker's first poll.
        declaring = Worker.http(cls.server.url, pool=POOL)
        cls.catalog = pack.load_catalog()
        cli.register(declaring, pack.Pack(cls.catalog, lambda: None), sorted(a["name"] for a in cls.catalog))
        body = {"worker": "e2e-declare", "pool": POOL, "actions": declaring.declarations(), "max": 1,
                "wait": 0, "lease": 30}
        status, reply = sdk_e2e.call(cls.server.url, "POST", "/v2/workers/poll", body)
        if status != 200:
            raise AssertionError(f"declaring the catalog: {status} {reply}\n{cls.server.tail()}")
        status, reply = sdk_e2e.call(cls.server.url, "POST", "/v2/workflows", WORKFLOWS, "text/plain")
        if status != 201:
            raise AssertionError(f"POST /v2/workflows: {status} {reply}\n{cls.server.tail()}")
        cls.spawn_worker(os_environ(ENV["BORA_OS_ALPHA_ADMIN_USER"], ENV["BORA_OS_ALPHA_ADMIN_PASSWORD"],
                                    ENV["BORA_OS_ALPHA_PROJECT"]), "--concurrency", "4")

    def run_workflow(self, name, input_):
        status, ex = sdk_e2e.call(self.server.url, "POST", "/v2/executions",
                                  {"workflow_name": name, "input": input_})
        self.assertEqual(status, 201, f"{ex}{self.tail()}")
        events = sdk_e2e.read_stream_to_end(self.server.url, ex["id"])
        self.assertEqual(events[-1], "end", events)
        status, done = sdk_e2e.call(self.server.url, "GET", f"/v2/executions/{ex['id']}")
        self.assertEqual(status, 200, done)
        return done

    def tasks(self, execution_id):
        status, reply = sdk_e2e.call(self.server.url, "GET", f"/v2/executions/{execution_id}/tasks")
        self.assertEqual(status, 200, reply)
        return {t["name"]: t for t in reply["tasks"]}

    def test_1_actions_are_listed(self):
        status, reply = sdk_e2e.call(self.server.url, "GET", "/v2/actions")
        self.assertEqual(status, 200, reply)
        listed = {a["name"]: a for a in reply["actions"]}
        for entry in self.catalog:
            self.assertIn(entry["name"], listed)
        get = listed["glance.images_get"]
        self.assertEqual(get["input"], 'image_id, action_region=""')
        servers = listed["nova.servers_list"]
        self.assertIn("search_opts=null", servers["input"])
        self.assertEqual(servers["description"], "Get a list of servers.")

    def test_2_image_lifecycle(self):
        name = f"bora-ospack-{uuid.uuid4().hex[:8]}"
        done = self.run_workflow("os_image_create", {"name": name})
        self.assertEqual(done["state"], "SUCCESS", f"{done}{self.tail()}")
        out = json.loads(done["output"])
        image_id = out["id"]
        self.assertIn(image_id, out["listed"])
        self.assertEqual(out["color"], "blue")

        # Glance itself, through its client: the image of project alpha, with the data and the property.
        admin = session_of(ENV["BORA_OS_ALPHA_ADMIN_USER"], ENV["BORA_OS_ALPHA_ADMIN_PASSWORD"],
                           ENV["BORA_OS_ALPHA_PROJECT"])
        glance = glance_of(admin)
        image = glance.images.get(image_id)
        self.assertEqual(image["name"], name)
        self.assertEqual(image["bora_color"], "blue")
        self.assertEqual(image["visibility"], "private")
        self.assertEqual(image["status"], "active")
        self.assertEqual(image["owner"], admin.get_project_id())
        self.assertEqual(b"".join(glance.images.data(image_id)), b"hello from bora")

        # The caller's token (request.security) instead of the configured credentials: beta does not see
        # alpha's private image, alpha-member does.
        the_pack = pack.Pack(self.catalog, lambda: admin, cli.token_session_factory(ENV["OS_AUTH_URL"]),
                             region="RegionOne", interface="public")
        for user, password, project, visible in [
                (ENV["BORA_OS_BETA_USER"], ENV["BORA_OS_BETA_PASSWORD"], ENV["BORA_OS_BETA_PROJECT"], False),
                (ENV["BORA_OS_ALPHA_USER"], ENV["BORA_OS_ALPHA_PASSWORD"], ENV["BORA_OS_ALPHA_PROJECT"], True)]:
            sess = session_of(user, password, project)
            security = {"auth_token": sess.get_token(), "project_id": sess.get_project_id(),
                        "user_name": user, "project_name": project}
            listed = [i["id"] for i in the_pack.run("glance.images_list", {}, security)]
            self.assertEqual(image_id in listed, visible, user)
            if visible:
                self.assertEqual(the_pack.run("glance.images_get", {"image_id": image_id}, security)["name"],
                                 name)
            else:
                with self.assertRaises(ActionError) as caught:
                    the_pack.run("glance.images_get", {"image_id": image_id}, security)
                self.assertEqual(caught.exception.data["code"], 404)

        done = self.run_workflow("os_image_delete", {"id": image_id})
        self.assertEqual(done["state"], "SUCCESS", f"{done}{self.tail()}")
        self.assertNotIn(image_id, json.loads(done["output"])["listed"])
        self.assertNotIn(image_id, [i["id"] for i in glance.images.list()])
        import glanceclient.exc

        with self.assertRaises(glanceclient.exc.HTTPNotFound):
            glance.images.get(image_id)

        # A call that fails: the task's error says which action, the status and what Glance said.
        done = self.run_workflow("os_image_get", {"id": image_id})
        self.assertEqual(done["state"], "ERROR", done)
        task = self.tasks(done["id"])["get"]
        self.assertEqual(task["state"], "ERROR", task)
        self.assertIn(f"glance.images_get: 404 Not Found: No image found with ID {image_id}",
                      task["state_info"], task)
        self.assertIn("'code': 404", task["state_info"], task)  # Mistral's form of the error dict

    def test_4_endpoints_by_region_and_interface(self):
        """The pack directly: the configured region and interface pick Glance's endpoint from the
        catalog, `action_region` overrides the region; a region without Glance is a clear error."""
        sess = session_of(ENV["BORA_OS_ALPHA_USER"], ENV["BORA_OS_ALPHA_PASSWORD"],
                          ENV["BORA_OS_ALPHA_PROJECT"])
        for interface in ("public", "internal", "admin"):
            the_pack = pack.Pack(self.catalog, lambda: sess, region="RegionOne", interface=interface)
            self.assertIsInstance(the_pack.run("glance.images_list", {}), list, interface)
        the_pack = pack.Pack(self.catalog, lambda: sess, region="RegionOne", interface="public")
        with self.assertRaises(ActionError) as caught:
            the_pack.run("glance.images_list", {"action_region": "RegionTwo"})
        self.assertEqual(caught.exception.data["type"], "EndpointNotFound", caught.exception.data)
        self.assertIn("RegionTwo", caught.exception.data["message"])
        self.assertIsInstance(the_pack.run("glance.images_list", {"action_region": "RegionOne"}), list)

    def test_3_keystone(self):
        member = session_of(ENV["BORA_OS_ALPHA_USER"], ENV["BORA_OS_ALPHA_PASSWORD"],
                            ENV["BORA_OS_ALPHA_PROJECT"])
        done = self.run_workflow("os_keystone", {"user_id": member.get_user_id()})
        self.assertEqual(done["state"], "SUCCESS", f"{done}{self.tail()}")
        out = json.loads(done["output"])
        self.assertTrue({"alpha", "beta", "admin", "service"} <= set(out["projects"]), out)
        self.assertEqual(out["user"], ENV["BORA_OS_ALPHA_USER"])


def main(module="__main__"):
    """Runs the tests of `module` (the script run): argv BORA_BIN REPO."""
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {os.path.basename(sys.argv[0])} BORA_BIN REPO")
    sdk_e2e.BORA, sdk_e2e.MODE = sys.argv[1], "embedded"
    services_test.load_env(sys.argv[2])
    unittest.main(module=module, argv=[sys.argv[0], "-v"])


if __name__ == "__main__":
    main()
