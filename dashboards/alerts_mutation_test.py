#!/usr/bin/env python3
"""`promtool test rules` fails where it must (ctest: dashboards.promtool_test_rules_catches_mistakes).

  alerts_mutation_test.py PROMTOOL

- The real alerts_test.yml passes.
- Altered expectations: a copy of alerts_test.yml where one case that expects no alert (`exp_alerts: []`,
  each in turn) expects one instead must fail.
- Altered rules: copies of alerts.yml with one alert changed (its `for:` set to 0s; a threshold lowered; a filter
  or a fallback removed) must fail alerts_test.yml: each negative case really stands where a wrong rule fires.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
PROMTOOL = "promtool"

# (alert, text in its rule, replacement of every occurrence): each makes the rule wrong in a way alerts_test.yml
# must notice.
RULE_MUTATIONS = [
    ("BoraProcessDown", 'up{job=~"bora.*"} == 0', "up == 0"),
    ("BoraExecutionsFailing", ") > 0.1", ") > 0.01"),
    ("BoraExecutionsFailing", "[10m])) >= 3", "[10m])) >= 1"),
    ("BoraConsumerLagGrowing", "bora_kafka_consumer_lag_messages > 1000", "bora_kafka_consumer_lag_messages > 100"),
    ("BoraConsumerLagGrowing", "[10m]) > 0", "[10m]) >= 0"),
    ("BoraPartitionWithoutOwner", " or vector(0)", ""),
    ("BoraPartitionWithoutOwner", ")) > 0", ")) > -2"),
    ("BoraCronTicksLate", ") > 5", ") > 4"),
    ("BoraApiErrors", ') > 0.05', ') > 0.01'),
    ("BoraApiErrors", '[5m])) >= 3', '[5m])) >= 1'),
    ("BoraApiErrors", 'route!~"/metrics|/health/.*"', 'route!~"/metrics"'),
]


def alert_block(text: str, alert: str):
    """(start, end) of the rule `- alert: NAME` in a rules file."""
    m = re.search(rf"^(\s*)- alert: {alert}\n", text, re.MULTILINE)
    if not m:
        raise AssertionError(f"alert {alert} not in alerts.yml: the test needs updating")
    nxt = re.compile(rf"^{m.group(1)}- ", re.MULTILINE).search(text, m.end())
    return m.start(), nxt.start() if nxt else len(text)


class PromtoolTestRulesFailsWhereItMust(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bora-alerts-")
        self.dir = pathlib.Path(self.tmp.name)
        self.rules = (HERE / "alerts.yml").read_text()
        self.tests = (HERE / "alerts_test.yml").read_text()

    def tearDown(self):
        self.tmp.cleanup()

    def promtool(self, rules: str, tests: str):
        (self.dir / "alerts.yml").write_text(rules)
        (self.dir / "alerts_test.yml").write_text(tests)
        r = subprocess.run([PROMTOOL, "test", "rules", "alerts_test.yml"], cwd=self.dir, capture_output=True,
                           text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def test_the_real_files_pass(self):
        code, out = self.promtool(self.rules, self.tests)
        self.assertEqual(code, 0, out)

    def test_an_alert_expected_where_it_cannot_fire(self):
        empties = [m.start() for m in re.finditer(r"exp_alerts: \[\]", self.tests)]
        self.assertGreaterEqual(len(empties), 6, "a negative case per alert")
        for at in empties:
            alertname = re.findall(r"alertname: (\w+)", self.tests[:at])[-1]
            eval_time = re.findall(r"eval_time: (\w+)", self.tests[:at])[-1]
            with self.subTest(alert=alertname, eval_time=eval_time):
                altered = (self.tests[:at] + "exp_alerts: [{exp_labels: {severity: critical}}]" +
                           self.tests[at + len("exp_alerts: []"):])
                code, out = self.promtool(self.rules, altered)
                self.assertNotEqual(code, 0, out)
                self.assertIn(f"alertname: {alertname}", out)
                self.assertIn("FAILED", out)

    def test_an_alert_without_its_for(self):
        alerts = re.findall(r"- alert: (\w+)", self.rules)
        self.assertEqual(len(alerts), 6)
        for alert in alerts:
            with self.subTest(alert=alert):
                start, end = alert_block(self.rules, alert)
                block, n = re.subn(r"for: \w+", "for: 0s", self.rules[start:end])
                self.assertEqual(n, 1, f"{alert} has one for:")
                code, out = self.promtool(self.rules[:start] + block + self.rules[end:], self.tests)
                self.assertNotEqual(code, 0, f"alerts_test.yml does not notice {alert} without its for:\n{out}")
                self.assertIn(f"alertname: {alert}", out)

    def test_altered_thresholds_and_filters(self):
        for alert, old, new in RULE_MUTATIONS:
            with self.subTest(alert=alert, change=f"{old!r} -> {new!r}"):
                start, end = alert_block(self.rules, alert)
                block = self.rules[start:end]
                self.assertGreaterEqual(block.count(old), 1, f"{old!r} not in {alert}: the test needs updating")
                code, out = self.promtool(self.rules[:start] + block.replace(old, new) + self.rules[end:],
                                          self.tests)
                self.assertNotEqual(code, 0, f"alerts_test.yml does not notice {alert} with {old!r} -> {new!r}")
                self.assertIn(f"alertname: {alert}", out)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        PROMTOOL = sys.argv.pop(1)
    if shutil.which(PROMTOOL) is None:
        sys.exit(f"{PROMTOOL} not found")
    unittest.main(verbosity=2)
