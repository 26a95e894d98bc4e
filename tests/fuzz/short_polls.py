"""Schemathesis hook (SCHEMATHESIS_HOOKS) for the time-boxed CI run (run_fuzz.py --short-polls).

A worker poll (POST /v2/workers/poll) that is valid and finds nothing to lease waits its `wait` seconds,
20 by default, by design; a handful of them would take the CI run's whole budget. This caps a numeric
`wait` above 1 s, or an absent one, at 1 s; every other value (wrong types, negatives) is sent as generated.
"""
import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != "/v2/workers/poll" or not isinstance(case.body, dict):
        return
    wait = case.body.get("wait")
    if "wait" not in case.body or (isinstance(wait, (int, float)) and not isinstance(wait, bool)
                                   and wait > 1):
        case.body["wait"] = 1
