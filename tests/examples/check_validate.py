#!/usr/bin/python3
"""bora validate on the OpenStack examples, with the action pack's catalog.

Usage: check_validate.py BORA SOURCE_DIR

- `bora validate FILES --action-catalog sdk/openstack/bora_openstack/actions.json` says OK for every file of
  examples/tripleo and examples/openstack (exit 0);
- the distinct OpenStack actions the TripleO-style workbooks call (tasks' `action:` and ad-hoc actions'
  `base:`, by Mistral's service prefixes) are counted and printed: at least 63, each one in the catalog
  unless the files define it themselves (an ad-hoc action of that name);
- a copy of the workbooks with a misspelled action and a wrong input fails (exit 2) naming each file:line.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

SERVICES = ("nova", "ironic", "baremetal_introspection", "heat", "swift", "glance", "zaqar", "keystone",
            "neutron", "mistral")
MIN_ACTIONS = 63


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def validate(bora, files, catalog):
    run = subprocess.run([bora, "validate", "--action-catalog", catalog, *files], capture_output=True,
                         text=True, timeout=120)
    return run.returncode, run.stdout + run.stderr


def used_actions(files):
    """{action name: sorted files} of tasks' actions and ad-hoc bases; the names the files define."""
    used, defined = {}, set()
    for path in files:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        name = os.path.basename(path)
        if "workflows" in doc or "name" in doc:  # a workbook
            workflows = doc.get("workflows", {})
            actions = doc.get("actions", {})
            defined.update(doc["name"] + "." + a for a in actions)
        elif all(isinstance(v, dict) and "base" in v for k, v in doc.items() if k != "version"):
            workflows, actions = {}, {k: v for k, v in doc.items() if k != "version"}
            defined.update(actions)
        else:
            workflows, actions = {k: v for k, v in doc.items() if k != "version"}, {}
        for wf in workflows.values():
            for task in wf["tasks"].values():
                if task.get("action"):
                    used.setdefault(task["action"].split()[0], set()).add(name)
        for action in actions.values():
            used.setdefault(action["base"].split()[0], set()).add(name)
    return used, defined


def main():
    bora, source = sys.argv[1], sys.argv[2]
    catalog = os.path.join(source, "sdk/openstack/bora_openstack/actions.json")
    with open(catalog, encoding="utf-8") as f:
        known = {a["name"] for a in json.load(f)["actions"]}
    tripleo = sorted(glob.glob(os.path.join(source, "examples/tripleo/*.yaml")))
    openstack = sorted(glob.glob(os.path.join(source, "examples/openstack/*.yaml")))
    if len(tripleo) < 25 or len(openstack) < 2:
        fail(f"expected at least 25 workbooks and 2 OpenStack examples, "
             f"found {len(tripleo)} and {len(openstack)}")

    # 1. Every file is valid against the catalog.
    for files in (tripleo, openstack):
        code, out = validate(bora, files, catalog)
        print(out, end="")
        oks = [line for line in out.splitlines() if line.endswith(": OK")]
        if code != 0 or len(oks) != len(files):
            fail(f"bora validate exited {code} with {len(oks)} of {len(files)} files OK")

    # 2. The OpenStack actions the workbooks call.
    used, defined = used_actions(tripleo)
    openstack_actions = sorted(a for a in used if a.split(".")[0] in SERVICES)
    from_catalog = [a for a in openstack_actions if a not in defined]
    missing = [a for a in from_catalog if a not in known]
    if missing:
        fail(f"actions not in the catalog: {missing}")
    per_service = {}
    for a in openstack_actions:
        per_service[a.split(".")[0]] = per_service.get(a.split(".")[0], 0) + 1
    print(f"distinct OpenStack actions called: {len(openstack_actions)} "
          f"({len(from_catalog)} from the catalog, {len(openstack_actions) - len(from_catalog)} ad-hoc in "
          f"the files): " + ", ".join(f"{s} {n}" for s, n in sorted(per_service.items(),
                                                                                  key=lambda x: -x[1])))
    for a in openstack_actions:
        print(f"  {a}: {', '.join(sorted(used[a]))}")
    if len(openstack_actions) < MIN_ACTIONS:
        fail(f"only {len(openstack_actions)} distinct OpenStack actions, expected at least {MIN_ACTIONS}")
    tripleo_actions = sorted(a for a in defined if a.startswith("tripleo."))
    print("ad-hoc tripleo.* actions declared: " + ", ".join(tripleo_actions))

    # 3. A broken copy: a misspelled action and a wrong input, each reported at its file and line.
    with tempfile.TemporaryDirectory() as tmp:
        for path in tripleo:
            shutil.copy(path, tmp)
        breaks = [  # file, text to replace, replacement, the message expected at that line
            ("deployment.yaml", "action: heat.stacks_validate\n", "action: heat.stacks_validat\n",
             "unknown action 'heat.stacks_validat' (did you mean 'heat.stacks_validate'?)"),
            ("overcloud_images.yaml", "action: glance.images_deactivate image_id=",
             "action: glance.images_deactivate image=",
             "action 'glance.images_deactivate' has no input 'image'"),
            ("baremetal.yaml", "action: ironic.node_set_power_state node_id=<% $.uuid %> state=off",
             "action: ironic.node_set_power_state node_id=<% $.uuid %>",
             "action 'ironic.node_set_power_state' needs the input 'state'"),
        ]
        expected = []
        for name, old, new, message in breaks:
            path = os.path.join(tmp, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if text.count(old) != 1:
                fail(f"{name}: '{old.strip()}' is not there exactly once")
            # Errors name the task's line (its key), the nearest less indented key above the action.
            lines = text[:text.index(old)].split("\n")
            indent = len(lines[-1])
            line = next(i + 1 for i in range(len(lines) - 2, -1, -1)
                        if re.fullmatch(r" {0,%d}[\w-]+:\s*" % (indent - 1), lines[i]))
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
            expected.append((path, line, message))
        code, out = validate(bora, sorted(glob.glob(os.path.join(tmp, "*.yaml"))), catalog)
        print(out, end="")
        if code != 2:
            fail(f"the broken copy: bora validate exited {code}, expected 2")
        for path, line, message in expected:
            pattern = re.escape(f"{path}:{line}:") + r"\d+: .*" + re.escape(message)
            if not re.search(pattern, out):
                fail(f"no error '{message}' at {path}:{line}")
        if len([line for line in out.splitlines() if line.endswith(": OK")]) != len(tripleo) - len(breaks):
            fail("the files left intact should still be OK")
    print("OK")


if __name__ == "__main__":
    main()
