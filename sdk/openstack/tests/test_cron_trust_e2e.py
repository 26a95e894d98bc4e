#!/usr/bin/python3
"""A cron trigger's runs act as its creator through a Keystone trust, on the real Keystone and Glance of
scripts/openstack.sh.

Usage: test_cron_trust_e2e.py BORA_BIN REPO   (BORA_OPENSTACK_DIR names the running services' folder;
Debian's python3 with its clients). Fails, never skips, when the services do not run.

As test_caller_token_e2e.py: `bora serve --in-memory --auth keystone` and the worker `python3 -m
bora_openstack --keystone-token` whose configured credentials are beta-member's. alpha-member creates a cron
trigger (`* * * * *`, two executions) whose workflow creates a private image: Bora creates a trust (trustor
alpha-member, trustee Bora's service user; Keystone lists it for alpha-member), the trigger fires within a
minute and its run gets a token of the trust, so Glance says the image is alpha's (with the trust path off the
worker's beta credentials would make it beta's). Deleting the trigger deletes the trust (Keystone: 404).
"""

import json
import pathlib
import sys
import time
import uuid

HERE = pathlib.Path(__file__).resolve()
sys.path[:0] = [str(HERE.parent)]

import test_action_pack_e2e as pack_e2e  # noqa: E402 - session_of, glance_of, main
import test_caller_token_e2e as caller_e2e  # noqa: E402 - bora serve --auth keystone and the worker

ENV = caller_e2e.ENV
WORKFLOW = caller_e2e.WORKFLOW.replace("os_caller_image", "os_cron_image")


class CronTrustTest(caller_e2e.CallerTokenTest):
    # The same server and worker (setUpClass, call, wait_for, assert_alphas_image); not its test.
    test_the_action_runs_with_the_callers_token = None

    def keystone(self, method, path):
        """(status, JSON or None) of alpha-member's call to Keystone's /v3`path`."""
        reply = self.alpha.request(ENV["OS_AUTH_URL"].rstrip("/") + path, method, raise_exc=False)
        try:
            return reply.status_code, reply.json()
        except ValueError:
            return reply.status_code, None

    def alpha_trusts(self):
        status, reply = self.keystone(
            "GET", "/OS-TRUST/trusts?trustor_user_id=" + self.alpha.get_user_id())
        self.assertEqual(status, 200, reply)
        return {t["id"]: t for t in reply["trusts"]}

    def test_a_cron_run_acts_as_the_trigger_creator(self):
        self.wait_for(lambda: self.call("GET", "/v2/actions/glance.images_create")[0] == 200,
                      "glance.images_create declared by the worker")
        status, reply = self.call("POST", "/v2/workflows", WORKFLOW, "text/plain")
        self.assertEqual(status, 201, f"{reply}{self.tail()}")
        before = set(self.alpha_trusts())
        name = f"bora-cron-{uuid.uuid4().hex[:8]}"
        trigger = f"cron-{name}"
        status, created = self.call("POST", "/v2/cron_triggers", {
            "name": trigger, "workflow_name": "os_cron_image", "workflow_input": {"name": name},
            "pattern": "* * * * *", "remaining_executions": 2})
        self.assertEqual(status, 201, f"{created}{self.tail()}")
        self.assertNotIn("trust", json.dumps(created))  # stored, never shown

        # Keystone has the trust: alpha-member to Bora's service user, on alpha, impersonating.
        new = {i: t for i, t in self.alpha_trusts().items() if i not in before}
        self.assertEqual(len(new), 1, new)
        trust_id, trust = next(iter(new.items()))
        self.assertEqual(trust["trustor_user_id"], self.alpha.get_user_id())
        self.assertEqual(trust["project_id"], self.alpha.get_project_id())
        self.assertTrue(trust["impersonation"])

        def run_ended():
            status, reply = self.call("GET", "/v2/executions?workflow_name=os_cron_image")
            self.assertEqual(status, 200, reply)
            done = [e for e in reply["executions"] if e["state"] in ("SUCCESS", "ERROR")]
            return done[0] if done else None
        started = time.monotonic()
        done = self.wait_for(run_ended, "the trigger's first run to end (within a minute)")
        print(f"first run ended {time.monotonic() - started:.1f} s after the trigger was created")
        self.assertIn(created["id"], done["description"])
        self.assertEqual(done["state"], "SUCCESS", f"{done}{self.tail()}")
        out = json.loads(self.call("GET", f"/v2/executions/{done['id']}")[1]["output"])
        # Glance says: alpha's image (the trust's token), not beta's (the worker's credentials).
        self.assert_alphas_image(out, name)

        # Deleting the trigger deletes the trust.
        self.assertEqual(self.keystone("GET", f"/OS-TRUST/trusts/{trust_id}")[0], 200)
        status, reply = self.call("DELETE", f"/v2/cron_triggers/{trigger}")
        self.assertEqual(status, 204, reply)
        self.assertEqual(self.keystone("GET", f"/OS-TRUST/trusts/{trust_id}")[0], 404)


if __name__ == "__main__":
    pack_e2e.main()
