"""Notification settings of a shop's policy (the ``notify`` section)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from services.core.policy.types import Count, Duration, EnvName, QuietHours, StrictModel, Text

Locale = Literal["zh-CN", "en"]
Channel = Literal["log", "webhook"]
NotificationKind = Literal[
    "shipped", "logistics_update", "delay_notice", "stalled_parcel", "delivered",
    "escalation_alert", "escalation_retracted",
]  # fmt: skip


class ChannelsPolicy(StrictModel):
    """Delivery channel per notification audience."""

    buyer: Channel
    supervisor: Channel


class WebhookPolicy(StrictModel):
    """Webhook delivery; ``secret_env`` names the env variable holding the HMAC secret.

    Fail closed: a webhook is signed (the notifier refuses to start without the secret)
    unless ``unsigned`` says otherwise, and goes over https unless ``allow_http``."""

    allow_http: Annotated[bool, Field(strict=True)]  # before url: its check reads it
    unsigned: Annotated[bool, Field(strict=True)]
    url: Annotated[str, Field(strict=True)] | None
    secret_env: EnvName | None
    timeout: Duration
    max_attempts: Count
    backoff_base: Duration

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        parts = urlsplit(url) if url is not None else None
        if parts is not None and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError(f"invalid webhook url {url!r}, expected https://host/...")
        if parts is not None and parts.scheme == "http" and not info.data.get("allow_http"):
            raise ValueError("http:// is refused (notifications would travel in clear text): "
                             "use https://, or allow it for this shop with "
                             "notify.webhook.allow_http: true")
        return url


class LogisticsUpdatesPolicy(StrictModel):
    """Which carrier scans are told to the buyer, and how often at most."""

    in_transit: Annotated[bool, Field(strict=True)]
    max_per_order: Count
    window: Duration


class NotifyPolicy(StrictModel):
    """Buyer and supervisor notifications; ``templates[locale][kind]`` beat built-ins."""

    quiet_hours: QuietHours
    locale: Locale
    channels: ChannelsPolicy
    webhook: WebhookPolicy
    logistics_updates: LogisticsUpdatesPolicy
    templates: dict[Locale, dict[NotificationKind, Text]]

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> NotifyPolicy:
        for audience in ("buyer", "supervisor"):
            if getattr(self.channels, audience) == "webhook" and self.webhook.url is None:
                raise ValueError(f"channels.{audience} is 'webhook' but webhook.url is not set")
        return self
