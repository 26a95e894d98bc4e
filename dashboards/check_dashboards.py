#!/usr/bin/env python3
"""Checks Bora's Grafana dashboards and Prometheus alert rules (python3 standard library only).

  check_dashboards.py [--dir DASHBOARDS_DIR] [--sources REPO_ROOT]

DASHBOARDS_DIR (default: this file's folder) holds json/*.json, alerts.yml and README.md; REPO_ROOT (default:
its parent) holds the C++ sources. Checks:
  - every panel of every dashboard (rows excepted, nested panels included) has a non-empty description;
  - every stat, gauge and bargauge panel has thresholds with more than the base step;
  - the processes-up panel: some panel queries Prometheus' `up`; every panel that does maps the value 0 to a
    red colour; a panel whose title says "up" queries `up` (counting bora_build_info makes a dead process
    vanish instead of turning red);
  - every metric name (bora_...) in a dashboard expression, a variable query or an alert rule expression is
    defined in the C++ sources under common/ ingest/ orchestrator/ workers/ (as a quoted string, tests
    excluded), after stripping a histogram's _bucket/_sum/_count suffix;
  - alerts.yml: every alert has a `for:`, a severity label, summary and description annotations, and is
    described in README.md.
Exits 1 with one line per problem, each naming the file and the panel or alert; 0 when all is well.
"""
import argparse
import json
import pathlib
import re
import sys

