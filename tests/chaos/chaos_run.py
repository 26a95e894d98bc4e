#!/usr/bin/env python3
"""Chaos run (issue 21): a mixed workload on a distributed Bora while a seeded scheduler injects
faults at random moments, then an independent checker that reads what happened through the REST API
and the Kafka topics.

Usage: chaos_run.py BORA_BIN [--minutes 3] [--min-faults 20] [--seed N] [--report FILE]
                    [--topology single|cluster] [--no-net-cuts]
(with the venv's python: the topic checker needs confluent-kafka)

The deployment (all real, started here): a redis-server (AOF on, so a restart keeps what it
acknowledged) and a Kafka broker from scripts/services.sh in a private directory, two `bora
orchestrator`, two `bora worker` and two `bora api` processes on one prefix, 8 partitions. With
--topology cluster: the Redis Cluster of scripts/redis_cluster.sh (3 masters + 3 replicas) and the
three brokers of scripts/kafka_cluster.sh instead. The services listen on the bridge of a NetLab
(netns.py) and each orchestrator runs in a network namespace of its own, so that it can be cut off
(--no-net-cuts: all on loopback, no cuts; cuts need root, iproute2 and tc).

The workload, started through the APIs while faults happen: chains (5 tasks passing a counter),
joins (a fork of two branches into a join), sub-workflows (a parent calling a child three times),
retries (a failing task retried twice: it must end ERROR after exactly 3 attempts), with-items of
10,000 items (the result must be 0..9999 in order), a cron trigger firing every minute, and event
triggers (each CloudEvent sent twice: exactly one execution each).

The faults, drawn by `random.Random(seed)` every 3..8 s: kill -9 of an orchestrator, worker or API
process (restarted 0.5..3 s later), SIGSTOP of one for 1..6 s (then SIGCONT; API processes too), a Kafka broker kill -9
and restart, a redis-server kill -9 and restart (on the cluster: kill -9 of one of the three brokers
and its restart, and kill -9 of a Redis master, its replica promoted, the node revived as a replica;
never a second master before the last shard is whole again), and an orchestrator cut off from Redis
or from Kafka (every packet between its namespace and those ports dropped, both ways) for 2..12 s.
After the run every process is brought back and
the checker waits for every execution to reach a final state, then asserts:
  - every execution the driver started exists and is final, in the state its kind must end in;
  - chains publish 5, joins run the join once with both branches, parents see three children;
  - the retry task ran exactly 3 times (retry_no 2) and nothing else ran twice: every task of the
    chain/join/sub kinds has exactly one action execution;
  - each with-items result is [0, ..., 9999];
  - the cron trigger fired once per minute boundary while it existed (none twice, none skipped);
  - every event started exactly one execution;
  - what the Kafka topics hold agrees (topic_checker.py): every RunAction of the driver's executions
    and their sub-workflows has a result, each result applied once with its output, every event on
    its execution's partition.
The seed is printed first: `chaos_run.py BORA --seed N` replays the same fault schedule (the
moments depend on timing, the choices do not). The report (faults by kind, executions, recovery
times p50/p99/max, lost/duplicated) is printed and, with --report, written as JSON.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from netns import NetLab  # noqa: E402  (tests/chaos/netns.py)
import topic_checker  # noqa: E402  (tests/chaos/topic_checker.py; needs confluent-kafka: the venv)
ROOT = os.path.dirname(os.path.dirname(HERE))
PARTITIONS = 8
ITEMS = 10_000

WORKFLOWS = """\
version: '2.0'

chaos_chain:
  tasks:
    t1:
      action: std.echo output=1
      publish: {n: <% task().result %>}
      on-success: [t2]
    t2:
      action: std.echo output=<% $.n + 1 %>
      publish: {n: <% task().result %>}
      on-success: [t3]
    t3:
      action: std.echo output=<% $.n + 1 %>
      publish: {n: <% task().result %>}
      on-success: [t4]
    t4:
      action: std.echo output=<% $.n + 1 %>
      publish: {n: <% task().result %>}
      on-success: [t5]
    t5:
      action: std.echo output=<% $.n + 1 %>
      publish: {n: <% task().result %>}
  output:
    n: <% $.n %>

