#!/usr/bin/env python3
"""ctest chaos.netns_cut: tests/chaos/netns.py against the real services and a real Bora (needs root).

Usage: netns_test.py BORA_BIN

1. A NetLab; a redis-server and a Kafka broker from scripts/services.sh on its bridge address
   (BORA_SERVICES_HOST). From inside a namespace a PING and a Kafka metadata request succeed; after
   cut(ns, [redis, kafka]) both fail (short timeouts) while the host still gets answers; after heal(ns) both
   succeed again.
2. `bora orchestrator` in a namespace (the only orchestrator), `bora worker` and `bora api` on the host:
   an execution started through the API ends SUCCESS. A second orchestrator starts on the host; the first
   is cut from Redis and Kafka; executions started during the cut still end SUCCESS (the host's orchestrator
   took the cut one's partitions over once its Kafka session expired); after heal, more executions still
   end SUCCESS. Cut from Redis only, it keeps its Kafka session, gives its partitions up once its claims
   have failed for --store-outage-release-ms (the host's orchestrator runs their executions during the
   cut) and takes some again after heal.
3. close() leaves no namespace or link of the lab (`ip netns list`, `ip link`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from netns import NetLab, PREFIX  # noqa: E402

VENV_PYTHON = os.path.join(os.environ.get("BORA_VENV", os.path.expanduser("~/.cache/bora/venv")),
                           "bin", "python")
WORKFLOW = """\
version: '2.0'
netns_hello:
  tasks:
    t1:
      action: std.echo output=1
      on-success: [t2]
    t2:
      action: std.echo output=2
