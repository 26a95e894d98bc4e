#!/usr/bin/python3
"""The real Keystone and Glance of scripts/openstack.sh, checked through their HTTP APIs and Debian's clients.

Usage: test_openstack.py REPO   (BORA_OPENSTACK_DIR names the folder of the running services)
Reads the services' variables from `scripts/openstack.sh env` (it fails, never skips, when they do not run).
Keystone is spoken to in plain HTTP (the request and response shapes Bora's API will have to produce and
read); Glance through python3-glanceclient on a keystoneauth1 session, as an OpenStack action would.
"""
import hashlib
import io
import os
import sys
import unittest
import uuid

from openstack_env import ENV, http, issue, load_env, member, password_body, revoke


def validate(subject, service_token):
    """GET /v3/auth/tokens as keystonemiddleware asks it: the service's token and the subject token."""
    return http("GET", ENV["OS_AUTH_URL"] + "/auth/tokens",
                headers={"X-Auth-Token": service_token, "X-Subject-Token": subject})


def glance_for(project):
    from glanceclient import client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    user, password, name = member(project)
    auth = v3.Password(auth_url=ENV["OS_AUTH_URL"], username=user, password=password, project_name=name,
                       user_domain_name="Default", project_domain_name="Default")
    sess = session.Session(auth=auth)
    endpoint = sess.get_endpoint(service_type="image", interface="public", region_name="RegionOne")
    return client.Client("2", endpoint=endpoint, session=sess), sess


class KeystoneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service_token, _ = issue(ENV["BORA_OS_SERVICE_USER"], ENV["BORA_OS_SERVICE_PASSWORD"],
                                     ENV["BORA_OS_SERVICE_PROJECT"])

    def test_tokens_of_alpha_and_beta_are_scoped_to_their_project(self):
        for project in ("alpha", "beta"):
            user, password, name = member(project)
            token, body = issue(user, password, name)
            self.assertGreater(len(token), 100)  # a fernet token
            self.assertEqual(body["user"]["name"], user)
            self.assertEqual(body["project"]["name"], name)
            self.assertIn("member", [r["name"] for r in body["roles"]])
            self.assertNotIn("admin", [r["name"] for r in body["roles"]])

    def test_alpha_member_cannot_take_a_token_of_beta(self):
        user, password, _ = member("alpha")
        status, _, _ = http("POST", ENV["OS_AUTH_URL"] + "/auth/tokens",
                            body=password_body(user, password, "beta"))
        self.assertEqual(status, 401)

    def test_wrong_password_is_refused(self):
        user, _, name = member("alpha")
        status, _, _ = http("POST", ENV["OS_AUTH_URL"] + "/auth/tokens",
                            body=password_body(user, "not-" + ENV["BORA_OS_ALPHA_PASSWORD"], name))
        self.assertEqual(status, 401)

    def test_alpha_admin_has_the_admin_role(self):
        _, body = issue(ENV["BORA_OS_ALPHA_ADMIN_USER"], ENV["BORA_OS_ALPHA_ADMIN_PASSWORD"], "alpha")
        self.assertIn("admin", [r["name"] for r in body["roles"]])

    def test_service_token_validates_a_user_token(self):
        user, password, name = member("alpha")
        token, issued = issue(user, password, name)
        status, head, body = validate(token, self.service_token)
        self.assertEqual(status, 200, body)
        self.assertEqual(head["X-Subject-Token"], token)
        got = body["token"]
        self.assertEqual(got["user"]["name"], user)
        self.assertEqual(got["user"]["domain"]["name"], "Default")
        self.assertEqual(got["project"]["name"], name)
        self.assertEqual(got["project"]["id"], issued["project"]["id"])
        self.assertEqual(got["expires_at"], issued["expires_at"])
        self.assertIn("member", [r["name"] for r in got["roles"]])
        self.assertIn("catalog", got)  # keystonemiddleware asks without ?nocatalog and passes it on

    def test_unknown_and_revoked_tokens_are_refused(self):
        status, _, _ = validate("gAAAAA" + uuid.uuid4().hex * 4, self.service_token)
        self.assertEqual(status, 404)
        user, password, name = member("beta")
        token, _ = issue(user, password, name)
        self.assertEqual(validate(token, self.service_token)[0], 200)
        self.assertEqual(revoke(token), 204)
        self.assertEqual(validate(token, self.service_token)[0], 404)

    def test_validation_needs_a_valid_service_token(self):
        user, password, name = member("alpha")
        token, _ = issue(user, password, name)
        status, _, _ = validate(token, "gAAAAA" + uuid.uuid4().hex * 4)
        self.assertEqual(status, 401)

    def test_concurrent_reads_and_writes(self):
        # uwsgi's 4 processes on one SQLite file (write-ahead log): validations and user creations at once all
        # succeed (a rollback journal answered "database is locked" with HTTP 500 here).
        from concurrent.futures import ThreadPoolExecutor

        admin, _ = issue(ENV["OS_USERNAME"], ENV["OS_PASSWORD"], ENV["OS_PROJECT_NAME"])
        subject, _ = issue(*member("alpha"))
        created = []

        def create(_):
            name = "load-" + uuid.uuid4().hex[:10]
            status, _, body = http("POST", ENV["OS_AUTH_URL"] + "/users", headers={"X-Auth-Token": admin},
                                   body={"user": {"name": name, "domain_id": "default", "password": name}})
            if status == 201:
                created.append(body["user"]["id"])
            return status

        with ThreadPoolExecutor(8) as pool:
            writes = pool.map(create, range(12))
            reads = pool.map(lambda _: validate(subject, self.service_token)[0], range(24))
            statuses = list(writes) + list(reads)
        for user_id in created:
            http("DELETE", f"{ENV['OS_AUTH_URL']}/users/{user_id}", headers={"X-Auth-Token": admin})
        self.assertEqual(statuses, [201] * 12 + [200] * 24)

    def test_catalog_has_glance_in_region_one_on_three_interfaces(self):
        user, password, name = member("alpha")
        _, body = issue(user, password, name)
        images = [s for s in body["catalog"] if s["type"] == "image"]
        self.assertEqual(len(images), 1, body["catalog"])
        self.assertEqual(images[0]["name"], "glance")
        endpoints = {(e["region_id"], e["interface"]): e["url"] for e in images[0]["endpoints"]}
        for interface in ("public", "internal", "admin"):
            self.assertEqual(endpoints.get(("RegionOne", interface)), ENV["BORA_GLANCE_URL"], endpoints)
        _, sess = glance_for("alpha")
        self.assertEqual(sess.get_endpoint(service_type="image", interface="internal",
                                           region_name="RegionOne"), ENV["BORA_GLANCE_URL"])
        from keystoneauth1 import exceptions

        with self.assertRaises(exceptions.EndpointNotFound):
            sess.get_endpoint(service_type="image", interface="public", region_name="RegionTwo")


