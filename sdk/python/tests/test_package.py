#!/usr/bin/env python3
"""The SDK is an installable package: builds a wheel of sdk/python offline (`pip wheel --no-deps
--no-build-isolation`, with the venv's setuptools and wheel), installs it into a fresh
`venv --system-site-packages` (no index), and imports bora_worker there: the module must come from
that venv, work without confluent-kafka, and the wheel must carry py.typed and the metadata of
pyproject.toml."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
import zipfile

SDK = pathlib.Path(__file__).resolve().parents[1]


def run(*args: str, cwd: str | None = None) -> str:
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        list(args), capture_output=True, text=True, timeout=300, env=env, cwd=cwd
    )
    if out.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    return out.stdout


class PackageTest(unittest.TestCase):
    def test_wheel_installs_and_imports(self) -> None:
        try:
            import wheel  # noqa: F401
        except ImportError:
            self.fail(
                f"{sys.executable} has no `wheel` (setuptools < 70.1 needs it to build one): "
                "run scripts/setup.sh (sdk/python/requirements.txt lists it)"
            )
        with tempfile.TemporaryDirectory(prefix="bora-sdk-pkg-") as tmp:
            dist = os.path.join(tmp, "dist")
            # A copy of the sources: the build writes build/ and *.egg-info next to them.
            src = os.path.join(tmp, "src")
            run("cp", "-r", str(SDK), src)
            for junk in ("build", "bora_worker.egg-info", "bora_worker/__pycache__"):
                run("rm", "-rf", os.path.join(src, junk))
            run(
                sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "-w", dist, src,
            )
            wheels = [f for f in os.listdir(dist) if f.endswith(".whl")]
            self.assertEqual(len(wheels), 1, wheels)
            self.assertTrue(wheels[0].startswith("bora_worker-0.3.0-py3-none-any"), wheels[0])
            path = os.path.join(dist, wheels[0])
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                metadata = z.read("bora_worker-0.3.0.dist-info/METADATA").decode()
            for module in ("__init__", "types", "runner", "http", "kafka", "worker"):
                self.assertIn(f"bora_worker/{module}.py", names)
            self.assertIn("bora_worker/py.typed", names)
            self.assertFalse([n for n in names if n.startswith("tests/")], names)
            self.assertIn("Name: bora-worker", metadata)
            self.assertIn("Requires-Python: >=3.9", metadata)
            self.assertIn("Provides-Extra: kafka", metadata)
            self.assertIn('Requires-Dist: confluent-kafka==2.16.1; extra == "kafka"', metadata)

            venv = os.path.join(tmp, "venv")
            run(sys.executable, "-m", "venv", "--system-site-packages", venv)
            python = os.path.join(venv, "bin", "python")
            run(python, "-m", "pip", "install", "--no-deps", "--no-index", path)
            out = run(
                python, "-c",
                "import bora_worker, sys; "
                "print(bora_worker.__file__); print(bora_worker.__version__); "
                "print('confluent_kafka' in sys.modules); "
                "w = bora_worker.Worker.http('http://127.0.0.1:1', pool='p'); "
                "print(type(w.transport).__name__)",
                cwd=tmp,  # not sdk/python: the import must find the installed copy
            ).split("\n")
            self.assertTrue(
                os.path.realpath(out[0]).startswith(os.path.realpath(venv) + os.sep),
                f"bora_worker imported from {out[0]}, not from {venv}",
            )
            self.assertEqual(out[1:4], ["0.3.0", "False", "HttpTransport"])


if __name__ == "__main__":
    unittest.main()
