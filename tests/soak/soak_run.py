#!/usr/bin/env python3
"""Soak run (issue 21): a steady mixed workload at half the peak rate on a distributed Bora with
retention on, recording what each part holds, then a verdict: nothing grows without bound, and every
execution started finished.

Usage: soak_run.py BORA_BIN [--minutes 30] [--rate ACTIONS_PER_S] [--interval 15] [--report FILE]
                            [--self-test]

The deployment (all real, started here): a redis-server and a Kafka broker from
scripts/services.sh in a private directory, the broker with short retention (BORA_KAFKA_PROPS:
segments rolled and deleted within the run), two `bora orchestrator` with Mistral's expiration
policy on (`--expiration-*`: completed executions purged a little while after they end), two
`bora worker` and two `bora api` processes.

The load, started through POST /v2/executions at a steady rate: cycles of one with-items of 100
items, one chain of 5 tasks and one parent calling a child workflow three times (108 actions and 6
executions a cycle), plus a cron trigger firing every minute. Without --rate the peak is measured
first (a burst of cycles started at once, actions finished per second) and the soak runs at half.

Every --interval seconds it records: RSS and open file descriptors of every bora process, Redis
`used_memory`, `dbsize` and the entries of each kind of key, each Kafka topic's bytes on disk (the
broker's log directories) and its start and end offsets, executions started, finished and in
flight, and the p50/p99 end-to-end latency (POST to the orchestrator's "execution finished" log
line) of those that finished in the interval. The verdict (README.md: thresholds and why) compares
the last third with the middle third (the first is the warm-up), checks that retention really
deleted (topic start offsets moved, Redis keeps about what the policy keeps) and that Redis drains
to what it held before the load once the load stops.
"""

from __future__ import annotations

import argparse
import calendar
import http.client
import json
import os
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PARTITIONS = 8
ITEMS = 100
SEGMENT_BYTES = 1 << 20  # the smallest log.segment.bytes Kafka 4 accepts

WORKFLOWS = f"""\
version: '2.0'

soak_chain:
  tasks:
    t1:
      action: std.echo output=1
      publish: {{n: <% task().result %>}}
      on-success: [t2]
    t2:
      action: std.echo output=<% $.n + 1 %>
      publish: {{n: <% task().result %>}}
      on-success: [t3]
    t3:
      action: std.echo output=<% $.n + 1 %>
      publish: {{n: <% task().result %>}}
      on-success: [t4]
    t4:
      action: std.echo output=<% $.n + 1 %>
      publish: {{n: <% task().result %>}}
      on-success: [t5]
    t5:
      action: std.echo output=<% $.n + 1 %>
      publish: {{n: <% task().result %>}}
  output:
    n: <% $.n %>

soak_items:
  tasks:
    each:
      with-items: i in <% range({ITEMS}) %>
      action: std.echo output=<% $.i %>

soak_child:
  input: [i]
  tasks:
    echo:
      action: std.echo output=<% $.i * 10 %>
      publish: {{v: <% task().result %>}}
  output:
    v: <% $.v %>

soak_parent:
  tasks:
    one:
      workflow: soak_child i=1
      publish: {{v1: <% task().result.v %>}}
      on-success: [two]
    two:
      workflow: soak_child i=2
      publish: {{v2: <% task().result.v %>}}
      on-success: [three]
    three:
      workflow: soak_child i=3
      publish: {{v3: <% task().result.v %>}}
  output:
    sum: <% $.v1 + $.v2 + $.v3 %>

soak_cron:
  tasks:
    tick:
      action: std.noop
"""

# One cycle of the load: (workflow, actions it runs, executions it makes, sub-workflows included).
CYCLE = [("soak_items", ITEMS, 1), ("soak_chain", 5, 1), ("soak_parent", 3, 4)]
CYCLE_ACTIONS = sum(a for _, a, _ in CYCLE)
CYCLE_EXECUTIONS = sum(e for _, _, e in CYCLE)
TOP_LEVEL = {w for w, _, _ in CYCLE}

