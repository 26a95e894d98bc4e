#!/usr/bin/env python3
"""An asyncio action over HTTP: py.slow waits `seconds` without holding a thread, so one process
runs many at once (`concurrency`); an action that outlives a third of its lease is heartbeated.

    python examples/slow_async.py [URL]      (URL default http://127.0.0.1:8989)
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bora_worker import Worker


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8989"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    worker = Worker.http(url, pool="python", concurrency=16, lease=10)

    @worker.action("py.slow", description="waits, then says done")
    async def slow(seconds: float = 1.0) -> str:
        await asyncio.sleep(seconds)
        return "done"

    worker.run()


if __name__ == "__main__":
    main()
