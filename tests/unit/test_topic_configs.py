"""The configs of the topics `kefu topics create` makes: an acknowledged write must
survive one broker's loss on a replicated cluster, and fit the message size limit."""

from __future__ import annotations

from services.core.kafka import topic_configs
from services.core.settings import Settings


def test_three_replicas_need_two_in_sync_for_an_acknowledged_write() -> None:
    configs = topic_configs(Settings(topic_replication=3, kafka_max_message_bytes=4_194_304))
    assert configs == {"max.message.bytes": "4194304", "min.insync.replicas": "2"}


def test_a_single_broker_gets_no_in_sync_requirement_it_could_never_meet() -> None:
    assert "min.insync.replicas" not in topic_configs(Settings(topic_replication=1))
    assert topic_configs(Settings(topic_replication=2))["min.insync.replicas"] == "1"