# The verdict's thresholds (README.md says why): growth of the last third's mean over the middle
# third's, as a ratio and an absolute amount that must both be exceeded.
RSS_RATIO, RSS_ABS_KB = 1.20, 8 * 1024
FD_ABS = 10
REDIS_MEM_RATIO, REDIS_MEM_ABS = 1.20, 4 << 20
REDIS_KEYS_RATIO, REDIS_KEYS_ABS = 1.20, 200
TOPIC_RATIO, TOPIC_ABS = 1.30, 2 * SEGMENT_BYTES
INFLIGHT_RATIO, INFLIGHT_ABS = 1.50, 100
# Once the load stopped and the policy purged every execution, no key of an execution is left and
# each other Redis structure holds at most this many entries more than before the load (the
# partitions' `:meta` hashes are written when the orchestrators claim them: 4 fields each).
DRAIN_SLACK = 10 * PARTITIONS


def log(msg: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {msg}", flush=True)


def percentile(values: List[float], p: int) -> float:
    """The p-th percentile (1..99), interpolated; 0 without values."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def parse_iso(text: str) -> float:
    """'2026-12-06T20:41:02.123456Z' -> unix seconds."""
    secs = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs + float("0" + text[19:].rstrip("Z"))


class Proc:
    """One process of the deployment whose RSS and descriptors are recorded."""

    def __init__(self, name: str, args: List[str], workdir: str, port_file: str = ""):
        self.name, self.args, self.port_file = name, args, port_file
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        with open(self.log_path, "a") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def port(self) -> Optional[int]:
        try:
            with open(self.port_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

LEAKER = """\
import os, time
held, fds = [], []
while True:  # grows on purpose: 1 MiB and one descriptor a second
    held.append(bytearray(os.urandom(1)) * (1 << 20))
    fds.append(open(os.devnull))
    time.sleep(1)
"""


class Redis:
    """The few Redis commands the recorder sends, over one socket (RESP)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise OSError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise OSError(f"unexpected reply {line[:80]!r}")

    def pipeline(self, commands: List[List[str]]) -> List[Any]:
        out = b""
        for cmd in commands:
            out += b"*%d\r\n" % len(cmd)
            for arg in cmd:
                a = arg.encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return [self._reply() for _ in commands]

    def structures(self) -> Dict[str, int]:
        """Entries per kind of key: keys named alike (execution ids and partition numbers taken
        out) are summed: `{soak1.p<N>}:ids` is the fields of the 8 partitions' id indexes, and a
        pattern with one key per execution (`:tasks:<id>`) counts its keys."""
        keys: List[str] = []
        cursor = "0"
        while True:
            cursor, batch = self.pipeline([["SCAN", cursor, "COUNT", "1000"]])[0]
            keys.extend(batch)
            if cursor == "0":
                break
        groups: Dict[str, List[str]] = {}
        for k in keys:
            pattern = re.sub(UUID, "<id>", k)
            pattern = re.sub(r"p\d+\}", "p<N>}", pattern)
            groups.setdefault(pattern, []).append(k)
        out: Dict[str, int] = {}
        size_of = {"hash": "HLEN", "zset": "ZCARD", "set": "SCARD", "list": "LLEN",
                   "string": "STRLEN", "stream": "XLEN"}
        for pattern, ks in groups.items():
            if "<id>" in pattern:
                out[f"keys {pattern}"] = len(ks)
                continue
            typed = [(k, t) for k, t in zip(ks, self.pipeline([["TYPE", k] for k in ks]))
                     if t != "none"]  # "none": deleted since the SCAN
            if typed:
                sizes = self.pipeline([[size_of.get(t, "EXISTS"), k] for k, t in typed])
                out[f"{typed[0][1]} {pattern}"] = sum(x for x in sizes if isinstance(x, int))
        return out


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: str):
        self.args, self.bora, self.workdir = args, os.path.abspath(args.bora), workdir
        self.services_dir = os.path.join(workdir, "services")
        self.prefix = f"soak{os.getpid()}."
        # Retention, scaled to the run so that segments and executions really are deleted within it
        # and the warm-up (the first third) outlasts it.
        total_s = args.minutes * 60
        self.retention_s = int(min(300, max(20, total_s / 8)))
        self.roll_s = max(5, self.retention_s // 2)
        self.check_s = max(5, self.retention_s // 6)
        self.expire_after_s = self.retention_s
        self.expire_every_s = max(5, self.retention_s // 3)
        self.procs: List[Proc] = []
        self.env: Dict[str, str] = {}
        self.lock = threading.Lock()
        self.started: Dict[str, Tuple[str, float]] = {}  # id -> (workflow, POST time)
        self.finished: Dict[str, Tuple[float, str]] = {}  # id -> (log time, state)
        self.cron_finished: List[float] = []
        self.start_errors: List[str] = []
        self.samples: List[Dict[str, Any]] = []
        self.redis: Optional[Redis] = None
        self.stop_load = threading.Event()
        self.stop_tail = threading.Event()

    # ---- deployment ------------------------------------------------------------------------------

    def services(self, *args: str) -> str:
        props = [f"log.retention.ms={self.retention_s * 1000}",
                 f"log.roll.ms={self.roll_s * 1000}",
                 f"log.segment.bytes={SEGMENT_BYTES}",
                 f"log.retention.check.interval.ms={self.check_s * 1000}",
                 "log.segment.delete.delay.ms=1000",
                 "log.flush.start.offset.checkpoint.interval.ms=5000",
                 "replica.high.watermark.checkpoint.interval.ms=5000",
                 # The compacted internal topics roll too, so the cleaner can compact them.
                 f"offsets.topic.segment.bytes={SEGMENT_BYTES}",
                 f"transaction.state.log.segment.bytes={SEGMENT_BYTES}",
                 "log.cleaner.backoff.ms=5000"]
        env = dict(os.environ, BORA_SERVICES_DIR=self.services_dir,
                   BORA_KAFKA_PROPS=" ".join(props))
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts/services.sh"), *args], env=env,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"services.sh {' '.join(args)}: {r.stderr[-2000:]}")
        return r.stdout

    def start(self) -> None:
        for line in self.services("start").splitlines():
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                self.env[k] = v.strip("'\"")
        common = ["--kafka", self.env["BORA_KAFKA"], "--redis", self.env["BORA_REDIS"], "--prefix",
                  self.prefix, "--partitions", str(PARTITIONS)]
        policy = ["--expiration-evaluation-interval", f"{self.expire_every_s / 60:.4f}",
                  "--expiration-older-than", f"{self.expire_after_s / 60:.4f}"]
        for i in range(2):
            self.procs.append(Proc(f"orchestrator{i}",
                                   [self.bora, "orchestrator", *common, *policy, "--log-level",
                                    "info", "--log-format", "json"], self.workdir))
        for i in range(2):
            self.procs.append(Proc(f"worker{i}", [self.bora, "worker", *common, "--log-level",
                                                  "warn", "--concurrency", "8"], self.workdir))
        for i in range(2):
            pf = os.path.join(self.workdir, f"api{i}.port")
            self.procs.append(Proc(f"api{i}", [self.bora, "api", *common, "--log-level", "warn",
                                               "--port", "0", "--port-file", pf], self.workdir, pf))
        if self.args.self_test:  # what the verdict must catch
            self.procs.append(Proc("leaker", [sys.executable, "-c", LEAKER], self.workdir))
        for p in self.procs:
            p.start()
        deadline = time.monotonic() + 60
        while any(p.port() is None for p in self.procs if p.port_file):
            if time.monotonic() > deadline:
                raise RuntimeError("an API process wrote no port file within 60 s")
            time.sleep(0.2)  # waiting for the API processes to listen, bounded by the deadline
        status, reply = self.call(0, "POST", "/v2/workflows", WORKFLOWS, "text/plain")
        if status not in (200, 201):
            raise RuntimeError(f"POST /v2/workflows: {status} {reply}")
        threading.Thread(target=self.tail_logs, daemon=True).start()

    def stop(self) -> None:
        self.stop_tail.set()
        for p in self.procs:
            p.stop()
        try:
            self.services("stop")
        except RuntimeError as e:
            log(f"stopping the services: {e}")

    def print_log_tails(self) -> None:
        for p in self.procs:
            if os.path.exists(p.log_path):
                with open(p.log_path, errors="replace") as f:
                    print(f"--- the end of {p.name}'s log\n{f.read()[-1500:]}", flush=True)

    def apis(self) -> List[Proc]:
        return [p for p in self.procs if p.port_file]

    def call(self, n: int, method: str, path: str, body: Any = None,
             content_type: str = "application/json",
             conn: Optional[list] = None) -> Tuple[int, Any]:
        """One request to API process n (a cached keep-alive connection in conn[0] if given)."""
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        api = self.apis()[n % len(self.apis())]
        for attempt in range(3):
            c = conn[0] if conn and conn[0] else http.client.HTTPConnection("127.0.0.1", api.port(),
                                                                            timeout=30)
            try:
                c.request(method, path, body=data, headers={"Content-Type": content_type})
                resp = c.getresponse()
                raw = resp.read()
                if conn is not None:
                    conn[0] = c
                else:
                    c.close()
                try:
                    return resp.status, json.loads(raw) if raw else None
                except ValueError:
                    return resp.status, raw.decode(errors="replace")
            except (OSError, http.client.HTTPException):
                c.close()
                if conn is not None:
                    conn[0] = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # ---- what finished: the orchestrators' lifecycle log lines -----------------------------------

    def tail_logs(self) -> None:
        files = {p.name: open(p.log_path) for p in self.procs if p.name.startswith("orchestrator")}
        partial = {name: "" for name in files}
        while True:
            stopping = self.stop_tail.is_set()
            for name, f in files.items():
                chunk = f.read()
                if not chunk:
                    continue
                lines = (partial[name] + chunk).split("\n")
                partial[name] = lines.pop()
                for line in lines:
                    if '"execution f' not in line or "parent_id" in line:
                        continue  # only top-level executions' "execution finished|failed"
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    t = parse_iso(rec["time"])
                    with self.lock:
                        if rec.get("workflow") == "soak_cron":
                            self.cron_finished.append(t)
                        elif rec["id"] not in self.finished:
                            self.finished[rec["id"]] = (t, rec.get("state", ""))
            if stopping:
                return
            self.stop_tail.wait(0.5)

    # ---- load ------------------------------------------------------------------------------------

    def start_one(self, n: int, workflow: str, conn: list) -> None:
        eid = str(uuid.uuid4())
        t = time.time()
        try:
            status, reply = self.call(n, "POST", "/v2/executions",
                                      {"id": eid, "workflow_name": workflow}, conn=conn)
        except (OSError, http.client.HTTPException) as e:
            status, reply = 0, str(e)
        if status not in (201, 409):
            with self.lock:
                self.start_errors.append(f"{workflow}: {status} {str(reply)[:200]}")
            return
        with self.lock:
            self.started[eid] = (workflow, t)

    def poster(self, n: int, work: "queue.Queue[Optional[str]]") -> None:
        conn: list = [None]
        while True:
            workflow = work.get()
            if workflow is None:
                return
            self.start_one(n, workflow, conn)

    def run_load(self, cycles_per_s: float, seconds: float, threads: int = 6) -> float:
        """Starts cycles at a steady rate for `seconds` (rate 0: `seconds` cycles at once)."""
        work: "queue.Queue[Optional[str]]" = queue.Queue()
        posters = [threading.Thread(target=self.poster, args=(i, work), daemon=True)
                   for i in range(threads)]
        for t in posters:
            t.start()
        t0 = time.monotonic()
        if cycles_per_s <= 0:  # the burst of the peak measurement: `seconds` is a cycle count
            for _ in range(int(seconds)):
                for w, _, _ in CYCLE:
                    work.put(w)
        else:
            n = 0
            while not self.stop_load.is_set():
                due = t0 + n / cycles_per_s
                if due >= t0 + seconds:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    self.stop_load.wait(wait)  # the pace of the load
                for w, _, _ in CYCLE:
                    work.put(w)
                n += 1
        for _ in posters:
            work.put(None)
        for t in posters:
            t.join()
        return time.monotonic() - t0

    def wait_finished(self, ids: List[str], deadline_s: float) -> List[str]:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with self.lock:
                missing = [i for i in ids if i not in self.finished]
            if not missing:
                return []
            time.sleep(0.5)  # waiting for the log lines, bounded by the deadline
        return missing

    def measure_peak(self, cycles: int) -> float:
        """Actions/s of a burst of `cycles` cycles started at once, first start to last end."""
        with self.lock:
            before = set(self.started)
        t0 = time.time()
        self.run_load(0, cycles, threads=8)
        with self.lock:
            ids = [i for i in self.started if i not in before]
        missing = self.wait_finished(ids, 300)
        if missing:
            raise RuntimeError(f"{len(missing)} executions of the peak burst did not finish")
        with self.lock:
            last = max(self.finished[i][0] for i in ids)
        return len(ids) / len(CYCLE) * CYCLE_ACTIONS / max(0.001, last - t0)

    # ---- recording -------------------------------------------------------------------------------

    def redis_info(self) -> Dict[str, int]:
        if self.redis is None:
            self.redis = Redis(int(self.env["BORA_REDIS"].rsplit(":", 1)[1]))
        info, dbsize = self.redis.pipeline([["INFO", "memory"], ["DBSIZE"]])
        out = {"redis_dbsize": dbsize}
        for line in info.splitlines():
            if line.startswith("used_memory:"):
                out["redis_used_memory"] = int(line.split(":")[1])
        for name, n in self.redis.structures().items():
            out[f"redis_struct:{name}"] = n
        return out

    def topics(self) -> Dict[str, Dict[str, int]]:
        """Per topic: bytes on disk, and the sums of its partitions' start and end offsets."""
        data = os.path.join(self.services_dir, "kafka", "data")
        out: Dict[str, Dict[str, int]] = {}

        def topic_of(name: str) -> Optional[str]:
            base, _, part = name.rpartition("-")
            return base if base and part.isdigit() else None

        for d in os.listdir(data):
            topic = topic_of(d)
            path = os.path.join(data, d)
            if topic is None or not os.path.isdir(path):
                continue
            size, bases = 0, []
            for f in os.listdir(path):
                try:
                    size += os.stat(os.path.join(path, f)).st_blocks * 512  # index files are sparse
                except OSError:
                    pass  # a segment deleted while we looked
                if f.endswith(".log") and f[:-4].isdigit():
                    bases.append(int(f[:-4]))
            t = out.setdefault(topic, {"bytes": 0, "start": 0, "end": 0})
            t["bytes"] += size
            # The partition's first offset: its oldest segment's (the broker's checkpoint names a
            # partition only when its start is inside that segment, which deleting never leaves).
            t["start"] += min(bases) if bases else 0
        try:  # end offsets: the high watermarks the broker checkpoints every 5 s
            with open(os.path.join(data, "replication-offset-checkpoint")) as f:
                for line in f.read().splitlines()[2:]:
                    parts = line.split()
                    if len(parts) == 3 and parts[0] in out:
                        out[parts[0]]["end"] += int(parts[2])
        except OSError:
            pass
        return out

    def sample(self, t_start: float, window: Tuple[float, float]) -> Dict[str, Any]:
        s: Dict[str, Any] = {"t": round(time.time() - t_start, 1)}
        for p in self.procs:
            if p.alive():
                s[f"rss_kb:{p.name}"] = proc_rss_kb(p.proc.pid)
                s[f"fds:{p.name}"] = proc_fds(p.proc.pid)
        for name in ("redis", "kafka"):
            try:
                with open(os.path.join(self.services_dir, f"{name}.pid")) as f:
                    pid = int(f.read())
                s[f"info_rss_kb:{name}"] = proc_rss_kb(pid)  # recorded, not judged (README)
            except (OSError, ValueError):
                pass
        s.update(self.redis_info())
        for topic, v in self.topics().items():
            s[f"topic_bytes:{topic}"] = v["bytes"]
            s[f"info_topic_start:{topic}"] = v["start"]
            s[f"info_topic_end:{topic}"] = v["end"]
        lo, hi = window
        with self.lock:
            started = len(self.started)
            finished = sum(1 for i in self.started if i in self.finished)
            lat = [self.finished[i][0] - t for i, (_, t) in self.started.items()
                   if i in self.finished and lo <= self.finished[i][0] < hi]
            in_window = sum(1 for _, t in self.started.values() if lo <= t < hi)
        s.update({"started": started, "finished": finished, "inflight": started - finished,
                  "info_started_in_window": in_window, "info_finished_in_window": len(lat),
                  "info_latency_p50_s": round(percentile(lat, 50), 3),
                  "info_latency_p99_s": round(percentile(lat, 99), 3)})
        return s

    def record(self, t_start: float, end: float) -> None:
        last = time.time()
        while not self.stop_load.is_set():
            self.stop_load.wait(self.args.interval)  # the recording period
            now = time.time()
            s = self.sample(t_start, (last, now))
            last = now
            self.samples.append(s)
            log(f"t={s['t']:.0f}s started {s['started']} inflight {s['inflight']} "
                f"p50/p99 {s['info_latency_p50_s']}/{s['info_latency_p99_s']} s, redis "
                f"{s['redis_used_memory'] >> 20} MiB {s['redis_dbsize']} keys, rss "
                + " ".join(f"{k.split(':')[1]}={v >> 10}M" for k, v in s.items()
                           if k.startswith("rss_kb:")))
            if time.monotonic() >= end:
                return

    # ---- the run ---------------------------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        log(f"retention: topics {self.retention_s} s (segments rolled every {self.roll_s} s, "
            f"checked every {self.check_s} s), executions purged {self.expire_after_s} s after "
            f"they end (evaluated every {self.expire_every_s} s)")
        self.start()
        baseline = self.redis_info()
        peak = 0.0
        if self.args.rate > 0:
            rate = self.args.rate
        else:
            self.measure_peak(max(1, self.args.peak_cycles // 10))  # warms the caches and the JVM
            peak = self.measure_peak(self.args.peak_cycles)
            rate = peak / 2
            log(f"peak {peak:.0f} actions/s; the soak runs at half: {rate:.0f} actions/s")
        status, reply = self.call(0, "POST", "/v2/cron_triggers",
                                  {"name": "soak_every_minute", "workflow_name": "soak_cron",
                                   "pattern": "* * * * *"})
        if status not in (200, 201):
            raise RuntimeError(f"POST /v2/cron_triggers: {status} {reply}")
        cron_created = time.time()
        seconds = self.args.minutes * 60
        t_start = time.time()
        recorder = threading.Thread(target=self.record,
                                    args=(t_start, time.monotonic() + seconds), daemon=True)
        recorder.start()
        with self.lock:
            before = len(self.started)
        posted_s = self.run_load(rate / CYCLE_ACTIONS, seconds)
        with self.lock:
            soak_started = len(self.started) - before
        recorder.join(seconds + 120)
        self.call(0, "DELETE", "/v2/cron_triggers/soak_every_minute")
        cron_deleted = time.time()
        with self.lock:
            ids = list(self.started)
        missing = self.wait_finished(ids, 300)
        achieved = soak_started / len(CYCLE) * CYCLE_ACTIONS / max(1.0, posted_s)
        drained = self.drain()
        report = self.verdict(peak, rate, achieved, missing, cron_created, cron_deleted)
        report["redis_before"], report["redis_drained"] = baseline, drained
        for key, n in sorted(drained.items()):
            if not key.startswith("redis_struct:"):
                continue
            if key.startswith("redis_struct:keys "):
                report["problems"].append(f"{key}: {n} keys of executions left once the policy "
                                          "had purged every execution")
            elif n > baseline.get(key, 0) + DRAIN_SLACK:
                report["problems"].append(
                    f"{key} holds {n} entries once every execution was purged, "
                    f"{baseline.get(key, 0)} before the load")
        return report

    def drain(self) -> Dict[str, int]:
        """Redis once the expiration policy had time to purge every execution (the load stopped):
        no key of an execution left and the key count steady, or what is left at the deadline."""
        end = time.monotonic() + self.expire_after_s + 3 * self.expire_every_s + 60
        before = -1
        while True:
            now = self.redis_info()
            per_execution = sum(n for k, n in now.items() if k.startswith("redis_struct:keys "))
            if (per_execution == 0 and now["redis_dbsize"] == before) or time.monotonic() > end:
                log(f"drained: {now['redis_dbsize']} keys, "
                    f"{now['redis_used_memory'] >> 10} KiB used")
                return now
            before = now["redis_dbsize"]
            time.sleep(2)  # waiting for the policy to purge the last executions, bounded above

    # ---- the verdict -----------------------------------------------------------------------------

    def verdict(self, peak: float, rate: float, achieved: float, missing: List[str],
                cron_created: float, cron_deleted: float) -> Dict[str, Any]:
        problems: List[str] = []
        total = self.args.minutes * 60
        mid = [s for s in self.samples if total / 3 <= s["t"] < 2 * total / 3]
        last = [s for s in self.samples if s["t"] >= 2 * total / 3]
        growth: Dict[str, Any] = {}
        if len(mid) < 2 or len(last) < 2:
            problems.append(f"too few samples to judge: {len(mid)} in the middle third, "
                            f"{len(last)} in the last (a shorter --interval?)")
        keys = sorted({k for s in self.samples for k in s if not k.startswith("info_")} -
                      {"t", "started", "finished"})
        for key in keys if not problems else []:
            kind = key.split(":")[0]
            # Redis deletes an emptied hash or set, and a key may go between SCAN and TYPE: a
            # structure missing from a sample held nothing. A process missing from one died.
            zero = kind == "redis_struct"
            a = [s.get(key, 0) for s in mid if zero or key in s]
            b = [s.get(key, 0) for s in last if zero or key in s]
            if not a or not b:
                problems.append(f"{key}: not recorded in both thirds (a process died?)")
                continue
            if kind == "fds":
                ma, mb = max(a), max(b)
                bad = mb > ma + FD_ABS
                rule = f"max {ma} -> {mb}, allowed +{FD_ABS}"
            else:
                ratio, slack = {"rss_kb": (RSS_RATIO, RSS_ABS_KB),
                                "redis_used_memory": (REDIS_MEM_RATIO, REDIS_MEM_ABS),
                                "redis_dbsize": (REDIS_KEYS_RATIO, REDIS_KEYS_ABS),
                                "redis_struct": (REDIS_KEYS_RATIO, REDIS_KEYS_ABS),
                                "topic_bytes": (TOPIC_RATIO, TOPIC_ABS),
                                "inflight": (INFLIGHT_RATIO, INFLIGHT_ABS)}[kind]
                ma, mb = statistics.mean(a), statistics.mean(b)
                bad = mb > ma * ratio and mb > ma + slack
                rule = (f"mean {ma:.0f} -> {mb:.0f} ({(mb / ma - 1) * 100 if ma else 0:+.1f}%), "
                        f"allowed x{ratio} or +{slack}")
            growth[key] = rule
            if bad:
                problems.append(f"{key} grows: {rule}")
        # Retention really deleted: every topic written past a few segments lost its oldest ones.
        end = self.samples[-1] if self.samples else {}
        for key in end:
            if key.startswith("info_topic_end:"):
                topic = key.split(":", 1)[1]
                if topic.startswith("__"):
                    continue  # compacted, not deleted
                if end[key] > 20000 and end.get(f"info_topic_start:{topic}", 0) == 0:
                    problems.append(f"topic {topic}: {end[key]} messages written and none deleted "
                                    "(retention did not run)")
        # Redis keeps about what the expiration policy keeps: one key per execution (its tasks),
        # sub-workflows included, for executions that ended less than the policy's age plus its
        # period ago, and a few hundred of the deployment's own.
        keep_s = self.expire_after_s + self.expire_every_s + 30
        bound = int(2 * rate / CYCLE_ACTIONS * CYCLE_EXECUTIONS * keep_s + 500)
        if last and max(s["redis_dbsize"] for s in last) > bound:
            problems.append(f"redis_dbsize: {max(s['redis_dbsize'] for s in last)} keys in the "
                            f"last third, more than the policy keeps ({bound})")
        if missing:
            problems.append(f"{len(missing)} of {len(self.started)} started executions never "
                            f"finished, e.g. {missing[:3]}")
        if self.start_errors:
            problems.append(f"{len(self.start_errors)} starts refused, e.g. "
                            f"{self.start_errors[:2]}")
        bad_state = [i for i, (_, st) in self.finished.items() if i in self.started
                     and st != "SUCCESS"]
        if bad_state:
            problems.append(f"{len(bad_state)} executions did not end in SUCCESS, e.g. "
                            f"{bad_state[:3]}")
        boundaries = int(cron_deleted // 60) - int(cron_created // 60)
        if not boundaries - 1 <= len(self.cron_finished) <= boundaries:
            problems.append(f"cron: {len(self.cron_finished)} executions for {boundaries} minute "
                            "boundaries")
        lat = [self.finished[i][0] - t for i, (_, t) in self.started.items() if i in self.finished]
        pick = lambda s: {k: v for k, v in s.items() if not k.startswith("info_topic")}  # noqa
        return {
            "minutes": self.args.minutes,
            "peak_actions_per_s": round(peak),
            "target_actions_per_s": round(rate),
            "achieved_actions_per_s": round(achieved),
            "achieved_executions_per_s": round(achieved / CYCLE_ACTIONS * len(CYCLE), 1),
            "executions_started": len(self.started),
            "executions_finished": len(self.started) - len(missing),
            "cron_executions": len(self.cron_finished),
            "latency_s": {"p50": round(percentile(lat, 50), 3),
                          "p99": round(percentile(lat, 99), 3),
                          "max": round(max(lat), 3) if lat else 0},
            "retention": {"topic_s": self.retention_s, "roll_s": self.roll_s,
                          "executions_s": self.expire_after_s, "period_s": self.expire_every_s},
            "start": pick(self.samples[0]) if self.samples else {},
            "middle": pick(self.samples[len(self.samples) // 2]) if self.samples else {},
            "end": self.samples[-1] if self.samples else {},
            "growth": growth,
            "problems": problems,
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bora")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=0.0,
                    help="actions/s of the load (default: half the peak, measured first)")
    ap.add_argument("--peak-cycles", type=int, default=100,
                    help="cycles started at once to measure the peak")
    ap.add_argument("--interval", type=float, default=15.0, help="seconds between samples")
    ap.add_argument("--report", default="", help="write the report and every sample as JSON")
    ap.add_argument("--self-test", action="store_true",
                    help="adds a process whose RSS and descriptors grow on purpose; passes only if "
                         "the verdict names exactly those two")
    args = ap.parse_args()
    if args.self_test:  # short and light: what it proves is that the verdict names the leak
        args.minutes, args.interval = min(args.minutes, 2.0), min(args.interval, 5.0)
        args.rate = args.rate or 1000.0
    with tempfile.TemporaryDirectory(prefix="bora-soak-") as workdir:
        soak = Soak(args, workdir)
        try:
            report = soak.run()
        except Exception as e:  # noqa: BLE001
            log(f"FAIL: {e}")
            soak.print_log_tails()
            soak.stop()
            return 1
        soak.stop()
    brief = {k: v for k, v in report.items() if k not in ("start", "middle", "end", "redis_before")}
    print(json.dumps(brief, indent=2), flush=True)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(dict(report, samples=soak.samples), f, indent=2)
    problems = report["problems"]
    if args.self_test:
        want = ["rss_kb:leaker grows", "fds:leaker grows"]
        caught = [p for p in problems if any(p.startswith(w) for w in want)]
        if len(caught) == 2 and len(problems) == 2:
            log(f"PASS: the verdict named what was injected: {caught}")
            return 0
        log(f"FAIL: the verdict reported {problems}, expected exactly the leaker's RSS and fds")
        return 1
    if problems:
        for p in problems:
            log(f"FAIL: {p}")
        return 1
    log(f"PASS: {report['executions_started']} executions at {report['achieved_actions_per_s']} "
        f"actions/s (target {report['target_actions_per_s']}), all finished; nothing grew")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
