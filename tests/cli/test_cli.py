#!/usr/bin/env python3
"""The `bora` command line as a user meets it (issue 20): --version, `bora run -`, Ctrl-C and
--timeout in `bora run` (where it stopped; exit 130 / 4), NO_COLOR, the config file and the
precedence flag > environment > file > default (`bora config show`), config mistakes, bash and zsh
completion (the generated scripts run in real bash and zsh), the man page (rendered by man).

Usage: test_cli.py BORA_BIN PROJECT_VERSION
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BORA = ""
VERSION = ""
DEADLINE_S = 60.0

SLOW = """\
version: '2.0'
slow:
  tasks:
    first:
      action: std.noop
      on-success: [wait]
    wait:
      action: std.sleep seconds=60
"""

HELLO = """\
version: '2.0'
hello:
  tasks:
    greet:
      action: std.echo output="hi from stdin"
      publish:
        said: <% task().result %>
  output:
    said: <% $.said %>
"""


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORA_") and k != "NO_COLOR"}
    env.update(extra)
    return env


class TtyRun:
    """`bora run` with its standard output on a pseudo-terminal (so it shows progress and colour)."""

    def __init__(self, args: list, env: dict) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen([BORA, "run", *args], stdin=subprocess.DEVNULL, stdout=slave,
                                     stderr=subprocess.PIPE, env=env)
        os.close(slave)
        self.out = b""

    def read_until(self, pattern: bytes) -> bytes:
        deadline = time.monotonic() + DEADLINE_S
        while not re.search(pattern, self.out):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in {self.out!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"output ended without {pattern!r}: {self.out!r}")
                self.out += chunk
        return self.out

    def finish(self) -> tuple:
        _, err = self.proc.communicate(timeout=DEADLINE_S)
        while True:
            ready, _, _ = select.select([self.master], [], [], 0)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.out += chunk
        os.close(self.master)
        return self.proc.returncode, self.out.decode(errors="replace"), err.decode()


class CliTest(unittest.TestCase):
    tmp: "tempfile.TemporaryDirectory[str]"

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory(prefix="bora-cli-")
        with open(cls.path("slow.yaml"), "w") as f:
            f.write(SLOW)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name: str) -> str:
        return os.path.join(cls.tmp.name, name)

    def bora(self, *args: str, env: dict = None, stdin: str = None) -> subprocess.CompletedProcess:
        return subprocess.run([BORA, *args], input=stdin, capture_output=True, text=True,
                              env=env if env is not None else clean_env(), timeout=DEADLINE_S)

    def test_version(self) -> None:
        r = self.bora("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(),
                         r"^bora " + re.escape(VERSION) + r" \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$")

    def test_run_reads_stdin(self) -> None:
        r = self.bora("run", "-", "--json", stdin=HELLO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"state": "SUCCESS"', r.stdout)
        self.assertIn("hi from stdin", r.stdout)
        bad = self.bora("run", "-", stdin="version: '2.0'\nwf:\n  tasks: [")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("<stdin>", bad.stderr)

    def test_ctrl_c_prints_where_it_stopped(self) -> None:
        run = TtyRun([self.path("slow.yaml")], clean_env())
        run.read_until(rb"RUNNING[^\n]{0,24}wait")  # the progress line of the sleeping task
        run.proc.send_signal(signal.SIGINT)
        code, out, err = run.finish()
        self.assertEqual(code, 130, out + err)
        self.assertIn("interrupted", err)
        self.assertRegex(out, r"Stopped waiting: workflow slow is RUNNING after [0-9.]+ ms")
        self.assertRegex(re.sub(r"\x1b\[[0-9;]*m", "", out), r"SUCCESS\s+first")

    def test_timeout_prints_where_it_stopped(self) -> None:
        r = self.bora("run", "--timeout", "1", self.path("slow.yaml"))
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertIn("(--timeout)", r.stderr)
        self.assertIn("Stopped waiting: workflow slow is RUNNING", r.stdout)

    def test_no_color(self) -> None:
        with open(self.path("hello.yaml"), "w") as f:
            f.write(HELLO)
        colored = TtyRun([self.path("hello.yaml")], clean_env())
        code, out, _ = colored.finish()
        self.assertEqual(code, 0, out)
        self.assertIn("\x1b[", out)
        plain = TtyRun([self.path("hello.yaml")], clean_env(NO_COLOR="1"))
        code, out, _ = plain.finish()
        self.assertEqual(code, 0, out)
        self.assertIn("SUCCESS", out)
        self.assertNotIn("\x1b[", out)

    def test_config_precedence_on_the_binary(self) -> None:
        config = self.path("bora.toml")
        with open(config, "w") as f:
            f.write('# a config file\n[serve]\nport = 7000\ndata-dir = "/from/file"\n'
                    'log-level = "error"\n\n[orchestrator]\npartitions = 16\n')
        env = clean_env(BORA_DATA_DIR="/from/env", BORA_PORT="7100", BORA_KAFKA="k:9092")
        r = self.bora("config", "show", "serve", "--config", config, "--port", "7200", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = {line.split(" = ")[0].lstrip("# "): line
                 for line in r.stdout.splitlines() if " = " in line}
        self.assertRegex(lines["port"], r"^port = 7200\s+# flag$")
        self.assertRegex(lines["data-dir"], r'^data-dir = "/from/env"\s+# env BORA_DATA_DIR$')
        self.assertRegex(lines["log-level"], r'^log-level = "error"\s+# file ' + re.escape(config))
        self.assertRegex(lines["address"], r'^address = "127.0.0.1"\s+# default$')
        # `bora serve` does not let BORA_KAFKA switch it to distributed mode.
        self.assertRegex(lines["kafka"], r'^# kafka = ""\s+# default: not set$')
        # The orchestrator does read it; BORA_CONFIG names the file.
        env = clean_env(BORA_CONFIG=config, BORA_KAFKA="k:9092")
        r = self.bora("config", "show", "orchestrator", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'\nkafka = "k:9092"\s+# env BORA_KAFKA\n')
        self.assertRegex(r.stdout, r"\npartitions = 16\s+# file ")
        # What `config show` prints is itself a config file the command accepts.
        shown = self.path("shown.toml")
        with open(shown, "w") as f:
            f.write(r.stdout)
        again = self.bora("config", "show", "orchestrator", "--config", shown)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertRegex(again.stdout, r'\nkafka = "k:9092"\s+# file ')

    def test_config_mistakes(self) -> None:
        bad = self.path("bad.toml")
        with open(bad, "w") as f:
            f.write("[serve]\nport = 1\nprot = 2\n")
        r = self.bora("serve", "--config", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{bad}:3: 'prot' is not an option of bora serve", r.stderr)
        r = self.bora("serve", "--config", self.path("absent.toml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read the config file", r.stderr)
        r = self.bora("serve", env=clean_env(BORA_IN_MEMORY="perhaps"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("BORA_IN_MEMORY=perhaps", r.stderr)

    def test_help_shows_defaults(self) -> None:
        r = self.bora("serve", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"--port INT=8989")
        self.assertRegex(r.stdout, r"--undeclared-action-wait INT:INT in \[0 - 2592000\]=600")

    def complete(self, shell: str, words: list, cwd: str) -> list:
        """Runs the generated completion function in `shell` for `words` (the last one being typed)."""
        script = self.path("completion." + shell)
        with open(script, "w") as f:
            f.write(self.bora("completion", shell).stdout)
        array = " ".join("'" + w + "'" for w in words)
        body = (f"source {script}; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _bora; "
                'printf "%s\\n" "${COMPREPLY[@]}"')
        if shell == "zsh":  # as zsh's completion system runs it: compinit, 0-based arrays
            body = (f"autoload -U compinit && compinit -u -d {self.path('zcompdump')}; "
                    + body.replace("_bora;", "setopt ksharrays; _bora;"))
        r = subprocess.run([shell, "-c", body], capture_output=True, text=True, cwd=cwd,
                           timeout=DEADLINE_S)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return [w for w in r.stdout.splitlines() if w]

    def test_completion(self) -> None:
        os.makedirs(self.path("flows"), exist_ok=True)
        open(self.path("flows/one.yaml"), "w").close()
        for shell in ("bash", "zsh"):
            with self.subTest(shell=shell):
                self.assertEqual(self.complete(shell, ["bora", "serv"], self.tmp.name),
                                 ["serve", "service"])
                self.assertEqual(self.complete(shell, ["bora", "serve"], self.tmp.name), ["serve"])
                self.assertEqual(self.complete(shell, ["bora", "serve", "--data-d"], self.tmp.name),
                                 ["--data-dir"])
                self.assertIn("list", self.complete(shell, ["bora", "workflow", ""], self.tmp.name))
                self.assertEqual(self.complete(shell, ["bora", "run", "flows/o"], self.tmp.name),
                                 ["flows/one.yaml"])
                self.assertEqual(
                    self.complete(shell, ["bora", "serve", "--config", "flo"], self.tmp.name),
                    ["flows"])
                self.assertEqual(self.complete(shell, ["bora", "nothing-like-it"], self.tmp.name),
                                 [])
        self.assertEqual(self.bora("completion", "fish").returncode, 2)

    def test_man_page(self) -> None:
        page = self.bora("man")
        self.assertEqual(page.returncode, 0, page.stderr)
        path = self.path("bora.1")
        with open(path, "w") as f:
            f.write(page.stdout)
        r = subprocess.run(["man", "--warnings", "-l", "-Tutf8", path], capture_output=True,
                           text=True, env=clean_env(MANWIDTH="100"), timeout=DEADLINE_S)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "groff warnings")
        text = re.sub(r".\x08", "", r.stdout)  # overstrike (bold) to plain
        for want in ("bora serve", "--undeclared-action-wait", "(default: 600)", "BORA_CONFIG",
                     "EXIT STATUS", VERSION):
            self.assertIn(want, text)


def main() -> None:
    global BORA, VERSION
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    BORA, VERSION = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])


if __name__ == "__main__":
    main()
