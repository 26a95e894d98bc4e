"""Bora Python SDK: run custom Mistral actions in an external worker.

    from bora_worker import Worker

    worker = Worker("localhost:9092", pool="python")

    @worker.action("py.reverse")
    def reverse(text):
        return text[::-1]

    worker.run()

See sdk/python/README.md and, for the wire messages, sdk/README.md.
"""

from bora_worker.worker import (
    SCHEMA_VERSION,
    ActionError,
    BadMessage,
    Worker,
    actions_topic,
    decode_run_action,
    encode_action_completed,
    events_topic,
)

__all__ = [
    "SCHEMA_VERSION",
    "ActionError",
    "BadMessage",
    "Worker",
    "actions_topic",
    "decode_run_action",
    "encode_action_completed",
    "events_topic",
]