"""
SESSION_MS = 6000
METRICS_PORT = 9464  # inside the orchestrator's own namespace, where nothing else listens


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    log(f"ok: {what}")


def redis_ping(prefix: List[str], host: str, port: int) -> bool:
    r = subprocess.run(prefix + ["timeout", "3", "redis-cli", "-h", host, "-p", str(port), "ping"],
                       capture_output=True, text=True)
    return r.stdout.strip() == "PONG"


KAFKA_PROBE = """\
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=4)
sys.exit(0 if md.brokers else 1)
"""


def kafka_metadata(prefix: List[str], bootstrap: str) -> bool:
    """A real metadata request (librdkafka's), 4 s at most."""
    r = subprocess.run(prefix + [VENV_PYTHON, "-c", KAFKA_PROBE, bootstrap], capture_output=True,
                       text=True, timeout=60)
    return r.returncode == 0


class Deployment:
    def __init__(self, bora: str, workdir: str, lab: NetLab):
        self.bora, self.workdir, self.lab = bora, workdir, lab
        self.env: Dict[str, str] = {}
        self.procs: Dict[str, subprocess.Popen] = {}
        self.services_env = dict(os.environ, BORA_SERVICES_DIR=os.path.join(workdir, "services"),
                                 **lab.env())

    def services(self, *args: str) -> str:
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts/services.sh"), *args],
                           env=self.services_env, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"services.sh {' '.join(args)}: {r.stderr[-2000:]}")
        return r.stdout

    def start_services(self) -> None:
        for line in self.services("start").splitlines():
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                self.env[k] = v
        log(f"services: {self.env}")

    def ports(self) -> List[int]:
        return [int(self.env["BORA_REDIS"].rsplit(":", 1)[1]),
                int(self.env["BORA_KAFKA"].rsplit(":", 1)[1])]

    def common(self) -> List[str]:
        return ["--kafka", self.env["BORA_KAFKA"], "--redis", self.env["BORA_REDIS"], "--prefix",
                f"netns{os.getpid()}.", "--partitions", "8", "--session-timeout-ms", str(SESSION_MS)]

    def start(self, name: str, role: str, prefix: Optional[List[str]] = None,
              extra: Optional[List[str]] = None) -> None:
        out = open(os.path.join(self.workdir, name + ".log"), "a")
        self.procs[name] = subprocess.Popen((prefix or []) + [self.bora, role, *self.common(),
                                                               *(extra or [])],
                                            stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            self.services("stop")
        except RuntimeError as e:
            log(f"stopping the services: {e}")

    def tails(self) -> None:
        for name in self.procs:
            try:
                with open(os.path.join(self.workdir, name + ".log")) as f:
                    print(f"--- {name} log (tail)\n{f.read()[-2000:]}", flush=True)
            except OSError:
                pass


class Api:
    def __init__(self, port_file: str):
        self.port_file = port_file

    def call(self, method: str, path: str, body: object = None, content_type: str = "application/json"):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        with open(self.port_file) as f:
            port = int(f.read().strip())
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def wait_ready(self, deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                status, reply = self.call("POST", "/v2/workflows", WORKFLOW, "text/plain")
                if status in (200, 201):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)  # the API process is still starting: ask again shortly
        raise RuntimeError("the API never accepted the workflow")

    def start_executions(self, n: int) -> List[str]:
        ids = []
        for _ in range(n):
            eid = str(uuid.uuid4())
            status, reply = self.call("POST", "/v2/executions", {"id": eid, "workflow_name": "netns_hello"})
            if status not in (201, 409):
                raise RuntimeError(f"POST /v2/executions: {status} {reply}")
            ids.append(eid)
        return ids

    def state(self, eid: str) -> Optional[str]:
        try:
            status, ex = self.call("GET", f"/v2/executions/{eid}")
        except (OSError, ValueError):
            return None
        return ex.get("state") if status == 200 else None

    def all_success(self, ids: List[str], deadline_s: float) -> bool:
        end = time.monotonic() + deadline_s
        left = list(ids)
        while left and time.monotonic() < end:
            state = self.state(left[0])
            if state == "SUCCESS":
                left.pop(0)
                continue
            if state in ("ERROR", "CANCELLED"):
                log(f"execution {left[0]} ended {state}")
                return False
            time.sleep(0.1)  # polling until it ends, bounded by the deadline
        if left:
            log(f"{len(left)} of {len(ids)} executions not SUCCESS after {deadline_s} s")
        return not left


def owned(metrics_url: str) -> int:
    """bora_partitions_owned of a process (-1 if its metrics do not answer)."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith("bora_partitions_owned"):
                    return int(float(line.split()[-1]))
    except (OSError, ValueError):
        pass
    return -1


def wait_owned(metrics_url: str, want, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        n = owned(metrics_url)
        if n >= 0 and want(n):
            return True
        time.sleep(0.2)  # the group rebalances in its own time, bounded by the deadline
    log(f"bora_partitions_owned is {owned(metrics_url)}")
    return False


def lab_leftovers() -> List[str]:
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    names += subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout.split()
    return [n for n in names if n.startswith(PREFIX + f"{os.getpid():x}")]


def run(bora: str, workdir: str) -> None:
    removed = NetLab.cleanup_stale()
    if removed:
        log(f"removed leftovers of crashed runs: {removed}")
    lab = NetLab()
    dep = Deployment(bora, workdir, lab)
    try:
        log(f"bridge {lab.bridge} on {lab.host}")
        dep.start_services()
        redis_port, kafka_port = dep.ports()
        host, kafka = lab.host, dep.env["BORA_KAFKA"]
        ns = lab.add("probe")
        inside = lab.prefix(ns)

        # 1. The cut, with redis-cli and a Kafka metadata request.
        check(redis_ping(inside, host, redis_port), "redis PING from the namespace")
        check(kafka_metadata(inside, kafka), "Kafka metadata from the namespace")
        lab.cut(ns, [redis_port, kafka_port])
        check(not redis_ping(inside, host, redis_port), "no redis PING from the namespace after cut")
        check(not kafka_metadata(inside, kafka), "no Kafka metadata from the namespace after cut")
        check(redis_ping([], host, redis_port), "redis PING from the host during the cut")
        check(kafka_metadata([], kafka), "Kafka metadata from the host during the cut")
        lab.heal(ns)
        check(redis_ping(inside, host, redis_port), "redis PING from the namespace after heal")
        check(kafka_metadata(inside, kafka), "Kafka metadata from the namespace after heal")

        # 2. An orchestrator in a namespace, cut off; the host's orchestrator takes its partitions over.
        orch_ns = lab.add("orch1")
        # Its metrics on the namespace's own address: a fresh namespace has no port in use, and a cut drops
        # only the services' ports, so the host reads them throughout.
        metrics = f"http://{lab.addr(orch_ns)}:{METRICS_PORT}/metrics"
        dep.start("orchestrator1", "orchestrator", lab.prefix(orch_ns),
                  ["--metrics-port", str(METRICS_PORT), "--metrics-address", lab.addr(orch_ns)])
        dep.start("worker", "worker")
        port_file = os.path.join(workdir, "api.port")
        dep.start("api", "api", extra=["--port", "0", "--port-file", port_file])
        api = Api(port_file)
        api.wait_ready(120)
        check(api.all_success(api.start_executions(4), 120),
              "4 executions SUCCESS with the only orchestrator in a namespace")
        check(owned(metrics) == 8, "the orchestrator in the namespace owns the 8 partitions")
        dep.start("orchestrator2", "orchestrator")
        check(wait_owned(metrics, lambda n: 0 < n < 8, 60),
              "after a second orchestrator started on the host, the first owns some of them")
        check(api.all_success(api.start_executions(8), 120),
              "8 executions SUCCESS with a second orchestrator on the host")
        t0 = time.monotonic()
        lab.cut(orch_ns, [redis_port, kafka_port])
        ids = api.start_executions(16)
        check(api.all_success(ids, 120), "16 executions started during the cut SUCCESS")
        log(f"the cut orchestrator's executions finished {time.monotonic() - t0:.1f} s after the cut "
            f"(Kafka session timeout {SESSION_MS / 1000:.0f} s)")
        check(dep.procs["orchestrator1"].poll() is None, "the cut orchestrator still runs")
        check(wait_owned(metrics, lambda n: n == 0, 30), "the cut orchestrator owns no partition")
        lab.heal(orch_ns)
        check(wait_owned(metrics, lambda n: n > 0, 60), "after heal it owns partitions again")
        check(api.all_success(api.start_executions(8), 120), "8 executions SUCCESS after heal")
        # Cut from Redis only, the orchestrator keeps its Kafka session; once its claims have failed for
        # --store-outage-release-ms (10 s by default) it leaves the group, the host's orchestrator takes
        # its partitions, and their executions finish during the cut. After heal it joins again.
        lab.cut(orch_ns, [redis_port])
        t0 = time.monotonic()
        ids = api.start_executions(8)
        check(api.all_success(ids, 120), "8 executions started during a Redis-only cut SUCCESS during it")
        log(f"cut from Redis only: the 8 executions SUCCESS {time.monotonic() - t0:.1f} s after the cut")
        check(wait_owned(metrics, lambda n: n == 0, 60),
              "cut from Redis only, the orchestrator gave its partitions up")
        lab.heal(orch_ns)
        check(wait_owned(metrics, lambda n: n > 0, 60), "after heal it owns partitions again")
        check(api.all_success(api.start_executions(8), 120), "8 executions SUCCESS after that heal")
    except BaseException:
        dep.tails()
        raise
    finally:
        dep.stop()
        lab.close()
    # 3. Nothing left behind.
    check(not lab_leftovers(), f"close() left no namespace or link of {lab.tag}")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        log("FAIL: network namespaces need root")
        return 1
    with tempfile.TemporaryDirectory(prefix="bora-netns-") as workdir:
        try:
            run(os.path.abspath(sys.argv[1]), workdir)
        except Exception as e:  # noqa: BLE001
            log(f"FAIL: {e}")
            return 1
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
