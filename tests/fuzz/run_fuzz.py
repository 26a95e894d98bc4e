"""API fuzzing: schemathesis against the OpenAPI document a running `bora serve` serves.

Usage: run_fuzz.py BORA_BINARY [--mode embedded|distributed] [--minutes M] [--max-examples N] [--seed S]
                   [--checks LIST] [--workers W] [--short-polls] [--st PATH] [--keep DIR]

Starts `bora serve` on an ephemeral port (embedded: --in-memory; distributed: on $BORA_KAFKA/$BORA_REDIS),
waits for its port file and /health/ready, and runs `st run .../v2/openapi.json` with the checks
not_a_server_error and the four response conformance checks (status code, content type, headers, body
schema: the document must describe what the server answers), every phase (examples, coverage, fuzzing,
stateful), a fixed seed (printed: pass it back with --seed to replay a run) and at most --max-examples
test cases per operation; --minutes M makes it a time budget instead (fuzzing and stateful testing repeat
until M minutes are spent).

Fails (exit 1) on any schemathesis failure (a 5xx, or a request unanswered within --request-timeout: a hang),
on any 5xx in the server's own access log, when the server died, when /health/live does not answer 200 after
the run, or when its RSS grew by more than --max-rss-growth-mib. Prints the figures the README records:
seed, operations, requests, statuses, RSS before and after.
"""
import argparse
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Served as text/event-stream for as long as the execution runs (by design, not a hang): schemathesis reads
# a response to its end, so the stream is left out; tests/rest covers it.
EXCLUDED_PATHS = ["/v2/executions/{id}/stream"]

# Loaded at start, so that list, get, graph and execution-create operations meet a real workflow, an ad-hoc
# action and a workbook, not only empty lists and 404s.
DEFINITIONS = """\
version: '2.0'
fuzz_echo:
  input:
    - n: 1
  output:
    n: <% $.n %>
  tasks:
    echo:
      action: std.echo output=<% $.n %>
fuzz_hold:
  tasks:
    hold:
      action: std.async_noop
"""

# No 5xx; and every response as the document describes it: status code, content type, headers, body.
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance"]

ACCESS = re.compile(r" access method=(\S+) path=(\S+) status=(\d+) ")


def log(msg):
    print("fuzz: " + msg, flush=True)


