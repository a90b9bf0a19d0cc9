"""No metric of any service is labelled by shop: the number of series must not grow with
the number of shops (a platform with thousands of shops would swamp Prometheus). What a
shop did is in the analytics store, not in the metrics."""

from __future__ import annotations

import pytest

from services.cli.services import available_services, create_app
from services.core.settings import Settings

SHOP_LABELS = {"shop", "shop_id", "tenant"}


def label_names(registry) -> dict[str, tuple[str, ...]]:
    """Every metric of the registry with its label names (declared, used or not yet).
    prometheus_client has no public accessor for the declared names."""
    return {name: tuple(getattr(collector, "_labelnames", ()))
            for collector, names in registry._collector_to_names.items() for name in names}


@pytest.mark.parametrize("service", available_services())
def test_no_metric_is_labelled_by_shop(service, tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_ANALYTICS_DATA_DIR", str(tmp_path / "analytics"))
    settings = Settings(kafka_bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1")
    app = create_app(service, settings)  # builds every metric, connects to nothing
    labelled = {name: labels for name, labels in label_names(app.metrics.registry).items()
                if SHOP_LABELS & set(labels)}
    assert not labelled, f"{service}: metrics labelled by shop: {labelled}"
