"""Bora Python SDK: run custom Mistral actions in an external worker.

    from bora_worker import Worker

    worker = Worker.http("http://127.0.0.1:8989", pool="python")   # or Worker.kafka(brokers, ...)

    @worker.action("py.reverse")
    def reverse(text):
        return text[::-1]

    worker.run()

See sdk/python/README.md and, for the wire messages, sdk/README.md. confluent-kafka (the `kafka`
extra) is needed only by the Kafka transport.
"""

from bora_worker.http import HttpError, HttpTransport, decode_lease
from bora_worker.kafka import (
    SCHEMA_VERSION,
    KafkaTransport,
    actions_topic,
    decode_run_action,
    encode_action_completed,
    events_topic,
)
from bora_worker.types import ERROR, SUCCESS, ActionError, ActionRequest, BadMessage, Outcome
from bora_worker.worker import Worker

__version__ = "0.3.0"

__all__ = [
    "ERROR",
    "SCHEMA_VERSION",
    "SUCCESS",
    "ActionError",
    "ActionRequest",
    "BadMessage",
    "HttpError",
    "HttpTransport",
    "KafkaTransport",
    "Outcome",
    "Worker",
    "actions_topic",
    "decode_lease",
    "decode_run_action",
    "encode_action_completed",
    "events_topic",
]
