"""Start-up checks of the notifier: a bad template placeholder, an unset webhook secret
or a webhook without one (unless the shop says `unsigned: true`) stops the service with
a message naming the shop and key; construction does not connect to anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.settings import Settings
from services.notifier import app as app_module
from services.notifier.app import create_app
from services.notifier.config import NotifierConfigError

WEBHOOK = """
    notify:
      channels: {buyer: webhook, supervisor: log}
      webhook: {url: "https://hooks.example.cn/kefu", secret_env: SHOP_A_HOOK_SECRET}"""


def settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    # Ports nobody listens on: building the app must not connect.
    return Settings(policy_file=path, kafka_bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1")


def test_unknown_placeholder_in_a_shop_override_stops_start_up(tmp_path):
    text = """shops:
  shop-a:
    notify:
      templates:
        en: {shipped: "Shipped {order_id} with {courier}"}
"""
    with pytest.raises(NotifierConfigError) as info:
        create_app(settings(tmp_path, text), environ={})
    message = str(info.value)
    assert "policy.yaml: shops.shop-a.notify.templates.en.shipped: unknown placeholder {courier}" \
        in message


def test_unset_webhook_secret_stops_start_up(tmp_path):
    with pytest.raises(NotifierConfigError) as info:
        create_app(settings(tmp_path, f"shops:\n  shop-a:{WEBHOOK}\n"), environ={})
    assert ("shops.shop-a.notify.webhook.secret_env: environment variable SHOP_A_HOOK_SECRET "
            "is not set") in str(info.value)


def test_a_webhook_secret_of_only_commas_stops_start_up(tmp_path):
    with pytest.raises(NotifierConfigError) as info:
        create_app(settings(tmp_path, f"shops:\n  shop-a:{WEBHOOK}\n"),
                   environ={"SHOP_A_HOOK_SECRET": " , "})
    assert "SHOP_A_HOOK_SECRET is not set" in str(info.value)


def test_a_valid_policy_builds_without_connecting(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_A_HOOK_SECRET", "s3cret")
    app = create_app(settings(tmp_path, f"shops:\n  shop-a:{WEBHOOK}\n"))
    assert app.name == "notifier"
    assert {"kefu.notifications", "kefu.dlq"} <= set(app.publishers)


def test_a_webhook_without_a_secret_stops_start_up(tmp_path):
    text = """shops:
  shop-a:
    notify:
      channels: {buyer: webhook, supervisor: log}
      webhook: {url: "https://hooks.example.cn/kefu"}
"""
    with pytest.raises(NotifierConfigError) as info:
        create_app(settings(tmp_path, text), environ={})
    assert ("policy.yaml: shops.shop-a.notify.webhook.secret_env: not set, and webhooks are "
            "signed: name the variable that holds the secret, or say unsigned: true") \
        in str(info.value)


def test_a_shop_may_send_unsigned_webhooks_only_when_its_policy_says_so(tmp_path):
    text = """shops:
  shop-a:
    notify:
      channels: {buyer: webhook, supervisor: webhook}
      webhook: {url: "https://hooks.example.cn/kefu", unsigned: true}
"""
    app = create_app(settings(tmp_path, text), environ={})
    assert app.name == "notifier"


def test_unsigned_and_a_secret_together_stop_start_up(tmp_path):
    text = """shops:
  shop-b:
    notify:
      channels: {buyer: webhook, supervisor: webhook}
      webhook: {url: "https://hooks.example.cn/kefu", secret_env: SHOP_A_HOOK_SECRET,
                unsigned: true}
"""
    with pytest.raises(NotifierConfigError) as info:
        create_app(settings(tmp_path, text), environ={"SHOP_A_HOOK_SECRET": "s3cret"})
    assert ("shops.shop-b.notify.webhook.unsigned: true, but secret_env names "
            "SHOP_A_HOOK_SECRET: say which one") in str(info.value)


def test_the_lane_limits_reach_the_worker_and_the_webhook_from_the_settings(
        tmp_path, monkeypatch):
    built = {}

    class Recorded:
        def __init__(self, cls):
            self.cls = cls

        def __call__(self, *args, **kwargs):
            built[self.cls.__name__] = made = self.cls(*args, **kwargs)
            return made

    monkeypatch.setattr(app_module, "Dispatcher", Recorded(app_module.Dispatcher))
    monkeypatch.setattr(app_module, "WebhookChannel", Recorded(app_module.WebhookChannel))
    for name, value in {"MAX_HELD": "600", "QUEUE_PER_RECEIVER": "500",
                        "CONCURRENCY_PER_RECEIVER": "50", "CONCURRENCY_PER_SHOP": "7",
                        "ALERT_RESERVE": "0.1"}.items():
        monkeypatch.setenv(f"KEFU_NOTIFIER_{name}", value)
    create_app(settings(tmp_path, "shops: {}\n"), environ={})
    limits = built["Dispatcher"].limits
    assert (limits.max_held, limits.queue_per_receiver, limits.per_receiver,
            limits.alert_reserve) == (600, 500, 50, 0.1)
    webhook = built["WebhookChannel"]
    assert (webhook.connections, webhook.per_shop, webhook.per_receiver) == (600, 7, 50)
