"""The store on real ClickHouse engines (chDB in-process; the server path through
clickhouse-connect and a chDB-backed stand-in of the HTTP interface): the schema applies
twice without harm and follows the retention setting, a fact delivered twice counts once
before any merge, and a server that is down is a transient failure."""

import uuid

import pytest

from services.analytics.store import StoreError, StoreUnavailable
from services.analytics.store.embedded import EmbeddedStore
from services.analytics.store.migrate import migrate
from services.analytics.store.server import ServerStore
from services.analytics.store.sql_files import query
from tests.support.clickhouse_http import ClickHouseHttp


@pytest.fixture
def store(chdb_dir):
    store = EmbeddedStore(chdb_dir, f"t_{uuid.uuid4().hex[:10]}")
    migrate(store, retention_days=400)
    yield store
    store.close()


def ttl_days(store, table: str) -> str:
    rows = store.select("SELECT engine_full FROM system.tables WHERE database = "
                        "currentDatabase() AND name = {t:String}", {"t": table}).rows
    return rows[0][0].split("toIntervalDay(")[1].split(")")[0]


def test_the_schema_applies_again_and_follows_the_retention_setting(store):
    assert migrate(store, retention_days=400) == []
    assert ttl_days(store, "rounds") == "400"
    changed = migrate(store, retention_days=30)
    assert "rounds" in changed and "messages" in changed
    assert ttl_days(store, "rounds") == "30"


def round_row(version: int, **extra) -> dict:
    row = {"shop_id": "s1", "started_at": "2099-01-05 02:00:00.000", "round_id": "e1",
           "conversation_id": "c1", "role": "presale", "sla": "first_response",
           "intent": "greeting", "item_id": "", "buyer_id": "b1", "agent_id": "",
           "end_reason": "", "ended_at": None, "response_ms": None, "business_ms": None,
           "deadline": "2099-01-05 02:03:00.000", "due_3m_at": "2099-01-05 02:03:00.000",
           "local_date": "2099-01-05", "local_hour": 10, "local_weekday": 1,
           "version": version}
    return {**row, **extra}


def test_a_fact_delivered_twice_counts_once_before_any_merge(store):
    store.command("SYSTEM STOP MERGES rounds")
    answered = round_row(2, agent_id="a1", end_reason="reply",
                         ended_at="2099-01-05 02:00:40.000", response_ms=40_000,
                         business_ms=40_000)
    for rows in ([round_row(1)], [answered], [round_row(1)], [answered]):
        store.insert("rounds", rows)  # opened, answered, and both redelivered
    parts = store.select("SELECT count() FROM system.parts WHERE database = currentDatabase() "
                         "AND table = 'rounds' AND active").rows[0][0]
    assert parts == 4, "nothing merged yet"
    params = {"shop": "s1", "from": "2099-01-01 00:00:00.000", "to": "2099-02-01 00:00:00.000",
              "as_of": "2099-02-01 00:00:00.000", "by": "agent_id"}
    overall = next(r for r in store.select(query("rounds"), params).dicts()
                   if r["grouping_set"] == "all")
    assert (overall["rounds"], overall["answered"], overall["p50_ms"]) == (1, 1, 40_000)


def test_analysts_sql_cannot_write(store):
    with pytest.raises(StoreError, match="readonly"):
        store.select_readonly("INSERT INTO rounds (shop_id) VALUES ('x')")
    assert store.select_readonly("SELECT count() AS n FROM rounds").dicts() == [{"n": 0}]


def test_a_server_that_is_down_is_transient_and_used_once_it_is_up(chdb_dir):
    database = f"t_{uuid.uuid4().hex[:10]}"
    with ClickHouseHttp(chdb_dir) as server:
        server.down = True
        store = ServerStore(f"{server.url}?compress=false", database,
                            on_connect=lambda s: migrate(s, retention_days=400))
        with pytest.raises(StoreUnavailable):
            store.insert("rounds", [round_row(1)])
        server.down = False
        store.insert("rounds", [round_row(1)])
        assert store.select("SELECT count() AS n FROM rounds FINAL").dicts() == [{"n": 1}]
        with pytest.raises(StoreError, match="readonly"):
            store.select_readonly("INSERT INTO rounds (shop_id) VALUES ('x')")
        store.close()


def test_one_process_owns_the_embedded_store(store, chdb_dir):
    """A second analytics process on the same data directory stops with the reason."""
    import subprocess
    import sys

    code = ("from services.analytics.store.embedded import EmbeddedStore\n"
            f"EmbeddedStore({str(chdb_dir)!r}, 'other')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "is another process using it?" in result.stderr
