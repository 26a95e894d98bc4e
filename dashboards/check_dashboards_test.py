#!/usr/bin/env python3
"""check_dashboards.py catches mistakes: it passes on a copy of dashboards/ and fails, naming the dashboard and
panel (or the alert), on copies broken one way each. Run by ctest as dashboards.checker_catches_mistakes."""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from check_dashboards import panels_of  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
CHECKER = HERE / "check_dashboards.py"
SOURCES = HERE.parent


def edit_dashboard(root: pathlib.Path, name: str, change) -> None:
    path = root / "json" / name
    d = json.loads(path.read_text())
    change(d)
    path.write_text(json.dumps(d, indent=2))


def panel(d: dict, title: str) -> dict:
    for p in panels_of(d["panels"]):
        if p.get("title") == title:
            return p
    raise AssertionError(f"no panel '{title}' in {d.get('uid')}: the test needs updating")


def edit_text(root: pathlib.Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text()
    if old not in text:
        raise AssertionError(f"'{old}' not in {name}: the test needs updating")
    path.write_text(text.replace(old, new, 1))


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bora-dashboards-")
        self.root = pathlib.Path(self.tmp.name) / "dashboards"
        shutil.copytree(HERE, self.root, ignore=shutil.ignore_patterns("__pycache__"))

    def tearDown(self):
        self.tmp.cleanup()

    def run_checker(self):
        r = subprocess.run([sys.executable, str(CHECKER), "--dir", str(self.root), "--sources", str(SOURCES)],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def assert_fails_with(self, *messages):
        code, out = self.run_checker()
        self.assertEqual(code, 1, f"the checker passed a broken copy:\n{out}")
        for m in messages:
            self.assertIn(m, out)

    def test_the_copy_passes(self):
        code, out = self.run_checker()
        self.assertEqual(code, 0, out)
        self.assertIn("OK: 5 dashboards", out)

    def test_panel_without_description(self):
        edit_dashboard(self.root, "workers.json",
                       lambda d: panel(d, "Actions / s by result").update(description="  "))
        self.assert_fails_with("workers.json: panel 'Actions / s by result' (id 4): no description")

    def test_nested_panel_without_description(self):
        def nest(d):
            inner = panel(d, "Fenced commits / s")
            d["panels"].remove(inner)
            inner = dict(inner, description="")
            d["panels"].append({"type": "row", "title": "Fencing", "id": 99, "collapsed": True,
                                "gridPos": {"x": 0, "y": 99, "w": 24, "h": 1}, "panels": [inner]})
        edit_dashboard(self.root, "partitions.json", nest)
        self.assert_fails_with("partitions.json: panel 'Fenced commits / s' (id 4): no description")

    def test_stat_panel_with_only_the_base_threshold(self):
        def base_only(d):
            t = panel(d, "Consumer lag")["fieldConfig"]["defaults"]["thresholds"]
            t["steps"] = t["steps"][:1]
        edit_dashboard(self.root, "overview.json", base_only)
        self.assert_fails_with("overview.json: panel 'Consumer lag' (id 4): a stat panel without thresholds")

    def test_stat_panel_without_thresholds(self):
        edit_dashboard(self.root, "api.json",
                       lambda d: panel(d, "Process uptime")["fieldConfig"]["defaults"].pop("thresholds"))
        self.assert_fails_with("api.json: panel 'Process uptime' (id 6): a stat panel without thresholds")

    def test_processes_up_counting_build_info_again(self):
        def old_panel(d):
            panel(d, "Processes up")["targets"][0]["expr"] = 'count by (job) (bora_build_info{instance=~"$instance"})'
        edit_dashboard(self.root, "overview.json", old_panel)
        self.assert_fails_with("overview.json: panel 'Processes up' (id 1): shows processes up without querying `up`",
                               "no panel of any dashboard queries `up`")

    def test_up_panel_without_the_red_mapping(self):
        def no_red(d):
            mapping = panel(d, "Processes up")["fieldConfig"]["defaults"]["mappings"][0]
            mapping["options"]["0"]["color"] = "green"
        edit_dashboard(self.root, "overview.json", no_red)
        self.assert_fails_with("overview.json: panel 'Processes up' (id 1): queries `up` but does not map 0 to red")

    def test_unknown_metric_in_a_panel(self):
        def typo(d):
            panel(d, "Redis errors / s")["targets"][0]["expr"] = "sum(rate(bora_redis_erors_total[5m]))"
        edit_dashboard(self.root, "partitions.json", typo)
        self.assert_fails_with("partitions.json: panel 'Redis errors / s' (id 10): metric bora_redis_erors_total "
                               "is not defined in the sources")

    def test_unknown_histogram_suffix_base(self):
        def typo(d):
            panel(d, "Tasks finished / s by state")["targets"][0]["expr"] = \
                "sum by (state) (rate(bora_tasks_duration_seconds_count[5m]))"
        edit_dashboard(self.root, "executions.json", typo)
        self.assert_fails_with("metric bora_tasks_duration_seconds_count is not defined")

    def test_unknown_metric_in_a_variable(self):
        def typo(d):
            for v in d["templating"]["list"]:
                if v["name"] == "instance":
                    v["definition"] = "label_values(bora_build_inf, instance)"
        edit_dashboard(self.root, "api.json", typo)
        self.assert_fails_with("api.json: variable 'instance': metric bora_build_inf is not defined")

    def test_unknown_metric_in_an_alert(self):
        edit_text(self.root, "alerts.yml", "rate(bora_executions_finished_total{state=\"ERROR\"}[10m])",
                  "rate(bora_execution_finished_total{state=\"ERROR\"}[10m])")
        self.assert_fails_with("alerts.yml: alert BoraExecutionsFailing: metric bora_execution_finished_total "
                               "is not defined in the sources")

    def test_alert_without_for(self):
        edit_text(self.root, "alerts.yml", "        for: 2m\n", "")
        self.assert_fails_with("alerts.yml: alert BoraPartitionWithoutOwner: without a `for:`")

    def test_alert_without_severity_and_summary(self):
        edit_text(self.root, "alerts.yml", "          severity: critical\n        annotations:\n"
                  "          summary: \"Bora process", "        annotations:\n          title: \"Bora process")
        self.assert_fails_with("alerts.yml: alert BoraProcessDown: without a severity label",
                               "alerts.yml: alert BoraProcessDown: without a summary annotation")

    def test_alert_not_in_the_readme(self):
        readme = self.root / "README.md"
        readme.write_text(readme.read_text().replace("BoraCronTicksLate", "CronLate"))
        self.assert_fails_with("alerts.yml: alert BoraCronTicksLate: not described in README.md")

    def test_invalid_json(self):
        (self.root / "json" / "broken.json").write_text('{"uid": "x", ')
        self.assert_fails_with("broken.json: not valid JSON")

    def test_metric_only_in_tests_is_unknown(self):
        # bora_test_only_total appears quoted in a test file only: it does not count as defined.
        src = pathlib.Path(self.tmp.name) / "src"
        shutil.copytree(SOURCES / "common" / "metrics", src / "common" / "metrics")
        (src / "common" / "metrics" / "x_test.cc").write_text('auto n = "bora_test_only_total";\n')
        edit_dashboard(self.root, "workers.json", lambda d: panel(d, "Actions / s by result")["targets"][0]
                       .update(expr="sum(rate(bora_test_only_total[5m]))"))
        r = subprocess.run([sys.executable, str(CHECKER), "--dir", str(self.root), "--sources", str(src)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("metric bora_test_only_total is not defined", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
