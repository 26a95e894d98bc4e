"""Zaqar's actions work on a queue, not on a manager of the client: these are the functions
Mistral's zaqar.* names call, each taking the queue's name first."""

from typing import Any, Dict, List, Union


class Functions:
    """zaqar.<name> calls Functions(client).<name>(**input)."""

    def __init__(self, client: Any):
        self._client = client

    def queue_messages(self, queue_name: str, **params: Any) -> Any:
        """Gets a list of messages from the queue."""
        return self._client.queue(queue_name).messages(**params)

    def queue_post(self, queue_name: str, messages: Union[List[Any], Dict[str, Any]]) -> Any:
        """Posts one or more messages to a queue."""
        return self._client.queue(queue_name).post(messages)

    def queue_pop(self, queue_name: str, count: int = 1) -> Any:
        """Pops `count` messages from the queue."""
        return self._client.queue(queue_name).pop(count)

    def claim_messages(self, queue_name: str, **params: Any) -> Any:
        """Claims messages from the queue."""
        return self._client.queue(queue_name).claim(**params)

    def delete_messages(self, queue_name: str, messages: List[str]) -> Any:
        """Deletes messages (by id) from the queue."""
        return self._client.queue(queue_name).delete_messages(*messages)