chaos_join:
  tasks:
    a:
      action: std.noop
      on-success: [b, c]
    b:
      action: std.echo output=b
      publish: {b: <% task().result %>}
      on-success: [d]
    c:
      action: std.echo output=c
      publish: {c: <% task().result %>}
      on-success: [d]
    d:
      join: all
      action: std.echo output=<% $.b + $.c %>
      publish: {bc: <% task().result %>}
  output:
    bc: <% $.bc %>

chaos_child:
  input: [i]
  tasks:
    echo:
      action: std.echo output=<% $.i * 10 %>
      publish: {v: <% task().result %>}
  output:
    v: <% $.v %>

chaos_parent:
  tasks:
    one:
      workflow: chaos_child i=1
      publish: {v1: <% task().result.v %>}
      on-success: [two]
    two:
      workflow: chaos_child i=2
      publish: {v2: <% task().result.v %>}
      on-success: [three]
    three:
      workflow: chaos_child i=3
      publish: {v3: <% task().result.v %>}
  output:
    sum: <% $.v1 + $.v2 + $.v3 %>

chaos_retry:
  tasks:
    flaky:
      action: std.fail error_data=always
      retry:
        count: 2
        delay: 0

chaos_items:
  input: [n]
  tasks:
    each:
      with-items: i in <% range($.n) %>
      concurrency: 500
      action: std.echo output=<% $.i %>
      publish: {all: <% task().result %>}
  output:
    all: <% $.all %>

chaos_cron:
  tasks:
    tick:
      action: std.noop

chaos_event:
  tasks:
    got:
      action: std.noop

chaos_probe:
  tasks:
    p:
      action: std.noop
