#!/usr/bin/python3
"""The pack's pieces that need no service: results as JSON, client errors as task errors (with the real
exception classes of Debian's clients), input specs as declared and as the worker reads them.

Usage: test_pack_unit.py (Debian's python3; sdk/openstack and sdk/python on PYTHONPATH, or found here)."""

import datetime
import pathlib
import sys
import unittest

HERE = pathlib.Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2] / "python")]

from bora_worker import ActionError, Worker  # noqa: E402

from bora_openstack import __main__ as cli  # noqa: E402
from bora_openstack import pack, results  # noqa: E402


class ResultsTest(unittest.TestCase):
    def test_client_objects_become_json(self):
        from novaclient.v2 import servers

        server = servers.Server(None, {"id": "s1", "name": "vm", "addresses": {"net": [1]}}, loaded=True)
        self.assertEqual(results.to_json(server), {"id": "s1", "name": "vm", "addresses": {"net": [1]}})
        self.assertEqual(results.to_json((x for x in [server])), [results.to_json(server)])
        when = datetime.datetime(2026, 12, 7, 1, 2, 3)
        self.assertEqual(results.to_json({"at": when, "ids": ("a", "b")}),
                         {"at": "2026-12-07T01:02:03", "ids": ["a", "b"]})
        self.assertEqual(results.to_json(b"hello"), "hello")
        self.assertEqual(results.to_json(b"\x00\xff"), {"base64": "AP8="})
        self.assertEqual(results.to_json(iter([b"he", b"llo"])), "hello")  # image data in chunks
        self.assertEqual(results.to_json(float("nan")), None)
        self.assertEqual(results.to_json(object.__new__(Opaque)), "opaque")

    def test_glance_proxies(self):
        import requests
        from glanceclient.common import utils

        response = requests.Response()
        response.status_code = 204
        response.headers["x-openstack-request-id"] = "req-1"
        self.assertEqual(results.to_json(utils.RequestIdProxy(({"id": "i1"}, response))), {"id": "i1"})
        deleted = utils.RequestIdProxy(((response, None), response))  # images.delete's
        self.assertIsNone(results.to_json(deleted))

        def pages():
            yield {"id": "i1"}, response
            yield {"id": "i2"}, response

        self.assertEqual(results.to_json(utils.GeneratorProxy(pages())), [{"id": "i1"}, {"id": "i2"}])


class Opaque:
    def __str__(self):
        return "opaque"


class ErrorsTest(unittest.TestCase):
    def check(self, e, code, message):
        data = results.error_data("svc.action", e)
        self.assertEqual(data["code"], code, data)
        self.assertEqual(data["type"], type(e).__name__)
        self.assertEqual(data["message"], message)

    def test_each_clients_not_found(self):
        import glanceclient.exc
        import heatclient.exc
        import keystoneauth1.exceptions
        import neutronclient.common.exceptions
        import novaclient.exceptions
        import swiftclient.exceptions

        self.check(glanceclient.exc.HTTPNotFound("404 Not Found: No image found with ID x"), 404,
                   "svc.action: 404 Not Found: No image found with ID x")
        self.check(novaclient.exceptions.NotFound(404, "Server x could not be found."), 404,
                   "svc.action: 404 Not Found: Server x could not be found.")
        self.check(neutronclient.common.exceptions.NotFound(message="Network x could not be found."),
                   404, "svc.action: 404 Not Found: Network x could not be found.")
        self.check(heatclient.exc.HTTPNotFound(
            '{"code": 404, "error": {"message": "The Stack (x) could not be found."}}'), 404,
            "svc.action: 404 Not Found: The Stack (x) could not be found.")
        self.check(keystoneauth1.exceptions.http.Forbidden(message="No.", http_status=403), 403,
                   "svc.action: 403 Forbidden: No.")
        self.check(swiftclient.exceptions.ClientException("Object GET failed", http_status=404,
                                                          http_reason="Not Found"), 404,
                   "svc.action: 404 Not Found: Object GET failed: 404 Not Found")
        import cinderclient.exceptions
        import ironicclient.common.apiclient.exceptions
        import mistralclient.api.base

        self.check(cinderclient.exceptions.NotFound(404, "Volume x could not be found."), 404,
                   "svc.action: 404 Not Found: Volume x could not be found.")
        self.check(mistralclient.api.base.APIException(404, "Workflow not found [name=x]"), 404,
                   "svc.action: 404 Not Found: Workflow not found [name=x]")
        self.check(ironicclient.common.apiclient.exceptions.NotFound(
            message="Node x could not be found.", http_status=404), 404,
            "svc.action: 404 Not Found: Node x could not be found.")
        self.check(keystoneauth1.exceptions.EndpointNotFound("no compute endpoint"), None,
                   "svc.action: EndpointNotFound: no compute endpoint")


class SpecsTest(unittest.TestCase):
    def test_split_and_declare(self):
        spec = 'image_id, remove_props=null, opts={"a": [1, 2]}, action_region="", *args, **kwargs'
        defaults, any_keyword = pack.split_spec(spec)
        self.assertEqual(defaults, {"remove_props": None, "opts": {"a": [1, 2]}, "action_region": ""})
        self.assertTrue(any_keyword)
        self.assertIsNone(pack.declared_input(spec))
        self.assertEqual(pack.declared_input("queue_name, *messages"), "queue_name")
        self.assertEqual(pack.declared_input("a, b=1"), "a, b=1")

    def test_catalog_is_whole(self):
        catalog = pack.load_catalog()
        names = [a["name"] for a in catalog]
        self.assertEqual(len(names), len(set(names)))
        self.assertIn("glance.images_list", names)
        for entry in catalog:
            pack.split_spec(entry["input"])  # every default is JSON

    def test_the_worker_declares_the_catalog(self):
        worker = Worker.http("http://127.0.0.1:9", pool="openstack")  # never polled here
        catalog = pack.load_catalog()
        cli.register(worker, pack.Pack(catalog, lambda: None), [a["name"] for a in catalog])
        declared = {d["name"]: d for d in worker.declarations()}
        self.assertEqual(len(declared), len(catalog))
        self.assertIsNone(declared["glance.images_create"]["input"])  # **kwargs: any input
        self.assertEqual(declared["glance.images_get"]["input"], 'image_id, action_region=""')
        self.assertEqual(declared["zaqar.delete_messages"]["input"], "queue_name, messages")
        self.assertEqual(declared["nova.servers_list"]["description"], "Get a list of servers.")

    def test_unknown_action_and_bad_upload_data(self):
        p = pack.Pack(pack.load_catalog(), lambda: None)
        with self.assertRaises(ActionError) as caught:
            p.run("glance.nothing", {})
        self.assertEqual(caught.exception.data["type"], "UnknownAction")
        with self.assertRaises(ActionError) as caught:
            p.run("glance.images_upload", {"image_id": "x", "image_data": 5})
        self.assertIn("image_data must be a string", caught.exception.data["message"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