def deadline_poll(predicate, timeout, what):
    """predicate() until it is truthy, for at most `timeout` seconds (short polls, no fixed sleep)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))


def http_status(url, timeout=5.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def default_st():
    venv = os.environ.get("BORA_VENV", os.path.expanduser("~/.cache/bora/venv"))
    path = os.path.join(venv, "bin", "st")
    return path if os.path.exists(path) else (shutil.which("st") or path)


class Server:
    def __init__(self, bora, mode, tmp):
        self.port_file = os.path.join(tmp, "port")
        self.log_path = os.path.join(tmp, "serve.log")
        defs = os.path.join(tmp, "definitions.yaml")
        with open(defs, "w") as f:
            f.write(DEFINITIONS)
        args = [bora, "serve", "--port", "0", "--port-file", self.port_file, "--load", defs,
                "--log-level", "info"]
        if mode == "embedded":
            args.append("--in-memory")
        else:
            kafka, redis = os.environ.get("BORA_KAFKA"), os.environ.get("BORA_REDIS")
            if not kafka or not redis:
                raise RuntimeError("distributed mode needs BORA_KAFKA and BORA_REDIS "
                                   "(eval \"$(scripts/services.sh start)\")")
            args += ["--kafka", kafka, "--redis", redis]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = deadline_poll(self._read_port, 60, "the port file")
        self.base = "http://127.0.0.1:%d" % self.port
        deadline_poll(lambda: self._alive() and http_status(self.base + "/health/ready") == 200, 120,
                      "/health/ready")

    def _alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("bora serve exited with %s:\n%s" % (self.proc.returncode, self.tail()))
        return True

    def _read_port(self):
        self._alive()
        try:
            with open(self.port_file) as f:
                text = f.read().strip()
            return int(text) if text else None
        except FileNotFoundError:
            return None

    def tail(self, n=3000):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-n:]

    def access_lines(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return [m.groups() for m in map(ACCESS.search, f) if m]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bora")
    ap.add_argument("--mode", choices=["embedded", "distributed"], default="embedded")
    ap.add_argument("--minutes", type=float, help="time budget (default: bounded by --max-examples)")
    ap.add_argument("--max-examples", type=int, default=25, help="test cases per operation and phase")
    ap.add_argument("--seed", type=int, help="default: a random one, printed")
    ap.add_argument("--workers", default="1")
    ap.add_argument("--request-timeout", type=float, default=75.0,
                    help="seconds; above the longest legitimate answer: a worker poll waits up to 30 s, "
                         "a direct run of an external action up to 60 s for a worker of its pool")
    ap.add_argument("--max-rss-growth-mib", type=float, default=256.0)
    ap.add_argument("--st", default=default_st(), help="the schemathesis command (default: the venv's)")
    ap.add_argument("--checks", default=",".join(CHECKS),
                    help="schemathesis checks (default: no 5xx, and responses as the document says)")
    ap.add_argument("--short-polls", action="store_true",
                    help="cap worker polls' `wait` at 1 s (short_polls.py): the time-boxed CI run")
    ap.add_argument("--keep", help="keep the server log and schemathesis reports in this directory")
    opts = ap.parse_args()

    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(1, 2**31)
    if not os.path.exists(opts.st):
        log("schemathesis not found at %s (scripts/setup.sh installs it into the venv)" % opts.st)
        return 1
    tmp = opts.keep or tempfile.mkdtemp(prefix="bora-fuzz-")
    os.makedirs(tmp, exist_ok=True)
    server = Server(opts.bora, opts.mode, tmp)
    failures = []
    try:
        rss_before = rss_kib(server.proc.pid)
        log("seed %d (replay: --seed %d), mode %s, server pid %d on %s, RSS %d MiB" %
            (seed, seed, opts.mode, server.proc.pid, server.base, rss_before // 1024))
        cmd = [opts.st, "run", server.base + "/v2/openapi.json",
               "--checks", opts.checks,
               "--phases", "examples,coverage,fuzzing,stateful",
               "--seed", str(seed),
               "--max-examples", str(opts.max_examples),
               "--workers", str(opts.workers),
               "--request-timeout", str(opts.request_timeout),
               "--generation-database", "none",
               "--report", "junit,ndjson", "--report-dir", os.path.join(tmp, "report"),
               "--no-color"]
        for path in EXCLUDED_PATHS:
            cmd += ["--exclude-path", path]
        if opts.minutes:
            cmd += ["--max-time", str(int(opts.minutes * 60))]
        log("running: " + " ".join(cmd))
        started = time.monotonic()
        # The run's own budget is --max-time or the example bound; this outer limit only turns a stuck
        # schemathesis into a failure instead of a ctest timeout.
        limit = (opts.minutes * 60 if opts.minutes else 0) + 600
        st_env = dict(os.environ, PYTHONUNBUFFERED="1")
        if opts.short_polls:
            st_env["SCHEMATHESIS_HOOKS"] = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "short_polls.py")
        st_log = os.path.join(tmp, "schemathesis.log")
        with open(st_log, "w") as out:
            try:
                rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=st_env, cwd=tmp,
                                    timeout=limit).returncode
            except subprocess.TimeoutExpired:
                rc = None
        elapsed = time.monotonic() - started
        with open(st_log, errors="replace") as f:
            st_text = f.read()
        summary = st_text[st_text.find("=== SUMMARY") - 40:] if "=== SUMMARY" in st_text else st_text
        print(summary[-6000:] if rc == 0 else st_text[-20000:], flush=True)
        if rc is None:
            failures.append("schemathesis did not finish within %d s (a hang?)" % limit)
        elif rc != 0:
            failures.append("schemathesis exited %d (failures above; replay with --seed %d)" % (rc, seed))

        # The server's own view: every request it answered, by status.
        lines = server.access_lines()
        statuses = collections.Counter(status for _, _, status in lines)
        errors = [(m, p, s) for m, p, s in lines if s.startswith("5")]
        log("requests answered: %d in %.0f s; statuses: %s" %
            (len(lines), elapsed, ", ".join("%s x%d" % kv for kv in sorted(statuses.items()))))
        ops = re.search(r"Selected: (\d+)/(\d+)", st_text)
        cases = re.search(r"(\d+) generated", st_text)
        log("operations: %s of %s; test cases generated: %s" %
            (ops.group(1) if ops else "?", ops.group(2) if ops else "?", cases.group(1) if cases else "?"))
        if errors:
            failures.append("%d 5xx answers, e.g. %s" % (len(errors), errors[:5]))

        # The server survived: alive, live, and its memory did not balloon.
        if server.proc.poll() is not None:
            failures.append("bora serve died (exit %s):\n%s" % (server.proc.returncode, server.tail()))
        else:
            live = http_status(server.base + "/health/live")
            rss_after = rss_kib(server.proc.pid)
            log("after the run: /health/live %s, RSS %d MiB (was %d MiB)" %
                (live, rss_after // 1024, rss_before // 1024))
            if live != 200:
                failures.append("/health/live answered %s after the run" % live)
            if (rss_after - rss_before) / 1024 > opts.max_rss_growth_mib:
                failures.append("RSS grew from %d to %d MiB (more than %.0f MiB)" %
                                (rss_before // 1024, rss_after // 1024, opts.max_rss_growth_mib))
    finally:
        server.stop()
        if not opts.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        log("FAIL: " + f)
    if not failures:
        log("OK: no 5xx, no crash, no hang (seed %d)" % seed)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
