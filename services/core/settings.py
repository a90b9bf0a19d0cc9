"""Runtime settings: one pydantic-settings class, read once in each composition root."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.core.durations import parse_duration


def _duration(value: Any) -> Any:
    """Seconds (`604800`), the policy file's form (`7d`, `30s`, `500ms`) or ISO 8601
    (`P7D`, `PT30S`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return timedelta(seconds=float(text))
        except ValueError:
            pass
        if text[:1] in ("P", "p", "-"):
            return text
        return parse_duration(text)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]

OUTPUT_OVERHEAD = 64 * 1024
"""Room for what a service adds to an input it forwards (routing, suggested replies)."""

SERVICE_PORTS = {
    "router": 8081, "presale": 8082, "aftersale": 8083, "notifier": 8084, "analytics": 8085,
    "console": 8086, "gateway": 8087,
}


class Settings(BaseSettings):
    """Every `KEFU_*` environment variable the services read (see README, "Settings")."""

    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", repr=False)
    """May carry a password: left out of the settings' repr (tracebacks, test reports)."""
    policy_file: Path | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    http_host: str = "127.0.0.1"
    http_port: int | None = Field(
        default=None, description="health/metrics port; default per service (router 8081 ...)"
    )

    # Kafka client security (real clusters; the embedded broker is PLAINTEXT).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_enable_idempotence: bool = Field(
        default=False, description="idempotent producer; real Kafka only (Tansu lacks it)"
    )
    kafka_client_id: str = "kefu"
    kafka_max_message_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024 * 1024,
        description="producer max request size and max.message.bytes of created topics",
    )

    topic_partitions: int = Field(default=6, ge=1)
    topic_replication: int = Field(default=1, ge=1)
    consumer_max_records: int = Field(default=500, ge=1)
    roles_max_records: int = Field(
        default=2000, ge=1, description="records per presale/aftersale batch: each batch "
        "reads the agent board of every shop in it, so bigger batches cost less per event "
        "when a backlog is read",
    )
    consumer_batch_timeout_ms: int = Field(default=100, ge=1)
    consumer_fetch_max_wait_ms: int = Field(default=25, ge=1)
    consumer_fetch_min_bytes: int = Field(default=1, ge=1)
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1000)
    consumer_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    consumer_rebalance_timeout_ms: int | None = Field(default=None, ge=1000)
    group_prefix: str = "kefu"

    max_event_bytes: int = Field(default=1024 * 1024, ge=1024)
    dedup_window: Duration = timedelta(days=7)
    context_ttl: Duration = timedelta(days=30)
    retry_max_backoff: Duration = timedelta(seconds=30)
    stuck_after: Duration = Field(
        default=timedelta(seconds=60), gt=timedelta(0),
        description="a service whose batch has been retried this long is not ready",
    )

    sla_grace: Duration = Field(
        default=timedelta(seconds=5), ge=timedelta(0),
        description="allowed lateness of producers: a timer fires only once its partition "
        "was read past its due time plus this",
    )

    # SLA timer engine (role services and the notifier's outbox)
    timer_lease: Duration = Field(default=timedelta(seconds=30), gt=timedelta(0))
    timer_poll_interval: Duration = Field(default=timedelta(milliseconds=100), gt=timedelta(0))
    timer_shards: int = Field(
        default=16, ge=1, description="must be the same for every replica; never change it live"
    )

    # The notifier's delivery worker and its lanes (services/notifier/lanes.py)
    notifier_max_held: int = Field(
        default=256, ge=1, description="outbox entries the delivery worker holds at most"
    )
    notifier_queue_per_shop: int = Field(default=16, ge=1, description="held for one shop")
    notifier_queue_per_receiver: int = Field(
        default=32, ge=1, description="held for one receiver (a webhook's origin)"
    )
    notifier_concurrency_per_shop: int = Field(
        default=4, ge=1, description="webhook requests of one shop open at once"
    )
    notifier_concurrency_per_receiver: int = Field(
        default=8, ge=1, description="webhook requests to one receiver open at once"
    )
    notifier_slow_share: float = Field(
        default=0.25, gt=0, lt=1, description="share of the held slots slow receivers hold "
        "together",
    )
    notifier_alert_reserve: float = Field(
        default=0.25, gt=0, lt=1, description="share of the held slots kept for supervisor "
        "alerts",
    )

    @model_validator(mode="after")
    def _the_notifier_can_deliver(self) -> Settings:
        """Lane limits that could never take effect, or that leave slow receivers or
        supervisor alerts no slot, stop start-up: nothing is clamped."""
        for part, whole in (("QUEUE_PER_SHOP", "MAX_HELD"), ("QUEUE_PER_RECEIVER", "MAX_HELD"),
                            ("CONCURRENCY_PER_SHOP", "QUEUE_PER_SHOP"),
                            ("CONCURRENCY_PER_RECEIVER", "QUEUE_PER_RECEIVER")):
            if self._notifier(part) > self._notifier(whole):
                raise ValueError(f"{self._named(part)} must not exceed {self._named(whole)}")
        for share, whom in (("SLOW_SHARE", "slow receivers"),
                            ("ALERT_RESERVE", "supervisor alerts")):
            if int(self.notifier_max_held * self._notifier(share)) < 1:
                raise ValueError(f"{self._named(share)} of {self._named('MAX_HELD')} leaves "
                                 f"{whom} no slot")
        return self

    def _notifier(self, name: str) -> float:
        return getattr(self, f"notifier_{name.lower()}")

    def _named(self, name: str) -> str:
        return f"KEFU_NOTIFIER_{name} ({self._notifier(name)})"

    # Analytics (services/analytics): the ClickHouse store and its HTTP API
    analytics_url: SecretStr | None = Field(
        default=None,
        description="ClickHouse server URL (clickhouse-connect DSN); unset: embedded chDB",
    )
    analytics_data_dir: Path = Path("var/analytics")
    analytics_database: str = Field(default="kefu", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    analytics_retention: Duration = Field(
        default=timedelta(days=400), ge=timedelta(days=1), le=timedelta(days=3650),
        description="TTL of stored facts; at most 10 years (ClickHouse's DateTime ends in 2106)",
    )
    analytics_token: SecretStr | None = Field(
        default=None, description="the analytics API's admin token (every shop, SQL)"
    )
    analytics_conversion_days: int = Field(default=3, ge=1, le=90)
    analytics_max_records: int = Field(
        default=5000, ge=1, description="records per analytics batch (bigger inserts)"
    )
    analytics_fetch_min_bytes: int = Field(
        default=256 * 1024, ge=1,
        description="bytes analytics asks the broker for per fetch (it answers sooner when "
        "KEFU_ANALYTICS_FETCH_MAX_WAIT_MS passes)",
    )
    analytics_fetch_max_wait_ms: int = Field(
        default=1000, ge=1, description="how long the broker may hold an analytics fetch "
        "for KEFU_ANALYTICS_FETCH_MIN_BYTES: fewer, bigger inserts when traffic is light "
        "(each batch inserts into up to nine tables)",
    )

    # HTTP ingest gateway (services/gateway)
    ingest_secret: SecretStr | None = Field(
        default=None, description="HMAC secret of shops whose policy names no ingest.secret_env"
    )
    gateway_max_batch: int = Field(default=500, ge=1, description="events per NDJSON request")
    gateway_max_body_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="bigger request bodies get 413"
    )
    gateway_max_in_flight_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="request bytes held until the broker settled them; beyond it, 429",
    )
    gateway_ack_timeout: Duration = Field(
        default=timedelta(seconds=10),
        gt=timedelta(0),
        description="how long a request waits for the broker's acks before 429 (or 503)",
    )

    @model_validator(mode="after")
    def _a_whole_body_fits_the_budget(self) -> Settings:
        if self.gateway_max_in_flight_bytes < self.gateway_max_body_bytes:
            raise ValueError(
                "KEFU_GATEWAY_MAX_IN_FLIGHT_BYTES must be at least KEFU_GATEWAY_MAX_BODY_BYTES"
            )
        return self

    analytics_api: str = Field(
        default="http://127.0.0.1:8085",
        description="where the console (and kefu report) reach the analytics API",
    )

    # Supervisor console (services/console)
    console_secret: SecretStr | None = Field(
        default=None, description="signs session cookies and CSRF tokens; unset: a random "
        "one per process (sessions end with it, and replicas do not share them)",
    )
    console_session_ttl: Duration = Field(default=timedelta(hours=12), gt=timedelta(0))
    console_cookie_secure: bool = Field(
        default=False, description="mark the session cookie Secure (serve the console on https)"
    )
    console_trusted_header: str | None = Field(
        default=None, description="a reverse proxy's user header (e.g. X-Forwarded-User); "
        "unset: off. Only honoured from KEFU_CONSOLE_TRUSTED_PROXIES",
    )
    console_trusted_proxies: str = Field(
        default="127.0.0.1", description="comma-separated addresses whose trusted header counts"
    )
    console_refresh: Duration = Field(
        default=timedelta(milliseconds=250), gt=timedelta(0),
        description="how often open boards are re-read from Redis (update latency)",
    )

    @model_validator(mode="after")
    def _outputs_fit(self) -> Settings:
        """A routed event is its input plus a small routing block: an input kefu accepts
        must fit the broker's message size, or its outputs could never be published."""
        if self.max_event_bytes + OUTPUT_OVERHEAD > self.kafka_max_message_bytes:
            raise ValueError(
                f"KEFU_MAX_EVENT_BYTES ({self.max_event_bytes}) plus {OUTPUT_OVERHEAD} bytes "
                f"must not exceed KEFU_KAFKA_MAX_MESSAGE_BYTES ({self.kafka_max_message_bytes})")
        return self

    def http_port_for(self, service: str) -> int:
        return self.http_port if self.http_port is not None else SERVICE_PORTS.get(service, 8080)

    def group_id(self, service: str) -> str:
        return f"{self.group_prefix}-{service}"
