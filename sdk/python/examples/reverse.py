#!/usr/bin/env python3
"""A sync action over HTTP: py.reverse reverses its `text`.

    python examples/reverse.py [URL] [--token TOKEN]     (URL default http://127.0.0.1:8989)

Then run a workflow with `action: py.reverse text=<% $.text %>` (examples/reverse.yaml).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any, Dict

from bora_worker import ActionError, ActionRequest, Worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8989")
    parser.add_argument("--token", default=None, help="X-Auth-Token, when the server wants one")
    parser.add_argument("--pool", default="python")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    worker = Worker.http(args.url, pool=args.pool, token=args.token, concurrency=args.concurrency)

    @worker.action("py.reverse", input="text", description="reverses text")
    def reverse(text: str) -> str:
        return text[::-1]

    @worker.action("py.charge", with_request=True, description="charges an amount, idempotently")
    def charge(request: ActionRequest, amount: float, currency: str = "EUR") -> Dict[str, Any]:
        if amount <= 0:
            raise ActionError({"code": "bad_amount", "amount": amount})  # ERROR with this data
        # At least once: the same (action_execution_id, attempt) may come again; a real payment
        # API would take this key to do the charge only once.
        key = f"{request.action_execution_id}/{request.attempt}"
        return {"charged": amount, "currency": currency, "idempotency_key": key}

    worker.run()  # until Ctrl-C / SIGTERM: finishes running actions, releases the rest


if __name__ == "__main__":
    main()
