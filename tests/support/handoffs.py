"""The router's own `conversation.closed` on the role a conversation left (README, "The
router"): an output no input carries, explained by a buyer message of the same
conversation routed to the other role."""

from __future__ import annotations

from collections.abc import Iterable

from contracts import Role
from contracts.topics import role_topic

ROLE_OF_TOPIC = {role_topic(role): role.value for role in Role}
"""Each role topic and the role it carries."""


def buyer_message_topics(outs: Iterable[tuple[str, dict]]) -> set[tuple[str, str, str]]:
    """(shop, conversation, role topic) of the routed buyer messages among `outs`
    ((topic, body) pairs)."""
    return {(body["shop_id"], body["payload"]["conversation_id"], topic)
            for topic, body in outs if body.get("event_type") == "buyer.message"}


def is_handoff(topic: str, body: dict, chats: set[tuple[str, str, str]]) -> bool:
    """A close the router made: its conversation's buyer message went to the other role."""
    if body.get("event_type") != "conversation.closed" or topic not in ROLE_OF_TOPIC:
        return False
    (other,) = set(ROLE_OF_TOPIC) - {topic}
    return (body["payload"].get("closed_by") == f"handoff:{ROLE_OF_TOPIC[other]}"
            and (body["shop_id"], body["payload"]["conversation_id"], other) in chats)