"""

# The state each kind must end in.
EXPECT_STATE = {"chain": "SUCCESS", "join": "SUCCESS", "sub": "SUCCESS", "retry": "ERROR",
                "items": "SUCCESS"}
WORKFLOW_OF = {"chain": "chaos_chain", "join": "chaos_join", "sub": "chaos_parent",
               "retry": "chaos_retry", "items": "chaos_items"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def percentile(values: List[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Proc:
    """One bora process of the deployment: start, kill -9, SIGSTOP/SIGCONT, restart."""

    def __init__(self, name: str, args: List[str], workdir: str, port_file: Optional[str] = None):
        self.name, self.args, self.workdir, self.port_file = name, args, workdir, port_file
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = os.path.join(workdir, name + ".log")
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.lock:
            if self.port_file and os.path.exists(self.port_file):
                os.remove(self.port_file)
            with open(self.log_path, "a") as out:
                self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        with self.lock:
            if self.alive():
                self.proc.kill()
                self.proc.wait()

    def signal(self, sig: int) -> None:
        with self.lock:
            if self.alive():
                self.proc.send_signal(sig)

    def port(self) -> Optional[int]:
        try:
            with open(self.port_file) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (OSError, ValueError, TypeError):
            return None

    def stop(self) -> None:
        with self.lock:
            if self.alive():
                self.proc.send_signal(signal.SIGCONT)
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


class Api:
    """Calls whichever API process answers (they may be dead or stopped at any moment)."""

    def __init__(self, procs: List[Proc]):
        self.procs = procs

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
             deadline_s: float = 60.0) -> Tuple[int, Any]:
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        end = time.monotonic() + deadline_s
        last = "no API process answered"
        while time.monotonic() < end:
            for p in self.procs:
                port = p.port()
                if not p.alive() or port is None:
                    continue
                req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                             method=method)
                if data is not None:
                    req.add_header("Content-Type", content_type)
                try:
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        raw = resp.read()
                        return resp.status, json.loads(raw) if raw else None
                except urllib.error.HTTPError as e:
                    raw = e.read()
                    if e.code >= 500:  # an API process whose Kafka or Redis is down right now
                        last = f"{p.name}: {e.code} {raw[:200]!r}"
                        continue
                    try:
                        return e.code, json.loads(raw)
                    except ValueError:
                        return e.code, raw.decode(errors="replace")
                except (OSError, ValueError) as e:
                    last = f"{p.name}: {e}"
            time.sleep(0.2)  # every API process is down or stopped: try again shortly
        raise RuntimeError(f"{method} {path}: {last}")


class Chaos:
    def __init__(self, bora: str, minutes: float, min_faults: int, seed: int, workdir: str,
                 topology: str = "single", net_cuts: bool = True):
        self.bora, self.minutes, self.min_faults, self.seed = bora, minutes, min_faults, seed
        self.topology = topology
        # Network cuts: the services on a NetLab bridge, each orchestrator in a namespace of its own.
        self.lab: Optional[NetLab] = None
        self.net_cuts = net_cuts
        self.namespaces: Dict[str, str] = {}  # process name -> namespace
        # cluster: set while every Redis node runs and each master has a synced replica (a master is
        # killed only then); the thread that revives the last killed master sets it again.
        self.redis_whole = threading.Event()
        self.redis_whole.set()
        self.redis_revive: Optional[threading.Thread] = None
        self.redis_killed: List[str] = []  # ports of killed Redis nodes not revived yet
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.services_dir = os.path.join(workdir, "services")
        self.prefix = f"chaos{seed}."
        self.started: List[Tuple[str, str]] = []  # (kind, execution id)
        self.events_sent: List[str] = []
        self.faults: Dict[str, int] = {}
        self.fault_log: List[str] = []
        self.recovery_s: List[float] = []
        self.stop_traffic = threading.Event()
        self.lock = threading.Lock()
        self.procs: List[Proc] = []
        self.env: Dict[str, str] = {}
        self.self_test = False

    # ---- deployment ------------------------------------------------------------------------------

    def script(self, name: str, *args: str) -> str:
        """scripts/NAME ARGS on this run's private services directory; its stdout."""
        env = dict(os.environ, BORA_SERVICES_DIR=self.services_dir, BORA_REDIS_AOF="1",
                   BORA_REDIS_CLUSTER_DIR=os.path.join(self.services_dir, "redis-cluster"))
        if self.topology == "cluster":
            env["BORA_SERVICES"] = "redis-cluster kafka-cluster"
        if self.lab is not None:
            env.update(self.lab.env())
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", name), *args], env=env,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)}: {r.stderr[-2000:]}")
        return r.stdout

    def services(self, *args: str) -> str:
        return self.script("services.sh", *args)

    def argv(self, role: str, i: int) -> Tuple[List[str], Optional[str]]:
        """The command line of process `role``i` (and its port file): every process starts from here."""
        if self.topology == "cluster":
            kafka, redis = self.env["BORA_KAFKA_CLUSTER"], self.env["BORA_REDIS_CLUSTER"]
        else:
            kafka, redis = self.env["BORA_KAFKA"], self.env["BORA_REDIS"]
        args = [self.bora, role, "--kafka", kafka, "--redis", redis, "--prefix", self.prefix,
                "--partitions", str(PARTITIONS), "--session-timeout-ms", "6000", "--log-level",
                "warn"]
        if role == "worker":
            return args + ["--concurrency", "8"], None
        if role == "api":
            pf = os.path.join(self.workdir, f"api{i}.port")
            return args + ["--port", "0", "--port-file", pf], pf
        if self.lab is not None:  # an orchestrator: in its namespace, so that it can be cut off
            return self.lab.prefix(self.namespaces[f"{role}{i}"]) + args, None
        return args, None

    def service_ports(self, service: str) -> List[int]:
        """The ports processes use to reach `service` (redis or kafka): what a cut drops."""
        if service == "redis":
            url = self.env["BORA_REDIS_CLUSTER" if self.topology == "cluster" else "BORA_REDIS"]
            hosts = url.split("://", 1)[1].split(",")
        else:
            hosts = self.env["BORA_KAFKA_CLUSTER" if self.topology == "cluster" else
                             "BORA_KAFKA"].split(",")
        return [int(h.rsplit(":", 1)[1].strip("/")) for h in hosts]

    def start(self) -> None:
        if self.net_cuts:
            removed = NetLab.cleanup_stale()
            if removed:
                log(f"removed what crashed runs left: {removed}")
            try:
                self.lab = NetLab()
            except (RuntimeError, OSError) as e:
                raise RuntimeError(f"network cuts need root, iproute2 and tc ({e}); "
                                   "--no-net-cuts runs without them") from e
            for i in range(2):
                self.namespaces[f"orchestrator{i}"] = self.lab.add(f"orch{i}")
            log(f"network cuts: services on {self.lab.host}, orchestrators in namespaces")
        out = self.services("start")
        for line in out.splitlines():
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                self.env[k] = v.strip("'\"")
        for role in ("orchestrator", "worker", "api"):
            for i in range(2):
                args, port_file = self.argv(role, i)
                self.procs.append(Proc(f"{role}{i}", args, self.workdir, port_file))
        for p in self.procs:
            p.start()
        self.api = Api([p for p in self.procs if p.name.startswith("api")])
        status, reply = self.api.call("POST", "/v2/workflows", WORKFLOWS, "text/plain")
        if status not in (200, 201):
            raise RuntimeError(f"POST /v2/workflows: {status} {reply}")
        # Ready when a probe execution runs to the end.
        if self.probe(120.0) is None:
            raise RuntimeError("the deployment never ran a probe execution")

    def stop(self) -> None:
        for p in self.procs:
            p.stop()
        try:
            self.services("stop")
        except RuntimeError as e:
            log(f"stopping the services: {e}")
        if self.lab is not None:
            self.lab.close()

    # ---- workload --------------------------------------------------------------------------------

    def start_execution(self, kind: str, workflow: str, input_: Dict[str, Any]) -> None:
        eid = str(uuid.uuid4())
        # The id is ours: a retry after a lost reply finds it (409) instead of starting another.
        status, reply = self.api.call("POST", "/v2/executions",
                                      {"id": eid, "workflow_name": workflow, "input": input_})
        if status not in (201, 409):
            raise RuntimeError(f"starting {workflow}: {status} {reply}")
        with self.lock:
            self.started.append((kind, eid))

    def traffic(self) -> None:
        kinds = ["chain", "join", "sub", "retry"]
        n = 0
        try:
            self.start_execution("items", "chaos_items", {"n": ITEMS})
            while not self.stop_traffic.wait(0.25):
                kind = kinds[n % len(kinds)]
                self.start_execution(kind, WORKFLOW_OF[kind], {})
                if n % 8 == 0:
                    event_id = f"chaos-event-{n}"
                    event = {"specversion": "1.0", "id": event_id, "source": "/chaos",
                             "type": "com.example.chaos"}
                    for _ in range(2):  # the same event twice: one execution
                        status, reply = self.api.call("POST", "/v2/events", event,
                                                      "application/cloudevents+json")
                        if status >= 300:
                            raise RuntimeError(f"POST /v2/events: {status} {reply}")
                    with self.lock:
                        self.events_sent.append(event_id)
                if n == 200:
                    self.start_execution("items", "chaos_items", {"n": ITEMS})
                n += 1
        except Exception as e:  # noqa: BLE001 - reported by the checker as a failure
            log(f"traffic stopped: {e}")
            self.traffic_error = str(e)

    def probe(self, deadline_s: float) -> Optional[float]:
        """Seconds for a fresh execution to reach SUCCESS (None: not within the deadline)."""
        t0 = time.monotonic()
        eid = str(uuid.uuid4())
        try:
            status, _ = self.api.call("POST", "/v2/executions",
                                      {"id": eid, "workflow_name": "chaos_probe"}, deadline_s=deadline_s)
        except RuntimeError:
            return None
        if status not in (201, 409):
            return None
        while time.monotonic() - t0 < deadline_s:
            try:
                status, ex = self.api.call("GET", f"/v2/executions/{eid}", deadline_s=5)
            except RuntimeError:
                continue
            if status == 200 and ex.get("state") == "SUCCESS":
                return time.monotonic() - t0
            time.sleep(0.1)  # polling the execution until it ends, bounded by the deadline
        return None

    # ---- faults ----------------------------------------------------------------------------------

    def fault(self) -> None:
        services = (["restart-kafka", "restart-redis"] if self.topology == "single" else
                    ["restart-broker", "failover-redis-master"])
        cuts = ["cut-orchestrator-redis", "cut-orchestrator-kafka"] if self.lab is not None else []
        kind = self.rng.choice(["kill-orchestrator", "kill-orchestrator", "stop-orchestrator",
                                "kill-worker", "stop-worker", "kill-api", "stop-api", *services,
                                *cuts])
        hold = self.rng.uniform(0.5, 3.0)
        target = None
        name = ""
        if kind.startswith("cut-"):
            target = self.rng.choice([p for p in self.procs if p.name.startswith("orchestrator")])
            name = target.name
        elif kind.endswith("orchestrator") or kind.endswith("worker") or kind.endswith("api"):
            role = kind.split("-", 1)[1]
            target = self.rng.choice([p for p in self.procs if p.name.startswith(role)])
            name = target.name
        elif kind == "restart-broker":
            name = f"broker{self.rng.randint(1, 3)}"
        elif kind == "failover-redis-master":
            name = f"master{self.rng.randint(1, 3)}"
            # Never a second master before the shard the last one was taken from is whole again
            # (its node back as a synced replica): with both nodes of a shard gone, its data is gone.
            self.redis_whole.wait()
        t = time.strftime("%H:%M:%S")
        if kind == "failover-redis-master":
            port = self.script("redis_cluster.sh", "kill-master", name[len("master"):]).strip()
            name += f" (port {port})"
        # How long the fault lasts: a stop twice the hold, a cut four times (below).
        lasts = hold * (2 if kind.startswith("stop-") else 4 if kind.startswith("cut-") else 1)
        self.fault_log.append(f"{t} {kind} {name} {lasts:.1f}s")
        self.faults[kind] = self.faults.get(kind, 0) + 1
        log(f"fault: {kind} {name} for {lasts:.1f} s")
        if kind.startswith("kill-"):
            target.kill9()
            time.sleep(hold)  # the process stays dead this long: part of the fault
            target.start()
        elif kind.startswith("stop-"):
            target.signal(signal.SIGSTOP)
            time.sleep(hold * 2)  # stopped this long: part of the fault
            target.signal(signal.SIGCONT)
        elif kind.startswith("cut-"):
            # Cut off from Redis or from Kafka (both ways, packets dropped silently) for 2..12 s: long
            # enough, at times, for its Kafka session (6 s) or --store-outage-release-ms (10 s) to end.
            ns = self.namespaces[target.name]
            self.lab.cut(ns, self.service_ports(kind.rsplit("-", 1)[1]))
            time.sleep(hold * 4)  # cut off this long: part of the fault
            self.lab.heal(ns)
        elif kind == "restart-kafka":
            self.services("kill", "kafka")
            time.sleep(hold)
            self.services("revive", "kafka")
        elif kind == "restart-redis":
            self.services("kill", "redis")
            time.sleep(hold)
            self.services("revive", "redis")
        elif kind == "restart-broker":
            # One broker down at most (min.insync.replicas=2 of 3): revive waits until 3 are listed.
            node = name[len("broker"):]
            self.script("kafka_cluster.sh", "kill", node)
            time.sleep(hold)  # the broker stays dead this long: part of the fault
            self.script("kafka_cluster.sh", "revive", node)
        elif kind == "failover-redis-master":
            self.redis_whole.clear()
            self.redis_killed.append(port)
            self.redis_revive = threading.Thread(target=self.revive_redis, args=(port, hold),
                                                 daemon=True)
            self.redis_revive.start()
        threading.Thread(target=self.measure_recovery, args=(f"{kind} {name}",),
                         daemon=True).start()

    def revive_redis(self, port: str, hold: float) -> None:
        """After a master's kill: its replica is promoted (wait-ok), `hold` s later the node comes back
        (as a replica of the promoted one) and the shard is whole when it has synced (wait-ok again).
        It is revived only after the failover: a node without persistence back before it would be an
        empty master its replica syncs from."""
        try:
            t0 = time.monotonic()
            self.script("redis_cluster.sh", "wait-ok")
            log(f"redis failover of {port} done in {time.monotonic() - t0:.1f} s")
            time.sleep(hold * 2)  # the killed node stays down this long after the failover
            self.script("redis_cluster.sh", "revive", port)
            self.script("redis_cluster.sh", "wait-ok")
            with self.lock:
                self.redis_killed.remove(port)
            log(f"redis node {port} back as a replica, the shard whole again")
        except RuntimeError as e:
            log(f"redis failover of {port}: {e}")
            self.redis_error = str(e)
        finally:
            self.redis_whole.set()

    def measure_recovery(self, fault: str) -> None:
        took = self.probe(300.0)
        log(f"recovered from {fault}: " + (f"{took:.2f} s" if took is not None else "not in 300 s"))
        with self.lock:
            self.recovery_s.append(took if took is not None else float("inf"))

    # ---- the run ---------------------------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        topology = "" if self.topology == "single" else f" --topology {self.topology}"
        log(f"seed {self.seed} (replay: chaos_run.py BORA --seed {self.seed}{topology})")
        self.traffic_error = self.redis_error = ""
        self.start()
        status, _ = self.api.call("POST", "/v2/cron_triggers",
                                  {"name": "chaos_every_minute", "workflow_name": "chaos_cron",
                                   "pattern": "* * * * *"})
        cron_created = time.time()
        status, reply = self.api.call("POST", "/v2/event_triggers",
                                      {"name": "chaos_events", "workflow_id": "chaos_event",
                                       "type": "com.example.chaos"})
        if status not in (200, 201):
            raise RuntimeError(f"POST /v2/event_triggers: {status} {reply}")
        traffic = threading.Thread(target=self.traffic, daemon=True)
        traffic.start()
        end = time.monotonic() + self.minutes * 60
        while time.monotonic() < end or sum(self.faults.values()) < self.min_faults:
            time.sleep(self.rng.uniform(3.0, 8.0))  # the random gap between faults
            if self.min_faults > 0:
                self.fault()
        self.stop_traffic.set()
        traffic.join(120)
        if self.self_test:
            # What the checker must catch: a child execution and an event execution nobody
            # accounts for (as a duplicate start would leave).
            self.api.call("POST", "/v2/executions",
                          {"workflow_name": "chaos_child", "input": {"i": 9}})
            self.api.call("POST", "/v2/events",
                          {"specversion": "1.0", "id": "unaccounted", "source": "/chaos",
                           "type": "com.example.chaos"}, "application/cloudevents+json")
        status, _ = self.api.call("DELETE", "/v2/cron_triggers/chaos_every_minute")
        cron_deleted = time.time()
        for p in self.procs:  # everything back up
            p.signal(signal.SIGCONT)
            if not p.alive():
                p.start()
        if self.topology == "single":
            self.services("revive", "kafka")
            self.services("revive", "redis")
        else:
            if self.redis_revive is not None:
                self.redis_revive.join(300)
            for port in list(self.redis_killed):  # left down by a revive that failed
                self.script("redis_cluster.sh", "revive", port)
            self.script("redis_cluster.sh", "wait-ok")
        return self.check(cron_created, cron_deleted)

    # ---- the independent checker -----------------------------------------------------------------

    def final(self, eid: str, deadline: float) -> Optional[Dict[str, Any]]:
        while time.monotonic() < deadline:
            status, ex = self.api.call("GET", f"/v2/executions/{eid}")
            if status == 404:
                return None
            if status == 200 and ex["state"] in ("SUCCESS", "ERROR", "CANCELLED"):
                return ex
            time.sleep(0.2)  # waiting for the execution to end, bounded by the deadline
        status, ex = self.api.call("GET", f"/v2/executions/{eid}")
        return ex if status == 200 else None

    def list_executions(self, workflow: str) -> List[Dict[str, Any]]:
        """Every execution of `workflow`, page by page."""
        path = f"/v2/executions?workflow_name={workflow}"
        out = topic_checker.list_all(self.api.call, path, "executions")
        if out is None:
            raise RuntimeError(f"GET {path}: 404")
        return out

    def tasks(self, eid: str) -> List[Dict[str, Any]]:
        status, reply = self.api.call("GET", f"/v2/executions/{eid}/tasks")
        return reply["tasks"] if status == 200 else []

    def check(self, cron_created: float, cron_deleted: float) -> Dict[str, Any]:
        problems: List[str] = []
        if self.traffic_error:
            problems.append(f"the driver could not start work: {self.traffic_error}")
        if self.redis_error:
            problems.append(f"a Redis failover did not complete: {self.redis_error}")
        deadline = time.monotonic() + 300
        by_state: Dict[str, int] = {}
        lost = duplicated = 0
        for kind, eid in self.started:
            ex = self.final(eid, deadline)
            if ex is None:
                lost += 1
                problems.append(f"{kind} {eid}: lost (404)")
                continue
            by_state[ex["state"]] = by_state.get(ex["state"], 0) + 1
            if ex["state"] != EXPECT_STATE[kind]:
                problems.append(f"{kind} {eid}: {ex['state']}, expected {EXPECT_STATE[kind]}: "
                                f"{str(ex.get('state_info'))[:300]}")
                continue
            out = json.loads(ex.get("output") or "{}")
            if kind == "chain" and out.get("n") != 5:
                problems.append(f"chain {eid}: output {out}")
            if kind == "join" and out.get("bc") != "bc":
                problems.append(f"join {eid}: output {out}")
            if kind == "sub" and out.get("sum") != 60:
                problems.append(f"sub {eid}: output {out}")
            if kind == "items" and out.get("all") != list(range(ITEMS)):
                problems.append(f"items {eid}: the results are not 0..{ITEMS - 1} in order")
            if kind in ("chain", "join", "retry"):
                for t in self.tasks(eid):
                    status, reply = self.api.call("GET", f"/v2/tasks/{t['id']}/action_executions")
                    runs = len(reply.get("action_executions", [])) if status == 200 else -1
                    want = 3 if kind == "retry" else 1
                    if runs != want:
                        duplicated += max(0, runs - want)
                        problems.append(f"{kind} {eid} task {t['name']}: {runs} runs, expected "
                                        f"{want}")
        # Sub-workflows: three children per parent, none started twice.
        parents = sum(1 for kind, _ in self.started if kind == "sub")
        children = self.list_executions("chaos_child")
        if len(children) != 3 * parents:
            duplicated += max(0, len(children) - 3 * parents)
            problems.append(f"sub: {len(children)} child executions for {parents} parents")
        # Cron: one execution per minute boundary while the trigger existed.
        cron = self.list_executions("chaos_cron")
        boundaries = [m * 60 for m in range(int(cron_created // 60) + 1, int(cron_deleted // 60) + 1)]
        # A boundary a few seconds before the delete may or may not have fired.
        must = [b for b in boundaries if b < cron_deleted - 5]
        if not (len(must) <= len(cron) <= len(boundaries)):
            problems.append(f"cron: {len(cron)} executions for {len(must)}..{len(boundaries)} "
                            f"minute boundaries")
        # The minute each tick was for: ticks fire up to 2 s early (Mistral's rule, kFireAheadUs)
        # and late after a fault.
        def tick_minute(created_at: str) -> int:
            t = calendar.timegm(time.strptime(created_at[:19], "%Y-%m-%d %H:%M:%S"))
            return (t + 3) // 60
        minutes = [tick_minute(e["created_at"]) for e in cron]
        if len(set(minutes)) != len(minutes):
            problems.append("cron: a minute fired twice: " +
                            str(sorted(e["created_at"] for e in cron)))
        for e in cron:
            if e["state"] != "SUCCESS" and self.final(e["id"], deadline) is None:
                problems.append(f"cron execution {e['id']} did not end")
        # Events: one execution each.
        ev = self.list_executions("chaos_event")
        if len(ev) != len(self.events_sent):
            problems.append(f"events: {len(ev)} executions for {len(self.events_sent)} events")
        # What the Kafka topics say happened, against the REST API (topic_checker.py): every RunAction
        # of the driver's executions (and their sub-workflows) has a result, each result applied once.
        t0 = time.monotonic()
        topics = topic_checker.check_topics(
            self.env["BORA_KAFKA_CLUSTER" if self.topology == "cluster" else "BORA_KAFKA"],
            self.prefix, self.api.call, [eid for _, eid in self.started])
        problems.extend(f"topics: {p}" for p in topics["problems"])
        log(f"topic checker: {len(topics['problems'])} problems in {time.monotonic() - t0:.1f} s")
        return {
            "seed": self.seed,
            "minutes": self.minutes,
            "faults": dict(sorted(self.faults.items())),
            "faults_total": sum(self.faults.values()),
            "executions": len(self.started),
            "executions_by_state": by_state,
            "cron_executions": len(cron),
            "event_executions": len(ev),
            "events_sent": len(self.events_sent),
            "recovery_s": {
                "n": len(self.recovery_s),
                "p50": round(percentile(self.recovery_s, 50), 2),
                "p99": round(percentile(self.recovery_s, 99), 2),
                "max": round(max(self.recovery_s), 2) if self.recovery_s else 0,
            },
            "topics": topics["stats"],
            "lost": lost,
            "duplicated": duplicated,
            "problems": problems,
            "fault_log": self.fault_log,
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bora")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--min-faults", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--report", default="")
    ap.add_argument("--topology", choices=["single", "cluster"], default="single",
                    help="single: one redis-server and one broker; cluster: a Redis Cluster (3 "
                         "masters + 3 replicas) and three brokers, with master failovers")
    ap.add_argument("--no-net-cuts", action="store_true",
                    help="no network namespaces: orchestrators on the host, no cut faults (network "
                         "cuts need root, iproute2 and tc)")
    ap.add_argument("--self-test", action="store_true",
                    help="no faults; adds an unaccounted child execution and event execution and "
                         "passes only if the checker reports both")
    args = ap.parse_args()
    if args.self_test:
        args.minutes, args.min_faults = min(args.minutes, 0.25), 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    with tempfile.TemporaryDirectory(prefix="bora-chaos-") as workdir:
        chaos = Chaos(os.path.abspath(args.bora), args.minutes, args.min_faults, seed, workdir,
                      args.topology, net_cuts=not args.no_net_cuts)
        chaos.self_test = args.self_test
        try:
            report = chaos.run()
        except Exception as e:  # noqa: BLE001
            log(f"FAIL (seed {seed}): {e}")
            for p in chaos.procs:
                try:
                    with open(p.log_path) as f:
                        tail = f.read()[-1500:]
                    print(f"--- {p.name} log (tail)\n{tail}", flush=True)
                except OSError:
                    pass
            chaos.stop()
            return 1
        chaos.stop()
    print(json.dumps({k: v for k, v in report.items() if k != "fault_log"}, indent=2), flush=True)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=2)
    if args.self_test:
        caught = [p for p in report["problems"]
                  if p.startswith("sub: ") or p.startswith("events: ")]
        if len(caught) == 2 and len(report["problems"]) == 2:
            log(f"PASS: the checker reported what was injected: {caught}")
            return 0
        log(f"FAIL: the checker reported {report['problems']}, expected the two injected ones")
        return 1
    if report["problems"] or report["faults_total"] < args.min_faults:
        log(f"FAIL (seed {seed}): {len(report['problems'])} problems")
        return 1
    log(f"PASS (seed {seed}): {report['executions']} executions, {report['faults_total']} faults, "
        "nothing lost or duplicated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
