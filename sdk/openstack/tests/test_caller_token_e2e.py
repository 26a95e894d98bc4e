#!/usr/bin/python3
"""OpenStack actions run with the caller's Keystone token, on the real Keystone and Glance of scripts/openstack.sh.

Usage: test_caller_token_e2e.py BORA_BIN REPO   (BORA_OPENSTACK_DIR names the running services' folder;
Debian's python3 with its clients). Fails, never skips, when the services do not run.

`bora serve --in-memory --auth keystone` and the worker `python3 -m bora_openstack --keystone-token` whose
configured credentials are beta-member's (it polls Bora with a Keystone token of beta's, renewed by its
session). alpha-member starts a workflow that creates a private image: the image belongs to project alpha,
so the action ran with alpha-member's token (request.security), not the worker's credentials; beta's
credentials do not see it. The worker's own token is one of beta's, and Bora accepted its polls (its
declarations are listed).
"""

import json
import os
import pathlib
import sys
import tempfile
import time
import unittest
import uuid

HERE = pathlib.Path(__file__).resolve()
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1].parent / "python/tests"),
                str(HERE.parents[3] / "tests/openstack")]

import test_action_pack_e2e as pack_e2e  # noqa: E402 - os_environ, session_of, glance_of
import test_http_e2e as sdk_e2e  # noqa: E402 - the SDK's Server and REST helpers
import test_openstack as services_test  # noqa: E402 - the services' variables (load_env)

ENV = services_test.ENV
DEADLINE_S = 120.0

WORKFLOW = """\
version: '2.0'
os_caller_image:
  input:
    - name
  tasks:
    create:
      action: glance.images_create name=<% $.name %> disk_format=raw container_format=bare
        visibility=private
      publish:
        id: <% task().result.id %>
        owner: <% task().result.owner %>
  output:
    id: <% $.id %>
    owner: <% $.owner %>
"""


class CallerTokenTest(pack_e2e.ServerAndWorker):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bora-ospack-token-")
        os.environ["BORA_KEYSTONE_SERVICE_PASSWORD"] = ENV["BORA_OS_SERVICE_PASSWORD"]
        cls.server = sdk_e2e.Server(cls.tmp.name, extra=[
            "--auth", "keystone", "--keystone-url", ENV["BORA_KEYSTONE_URL"],
            "--keystone-service-user", ENV["BORA_OS_SERVICE_USER"],
            "--keystone-service-project", ENV["BORA_OS_SERVICE_PROJECT"]])
        cls.alpha = pack_e2e.session_of(ENV["BORA_OS_ALPHA_USER"], ENV["BORA_OS_ALPHA_PASSWORD"],
                                        ENV["BORA_OS_ALPHA_PROJECT"])
        cls.beta = pack_e2e.session_of(ENV["BORA_OS_BETA_USER"], ENV["BORA_OS_BETA_PASSWORD"],
                                       ENV["BORA_OS_BETA_PROJECT"])
        cls.spawn_worker(pack_e2e.os_environ(ENV["BORA_OS_BETA_USER"], ENV["BORA_OS_BETA_PASSWORD"],
                                             ENV["BORA_OS_BETA_PROJECT"]),
                         "--keystone-token", "--services", "glance")

    def call(self, method, path, body=None, content_type="application/json"):
        return sdk_e2e.call(self.server.url, method, path, body, content_type,
                            token=self.alpha.get_token())

    def wait_for(self, check, what):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            if self.worker.poll() is not None:
                self.fail(f"the worker exited {self.worker.returncode} while waiting for {what}{self.tail()}")
            time.sleep(0.1)  # polling a REST resource: nothing to wait on
        self.fail(f"timed out waiting for {what}{self.tail()}")

    def test_the_action_runs_with_the_callers_token(self):
        # The worker declared the glance actions on a poll with its own (beta's) Keystone token, which
        # bora serve --auth keystone accepted: they are listed.
        def declared():
            status, reply = self.call("GET", "/v2/actions/glance.images_create")
            return status == 200
        self.wait_for(declared, "glance.images_create declared by the worker")
        status, reply = self.call("POST", "/v2/workflows", WORKFLOW, "text/plain")
        self.assertEqual(status, 201, f"{reply}{self.tail()}")
        name = f"bora-caller-{uuid.uuid4().hex[:8]}"
        status, ex = self.call("POST", "/v2/executions",
                               {"workflow_name": "os_caller_image", "input": {"name": name}})
        self.assertEqual(status, 201, f"{ex}{self.tail()}")

        def finished():
            status, reply = self.call("GET", f"/v2/executions/{ex['id']}")
            self.assertEqual(status, 200, reply)
            return reply if reply["state"] in ("SUCCESS", "ERROR") else None
        done = self.wait_for(finished, "the execution to end")
        self.assertEqual(done["state"], "SUCCESS", f"{done}{self.tail()}")
        self.assert_alphas_image(json.loads(done["output"]), name)

    def assert_alphas_image(self, out, name):
        """Glance says the image `out` ({id, owner}) named `name` is alpha's (alpha-member's token), not
        beta's (the worker's credentials); then deletes it."""
        alpha_glance = pack_e2e.glance_of(self.alpha)
        try:
            self.assertEqual(out["owner"], self.alpha.get_project_id())
            self.assertNotEqual(out["owner"], self.beta.get_project_id())
            image = alpha_glance.images.get(out["id"])
            self.assertEqual(image["owner"], self.alpha.get_project_id())
            self.assertEqual(image["name"], name)
            beta_ids = [i["id"] for i in pack_e2e.glance_of(self.beta).images.list()]
            self.assertNotIn(out["id"], beta_ids)
        finally:
            for glance in (alpha_glance, pack_e2e.glance_of(self.beta)):  # whoever owns it
                try:
                    glance.images.delete(out["id"])
                    break
                except Exception:  # noqa: BLE001 - not this one's image
                    pass


if __name__ == "__main__":
    pack_e2e.main()