METRIC = re.compile(r"\bbora_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SOURCE_DIRS = ("common", "ingest", "orchestrator", "workers")
THRESHOLD_PANELS = ("stat", "gauge", "bargauge")
UP_TITLE = re.compile(r"\bup\b", re.IGNORECASE)
UP_QUERY = re.compile(r"(?<![\w:])up\s*(\{|$|\)|\s)")


def defined_metrics(sources: pathlib.Path) -> set:
    names = set()
    for d in SOURCE_DIRS:
        for path in (sources / d).rglob("*"):
            if path.suffix not in (".cc", ".h") or path.stem.endswith("_test"):
                continue
            names.update(re.findall(r'"(bora_[a-z0-9_]+)"', path.read_text(errors="replace")))
    return names


def unknown_metrics(expr: str, known: set) -> list:
    out = []
    for name in sorted(set(METRIC.findall(expr))):
        if name in known:
            continue
        base = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
        if base is None or base not in known:
            out.append(name)
    return out


def panels_of(panels):
    for p in panels or []:
        yield p
        yield from panels_of(p.get("panels"))


def maps_zero_to_red(panel: dict) -> bool:
    for m in panel.get("fieldConfig", {}).get("defaults", {}).get("mappings", []) or []:
        if m.get("type") == "value":
            zero = (m.get("options") or {}).get("0") or {}
            if "red" in str(zero.get("color", "")).lower():
                return True
        if m.get("type") == "range":
            o = m.get("options") or {}
            lo, hi = o.get("from"), o.get("to")
            in_range = (lo is None or lo <= 0) and (hi is None or hi >= 0)
            if in_range and "red" in str((o.get("result") or {}).get("color", "")).lower():
                return True
    return False


def check_dashboard(path: pathlib.Path, known: set, problems: list) -> int:
    """Appends the problems of one dashboard; returns how many of its panels query `up`."""
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        problems.append(f"{path.name}: not valid JSON: {e}")
        return 0
    up_panels = 0
    for var in d.get("templating", {}).get("list", []):
        query = var.get("definition") or var.get("query") or ""
        if isinstance(query, dict):
            query = query.get("query", "")
        for name in unknown_metrics(str(query), known):
            problems.append(f"{path.name}: variable '{var.get('name')}': metric {name} is not defined "
                            "in the sources")
    for p in panels_of(d.get("panels")):
        if p.get("type") == "row":
            continue
        where = f"{path.name}: panel '{p.get('title', '')}' (id {p.get('id')})"
        if not str(p.get("description", "")).strip():
            problems.append(f"{where}: no description")
        if p.get("type") in THRESHOLD_PANELS:
            steps = (p.get("fieldConfig", {}).get("defaults", {}).get("thresholds") or {}).get("steps")
            if not isinstance(steps, list) or len(steps) < 2:
                problems.append(f"{where}: a {p.get('type')} panel without thresholds beyond the base step")
        exprs = [str(t.get("expr", "")) for t in p.get("targets", []) or []]
        queries_up = any(UP_QUERY.search(e) for e in exprs)
        if queries_up:
            up_panels += 1
            if not maps_zero_to_red(p):
                problems.append(f"{where}: queries `up` but does not map 0 to red")
        elif UP_TITLE.search(str(p.get("title", ""))):
            problems.append(f"{where}: shows processes up without querying `up` (a dead process would "
                            "vanish instead of turning red)")
        for e in exprs:
            for name in unknown_metrics(e, known):
                problems.append(f"{where}: metric {name} is not defined in the sources")
    return up_panels


def rule_blocks(text: str):
    """(kind, name, lines) of each rule in a rules file: kind is 'alert' or 'record'."""
    blocks = []
    for line in text.splitlines():
        m = re.match(r"\s*-\s+(alert|record):\s*(\S+)", line)
        if m:
            blocks.append((m.group(1), m.group(2), [line]))
        elif blocks:
            blocks[-1][2].append(line)
    return blocks


def rule_expr(lines: list) -> str:
    """The expr of one rule: inline, quoted, or a block scalar (| or >) on the lines below it."""
    for i, line in enumerate(lines):
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if not m:
            continue
        value = m.group(2).strip()
        if value[:1] not in ("|", ">"):
            return value.strip("'\"")
        indent = len(m.group(1))
        body = []
        for more in lines[i + 1:]:
            if more.strip() and len(more) - len(more.lstrip()) <= indent:
                break
            body.append(more.strip())
        return " ".join(body)
    return ""


def check_alerts(path: pathlib.Path, readme: str, known: set, problems: list) -> None:
    try:
        text = path.read_text()
    except OSError as e:
        problems.append(f"{path.name}: cannot read: {e}")
        return
    blocks = rule_blocks(text)
    if not any(kind == "alert" for kind, _, _ in blocks):
        problems.append(f"{path.name}: no alert rules")
    for kind, name, lines in blocks:
        where = f"{path.name}: {kind} {name}"
        body = "\n".join(lines)
        expr = rule_expr(lines)
        if not expr:
            problems.append(f"{where}: no expr")
        for metric in unknown_metrics(expr, known):
            problems.append(f"{where}: metric {metric} is not defined in the sources")
        if kind != "alert":
            continue
        for key, what in ((r"^\s*for:\s*\S", "a `for:`"), (r"^\s*severity:\s*\S", "a severity label"),
                          (r"^\s*summary:\s*\S", "a summary annotation"),
                          (r"^\s*description:\s*\S", "a description annotation")):
            if not re.search(key, body, re.MULTILINE):
                problems.append(f"{where}: without {what}")
        if not re.search(rf"\b{re.escape(name)}\b", readme):
            problems.append(f"{where}: not described in README.md")


def main() -> int:
    here = pathlib.Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=pathlib.Path, default=here, help="the dashboards folder")
    ap.add_argument("--sources", type=pathlib.Path, default=here.parent, help="the repository root")
    args = ap.parse_args()

    known = defined_metrics(args.sources)
    problems = []
    if not known:
        problems.append(f"no bora_ metric found in the sources under {args.sources}")
    files = sorted((args.dir / "json").glob("*.json"))
    if not files:
        problems.append(f"no dashboards in {args.dir / 'json'}")
    up_panels = sum(check_dashboard(f, known, problems) for f in files)
    if files and up_panels == 0:
        problems.append("no panel of any dashboard queries `up`: a dead process would not show")
    readme_path = args.dir / "README.md"
    readme = readme_path.read_text() if readme_path.exists() else ""
    check_alerts(args.dir / "alerts.yml", readme, known, problems)

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(files)} dashboards, alerts.yml, {len(known)} metrics defined in the sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
