#!/usr/bin/python3
"""examples/openstack end to end, on the real Keystone and Glance of scripts/openstack.sh.

Usage: test_openstack_examples.py BORA_BIN REPO   (BORA_OPENSTACK_DIR names the running services' folder;
Debian's python3 with its clients). Fails, never skips, when the services or the worker do not run.

`bora serve --in-memory` and the action pack's worker `python3 -m bora_openstack --pool openstack` with
alpha-admin's credentials (OS_* of `scripts/openstack.sh env`); the examples are loaded and the triggers
created with the `bora` commands examples/openstack/README.md shows.

  - cleanup_old_images (cron): three images of project alpha made with glanceclient, two tagged
    `temporary-<run>` (the tag to clean up: this run's own, so tests running alongside keep theirs), one
    not. Started directly with older_than=3600 it deletes nothing (they are seconds
    old). A cron trigger `* * * * *` with one execution and older_than=0 fires once (within a minute): its
    execution SUCCEEDs, Glance no longer has the two temporary images and still has the third, the
    trigger is gone and exactly one execution names it.
  - aodh_remediation (webhook): an active image; Aodh's notification of an alarm named
    `image corrupted: <image name>` POSTed to /v2/webhooks/aodh starts remediate_image through an event
    trigger on `aodh.alarm.*`: the execution SUCCEEDs and Glance has the image deactivated, tagged
    `quarantined`, with the alarm's id as a property. The alarm's return to ok reactivates the image and
    takes tag and properties off.
  - a TripleO-style workbook on real Glance (examples/tripleo/overcloud_images.yaml, loaded with `bora
    workbook create`): `upload` creates, uploads, tags and marks an image; the same upload again finds it
    and creates nothing; a new version (another checksum) is a new image and the old one is retired
    (renamed, untagged, deactivated); `restore` reactivates and tags it again.
Every wait polls with a deadline; nothing sleeps a fixed time.
"""

import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

BORA = ""
REPO = pathlib.Path()
ENV = {}


def fail(message):
    raise AssertionError(message)