class GlanceTest(unittest.TestCase):
    def test_private_image_of_alpha(self):
        from glanceclient import exc

        alpha, alpha_session = glance_for("alpha")
        beta, _ = glance_for("beta")
        data = os.urandom(64 * 1024)
        name = "bora-test-" + uuid.uuid4().hex[:8]
        image = alpha.images.create(name=name, disk_format="raw", container_format="bare",
                                    visibility="private")
        try:
            alpha.images.upload(image.id, io.BytesIO(data), image_size=len(data))
            got = alpha.images.get(image.id)
            self.assertEqual(got.status, "active")
            self.assertEqual(got.owner, alpha_session.get_project_id())
            self.assertEqual(got.size, len(data))
            self.assertEqual(got.checksum, hashlib.md5(data).hexdigest())
            self.assertEqual(b"".join(alpha.images.data(image.id)), data)
            stored = os.path.join(ENV["BORA_OPENSTACK_DIR"], "glance/images", image.id)
            self.assertTrue(os.path.isfile(stored), "not in the file store")
            self.assertIn(image.id, [i.id for i in alpha.images.list()])

            self.assertNotIn(image.id, [i.id for i in beta.images.list()])
            with self.assertRaises(exc.HTTPNotFound):
                beta.images.get(image.id)
            with self.assertRaises(exc.HTTPNotFound):
                beta.images.delete(image.id)
        finally:
            alpha.images.delete(image.id)
        self.assertNotIn(image.id, [i.id for i in alpha.images.list()])
        with self.assertRaises(exc.HTTPNotFound):
            alpha.images.get(image.id)
        self.assertFalse(os.path.exists(stored), "still in the file store")

    def test_glance_refuses_a_bad_token(self):
        status, head, _ = http("GET", ENV["BORA_GLANCE_URL"] + "/v2/images",
                               headers={"X-Auth-Token": "gAAAAA" + uuid.uuid4().hex * 4})
        self.assertEqual(status, 401)
        # keystonemiddleware names the Keystone to ask in its answer
        self.assertEqual(head["WWW-Authenticate"], f"Keystone uri=\"{ENV['OS_AUTH_URL']}\"")
        status, _, _ = http("GET", ENV["BORA_GLANCE_URL"] + "/v2/images")
        self.assertEqual(status, 401)

    def test_glance_caches_validation_past_a_revocation(self):
        # keystonemiddleware (no memcached: a cache in glance-api's process, token_cache_time 300 s) does not
        # ask Keystone again for a token it validated: a token revoked since still passes until the entry ages.
        user, password, name = member("beta")
        token, _ = issue(user, password, name)
        url = ENV["BORA_GLANCE_URL"] + "/v2/images"
        self.assertEqual(http("GET", url, headers={"X-Auth-Token": token})[0], 200)
        self.assertEqual(revoke(token), 204)
        self.assertEqual(http("GET", url, headers={"X-Auth-Token": token})[0], 200)
        other, _ = issue(user, password, name)
        revoke(other)
        self.assertEqual(http("GET", url, headers={"X-Auth-Token": other})[0], 401)  # never cached


if __name__ == "__main__":
    load_env(sys.argv[1])
    unittest.main(argv=[sys.argv[0], "-v"], warnings="ignore")