def load_env():
    out = subprocess.run(["bash", str(REPO / "scripts/openstack.sh"), "env"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise SystemExit("FAIL: the OpenStack services do not run (scripts/openstack.sh env): " + out.stderr)
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        ENV[key] = value.strip("'\"")


def alpha_environ():
    """The process environment with alpha-admin's credentials as OS_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({k: v for k, v in ENV.items() if k.startswith("OS_")})
    env.update(OS_USERNAME=ENV["BORA_OS_ALPHA_ADMIN_USER"], OS_PASSWORD=ENV["BORA_OS_ALPHA_ADMIN_PASSWORD"],
               OS_PROJECT_NAME=ENV["BORA_OS_ALPHA_PROJECT"])
    return env


def glance():
    """glanceclient on a keystoneauth1 session of alpha-admin (the worker's credentials)."""
    from glanceclient import Client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(auth_url=ENV["OS_AUTH_URL"], username=ENV["BORA_OS_ALPHA_ADMIN_USER"],
                       password=ENV["BORA_OS_ALPHA_ADMIN_PASSWORD"],
                       project_name=ENV["BORA_OS_ALPHA_PROJECT"],
                       user_domain_name="Default", project_domain_name="Default")
    return Client("2", session=session.Session(auth=auth), region_name="RegionOne", interface="public")


def read_text(path):
    """The stripped text of a file, or "" while it does not exist."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def poll(what, check, deadline_s):
    """check() until it returns something truthy, every 0.2 s, at most deadline_s."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            fail(f"timed out after {deadline_s} s waiting for {what}")
        time.sleep(0.2)


class OpenStackExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        load_env()
        cls.tmp = tempfile.TemporaryDirectory()
        port_file = os.path.join(cls.tmp.name, "port")
        cls.serve_log = open(os.path.join(cls.tmp.name, "serve.log"), "w")
        cls.serve = subprocess.Popen([BORA, "serve", "--in-memory", "--port", "0", "--port-file", port_file],
                                     stdout=cls.serve_log, stderr=subprocess.STDOUT)
        port = poll("bora serve's port file", lambda: read_text(port_file), 60)
        cls.url = f"http://127.0.0.1:{port}"
        cls.worker_log = open(os.path.join(cls.tmp.name, "worker.log"), "w")
        env = alpha_environ()
        env["PYTHONPATH"] = os.pathsep.join([str(REPO / "sdk/openstack"), str(REPO / "sdk/python")])
        cls.worker = subprocess.Popen(["/usr/bin/python3", "-m", "bora_openstack", "--url", cls.url,
                                       "--pool", "openstack"], env=env, stdout=cls.worker_log,
                                      stderr=subprocess.STDOUT)
        poll("the worker to declare glance.images_list",
             lambda: cls.worker.poll() is None and "glance.images_list" in cls.action_names(), 120)
        if cls.worker.poll() is not None:
            fail("the worker exited: " + cls.tail(cls.worker_log))
        for example in ("cleanup_old_images.yaml", "aodh_remediation.yaml"):
            cls.bora("workflow", "create", str(REPO / "examples/openstack" / example))
        cls.glance = glance()
        cls.tag = "run" + uuid.uuid4().hex[:8]  # this run's images carry it too
        cls.made = []

    @classmethod
    def tearDownClass(cls):
        for image_id in cls.made:
            try:
                cls.glance.images.delete(image_id)
            except Exception:  # already gone (deleted by the example)
                pass
        for proc in (cls.worker, cls.serve):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        cls.serve_log.close()
        cls.worker_log.close()
        cls.tmp.cleanup()

    @staticmethod
    def tail(log):
        log.flush()
        with open(log.name) as f:
            return "".join(f.readlines()[-30:])

    @classmethod
    def bora(cls, *args):
        run = subprocess.run([BORA, *args, "--url", cls.url, "-o", "json"], capture_output=True, text=True,
                             timeout=120)
        if run.returncode != 0:
            fail(f"bora {' '.join(args)}: exit {run.returncode}: {run.stdout}{run.stderr}")
        return json.loads(run.stdout) if run.stdout.strip() else None

    @classmethod
    def api(cls, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(cls.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None

    @classmethod
    def action_names(cls):
        try:
            return {a["name"] for a in cls.api("GET", "/v2/actions?limit=100000")[1]["actions"]}
        except (urllib.error.URLError, ConnectionError):
            return set()

    def executions(self, workflow):
        path = f"/v2/executions?workflow_name={workflow}&include_output=true"
        return self.api("GET", path)[1]["executions"]

    def make_image(self, name, tags, data=None):
        image = self.glance.images.create(name=name, disk_format="raw", container_format="bare",
                                          visibility="private", tags=tags + [self.tag])
        self.made.append(image["id"])
        if data is not None:
            self.glance.images.upload(image["id"], io.BytesIO(data))
        return image["id"]

    def image_or_none(self, image_id):
        from glanceclient import exc

        try:
            image = self.glance.images.get(image_id)
        except exc.HTTPNotFound:
            return None
        return None if image["status"] == "deleted" else image

    def finished(self, execution_id):
        execution = self.api("GET", f"/v2/executions/{execution_id}")[1]
        return execution if execution["state"] in ("SUCCESS", "ERROR", "CANCELLED") else None

    def test_1_cron_cleanup(self):
        # The tag to clean up is this run's own (`temporary-<run>`), so that tests running at the same time
        # keep their images whatever they are tagged.
        temporary_tag = "temporary-" + self.tag
        temporary = [self.make_image(f"scratch-{i}-{self.tag}", [temporary_tag]) for i in (1, 2)]
        keep = self.make_image(f"golden-{self.tag}", ["release"])

        # Directly, with a cutoff of an hour: nothing of this run is old enough.
        started = self.bora("execution", "start", "cleanup_old_images", "--input",
                            json.dumps({"older_than": 3600, "tag": temporary_tag}), "--wait",
                            "--timeout", "120")
        self.assertEqual(started["state"], "SUCCESS", started.get("state_info"))
        output = json.loads(started["output"])
        self.assertFalse({i["id"] for i in output["selected"]} & set(temporary + [keep]), output)
        for image_id in temporary + [keep]:
            self.assertIsNotNone(self.image_or_none(image_id), image_id)

        # By a cron trigger that fires once, at the next minute, with no age limit.
        name = "cleanup-" + self.tag
        trigger = self.bora("cron", "create", name, "cleanup_old_images", "--pattern", "* * * * *",
                            "--count", "1", "--input", json.dumps({"older_than": 0, "tag": temporary_tag}))
        print(f"cron trigger {name} next at {trigger['next_execution_time']}", flush=True)
        description = f"'({trigger['id']})'"

        def fired():
            runs = [e for e in self.executions("cleanup_old_images") if description in e["description"]]
            return runs and all(self.finished(e["id"]) for e in runs) and runs

        runs = poll("the cron trigger's execution to finish", fired, 150)
        self.assertEqual(len(runs), 1, runs)
        run = self.finished(runs[0]["id"])
        self.assertEqual(run["state"], "SUCCESS", run.get("state_info"))
        deleted = json.loads(run["output"])["deleted"]
        self.assertTrue(set(temporary) <= set(deleted), deleted)
        self.assertNotIn(keep, deleted)
        for image_id in temporary:
            self.assertIsNone(self.image_or_none(image_id), f"{image_id} is still in Glance")
        self.assertEqual(self.image_or_none(keep)["name"], f"golden-{self.tag}")
        # One execution: the trigger is gone (no execution left), so it cannot fire again.
        self.assertNotIn(name, [t["name"] for t in self.api("GET", "/v2/cron_triggers")[1]["cron_triggers"]])
        kept = json.loads(run["output"])["kept"]
        print(f"cron run {run['id']}: deleted {len(deleted)} image(s), kept {kept}",
              flush=True)

    def aodh(self, alarm_id, name, previous, current):
        body = {"alarm_name": name, "alarm_id": alarm_id, "severity": "critical", "previous": previous,
                "current": current, "reason": f"Transition to {current} due to 3 samples outside threshold",
                "reason_data": {"type": "threshold", "disposition": "outside", "count": 3,
                                "most_recent": 97.5}}
        status, reply = self.api("POST", "/v2/webhooks/aodh", body,
                                 {"x-openstack-request-id": "req-" + str(uuid.uuid4())})
        self.assertEqual(status, 202, reply)

    def remediation(self, known):
        def new_finished():
            runs = [e for e in self.executions("remediate_image") if e["id"] not in known]
            return len(runs) == 1 and self.finished(runs[0]["id"])

        return poll("the remediation execution to finish", new_finished, 90)

    def test_2_aodh_remediation(self):
        image_name = f"cirros-{self.tag}"
        image_id = self.make_image(image_name, [], data=b"\0" * 4096)
        self.assertEqual(self.glance.images.get(image_id)["status"], "active")
        self.bora("webhook", "create", "aodh", "--format", "aodh")
        mapping = ("<% {alarm_name => $.data.alarm_name, alarm_id => $.data.alarm_id, "
                   "state => $.data.current, "
                   "severity => $.data.severity, reason => $.data.reason} %>")
        self.bora("event-trigger", "create", "aodh-remediation", "remediate_image", "--type", "aodh.alarm.*",
                  "--source", "/v2/webhooks/aodh", "--input-mapping", mapping)
        alarm_id = str(uuid.uuid4())

        self.aodh(alarm_id, f"image corrupted: {image_name}", "ok", "alarm")
        run = self.remediation(set())
        self.assertEqual(run["state"], "SUCCESS", run.get("state_info"))
        image = self.glance.images.get(image_id)
        self.assertEqual(image["status"], "deactivated")
        self.assertIn("quarantined", image["tags"])
        self.assertEqual(image.get("bora_remediation_alarm"), alarm_id)
        self.assertEqual(image.get("bora_remediation_severity"), "critical")
        print(f"alarm: execution {run['id']} {run['state']}, image {image['status']} {image['tags']}",
              flush=True)

        self.aodh(alarm_id, f"image corrupted: {image_name}", "alarm", "ok")
        run = self.remediation({run["id"]})
        self.assertEqual(run["state"], "SUCCESS", run.get("state_info"))
        image = self.glance.images.get(image_id)
        self.assertEqual(image["status"], "active")
        self.assertNotIn("quarantined", image["tags"])
        self.assertNotIn("bora_remediation_alarm", image)
        print(f"ok: execution {run['id']} {run['state']}, image {image['status']} {image['tags']}",
              flush=True)

    def run_workflow(self, workflow, workflow_input):
        run = self.bora("execution", "start", workflow, "--input", json.dumps(workflow_input), "--wait",
                        "--timeout", "120")
        self.assertEqual(run["state"], "SUCCESS", run.get("state_info"))
        return json.loads(run["output"])

    def test_3_tripleo_image_upload(self):
        self.bora("workbook", "create", str(REPO / "examples/tripleo/overcloud_images.yaml"))
        name = f"overcloud-full-{self.tag}"
        upload = {"name": name, "data": "overcloud image, version 1", "checksum": "c1",
                  "visibility": "private"}
        first = self.run_workflow("tripleo.overcloud_images.v1.upload", upload)["image_id"]
        self.made.append(first)
        image = self.glance.images.get(first)
        self.assertEqual((image["status"], image["name"]), ("active", name))
        self.assertIn("tripleo", image["tags"])
        self.assertEqual((image.get("tripleo_checksum"), image.get("tripleo_uploaded")), ("c1", "true"))
        self.assertEqual(b"".join(self.glance.images.data(first)), b"overcloud image, version 1")

        # The same image again: found by name and checksum, nothing created.
        self.assertEqual(self.run_workflow("tripleo.overcloud_images.v1.upload", upload)["image_id"], first)
        self.assertEqual([i["id"] for i in self.glance.images.list(filters={"name": name})], [first])

        # A new version: a new image, the old one retired.
        upload.update(data="overcloud image, version 2", checksum="c2")
        second = self.run_workflow("tripleo.overcloud_images.v1.upload", upload)["image_id"]
        self.made.append(second)
        self.assertNotEqual(second, first)
        self.assertEqual(self.glance.images.get(second)["tripleo_checksum"], "c2")
        old = self.glance.images.get(first)
        self.assertEqual(old["status"], "deactivated")
        self.assertTrue(old["name"].startswith(name + "_") and old["name"].endswith("_retired"), old["name"])
        self.assertNotIn("tripleo", old["tags"])

        self.run_workflow("tripleo.overcloud_images.v1.restore", {"image_id": first})
        old = self.glance.images.get(first)
        self.assertEqual(old["status"], "active")
        self.assertIn("tripleo", old["tags"])
        print(f"tripleo upload: {first} retired and restored, {second} current", flush=True)


def main():
    global BORA, REPO
    BORA, REPO = sys.argv[1], pathlib.Path(sys.argv[2])
    del sys.argv[1:3]
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
