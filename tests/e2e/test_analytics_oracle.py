"""The oracle: a scripted week on kefu's topics, the analytics service on the real
broker, Redis and chDB, and every figure of its report against the values worked out by
hand in analytics_expected.py. Replaying the whole week (a redelivery) changes nothing.
The same running service shows that a shop's token sees only its shop.

Every test runs twice: on the embedded store, and on a ClickHouse server through
clickhouse-connect (`KEFU_ANALYTICS_URL`). No server can run here, so the server is
tests/support/clickhouse_http.py: ClickHouse's HTTP interface answered by chDB."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime

import aiohttp
import pytest

from services.cli.main import main
from tests.conftest import unique
from tests.e2e import analytics_expected as x
from tests.e2e.analytics_expected import assert_week, week_params
from tests.support.analytics_script import scripted_week
from tests.support.analytics_week import OTHER, SHOP, TZ, Week, past_monday
from tests.support.clickhouse_http import ClickHouseHttp
from tests.support.services import all_handled, running

pytestmark = pytest.mark.e2e

ADMIN, ORACLE_TOKEN, OTHER_TOKEN = "admin-secret", "oracle-secret", "other-secret"
BAD_RECORD = b"{this is not json"


@pytest.fixture(scope="module")
def week() -> Week:
    week = scripted_week(Week(past_monday(datetime.now(TZ).date())))
    week.produced = 0  # records on the topics so far (both runs of the module share them)
    return week


@pytest.fixture(scope="module", params=["embedded", "server"])
async def analytics(request, stack, kafka, week, chdb_dir, tmp_path_factory):
    policy = tmp_path_factory.mktemp("oracle") / "policy.yaml"
    policy.write_text(week.policy(), encoding="utf-8")
    tokens = {"KEFU_TEST_ORACLE_TOKEN": ORACLE_TOKEN, "KEFU_TEST_OTHER_TOKEN": OTHER_TOKEN}
    os.environ.update(tokens)
    server = ClickHouseHttp(chdb_dir) if request.param == "server" else None
    settings = stack.settings(policy_file=policy, analytics_data_dir=chdb_dir,
                              analytics_database=unique("oracle").replace("-", "_"),
                              analytics_token=ADMIN, analytics_retention="3650d",
                              analytics_url=f"{server.url}?compress=false" if server else None)
    try:
        if server:
            server.__enter__()
        async with running("analytics", settings) as app:
            app.base_url = f"http://127.0.0.1:{settings.http_port}"
            await produce(kafka, week)
            await kafka.send("kefu.escalations", BAD_RECORD, key="bad")
            week.produced += 1
            assert await all_handled(app, week.produced), "the week was not ingested"
            yield app
    finally:
        for name in tokens:
            os.environ.pop(name, None)
        if server:
            server.__exit__()


async def produce(kafka, week: Week) -> None:
    for topic, key, body in week.records:
        await kafka.send(topic, body, key=key)
    week.produced += len(week.records)


async def get(app, path: str, token: str | None = ADMIN, **params) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(
            app.base_url + path, params=params, headers=headers) as resp:
        body = await resp.json(content_type=None)
        return resp.status, body


async def test_every_figure_is_the_hand_computed_one_and_a_replay_changes_nothing(
        analytics, kafka, week):
    status, first = await get(analytics, "/api/v1/report", **week_params(week, by="role"))
    assert status == 200, first
    assert_week(first, week)
    assert first["groups"] == [pytest.approx(g, abs=1e-3) for g in x.BY_ROLE]

    await produce(kafka, week)  # every record delivered a second time
    assert await all_handled(analytics, week.produced)
    status, again = await get(analytics, "/api/v1/report", **week_params(week, by="role"))
    assert status == 200
    assert_week(again, week)
    assert {**again, "as_of": None} == {**first, "as_of": None}


async def test_the_heatmap_counts_one_intent_when_asked(analytics, week):
    status, report = await get(analytics, "/api/v1/report",
                               **week_params(week, intent="product_inquiry"))
    assert status == 200
    assert report["heatmap_intent"] == "product_inquiry"
    cells = {(c["weekday"], c["hour"]): c["messages"] for c in report["heatmap"] if c["messages"]}
    assert cells == x.HEATMAP_PRODUCT_INQUIRY
    assert report["intents"] == x.INTENTS  # the filter is the heatmap's only


async def test_daily_series_for_the_console_charts(analytics, week):
    status, messages = await get(analytics, "/api/v1/series",
                                 **week_params(week, metric="messages", step="1d"))
    assert status == 200, messages
    assert [p["value"] for p in messages["points"]] == x.MESSAGES_PER_DAY
    assert datetime.fromisoformat(messages["points"][2]["t"]) == week.at("wed", "00:00:00")
    status, rate = await get(analytics, "/api/v1/series",
                             **week_params(week, metric="within_3m_rate", step="1d"))
    assert [p["value"] for p in rate["points"]] == [
        pytest.approx(v, abs=1e-3) if v is not None else None for v in x.WITHIN_3M_PER_DAY]


async def test_a_shop_token_sees_its_shop_only(analytics, week):
    assert (await get(analytics, "/api/v1/report", token=ORACLE_TOKEN,
                      **week_params(week)))[0] == 200
    status, body = await get(analytics, "/api/v1/report", token=OTHER_TOKEN, **week_params(week))
    assert status == 403 and SHOP in body["detail"]
    status, _ = await get(analytics, "/api/v1/series", token=OTHER_TOKEN,
                          **week_params(week, metric="messages"))
    assert status == 403
    assert (await get(analytics, "/api/v1/report", token=None, **week_params(week)))[0] == 401
    assert (await get(analytics, "/api/v1/report", token="guess", **week_params(week)))[0] == 401
    assert (await get(analytics, "/api/v1/shops", token=OTHER_TOKEN))[1] == {"shops": [OTHER]}
    status, shops = await get(analytics, "/api/v1/shops")
    assert {SHOP, OTHER} <= set(shops["shops"])


async def test_sql_is_read_only_and_for_the_admin_token(analytics):
    query = {"query": f"SELECT count() AS rounds FROM rounds FINAL WHERE shop_id = '{SHOP}'"}
    async with aiohttp.ClientSession() as http:
        async def post(token: str, body: dict) -> tuple[int, dict]:
            async with http.post(analytics.base_url + "/api/v1/sql", json=body,
                                 headers={"Authorization": f"Bearer {token}"}) as resp:
                return resp.status, await resp.json()

        assert await post(ADMIN, query) == (200, {"columns": ["rounds"], "types": ["UInt64"],
                                                  "rows": [[14]]})
        assert (await post(ORACLE_TOKEN, query))[0] == 403
        status, body = await post(ADMIN, {"query": "INSERT INTO rounds (shop_id) VALUES ('x')"})
        assert status == 400 and "readonly" in body["detail"].lower()
        status, body = await post(ADMIN, {"query": "SELECT * FROM file('/etc/hostname')"})
        assert status == 400 and "readonly" in body["detail"].lower()


async def test_a_record_it_cannot_read_goes_to_the_dlq(analytics, kafka):
    letters = await kafka.collect("kefu.dlq", lambda body, rec: body.get("service") == "analytics")
    assert letters, "no dead letter from analytics"
    assert {(b["reason"], b["source_topic"], b["raw"]) for b, _ in letters} == {
        ("invalid_json", "kefu.escalations", BAD_RECORD.decode())}


async def kefu(capsys, *argv: str) -> tuple[int, str, str]:
    """`kefu ...` in a thread (the service under test answers on this event loop)."""
    def run() -> int:
        try:
            return main(list(argv))
        except SystemExit as exc:
            return int(exc.code)

    code = await asyncio.to_thread(run)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_kefu_report_prints_the_same_figures_as_table_csv_and_json(analytics, week,
                                                                          capsys):
    api = ["--api", analytics.base_url, "--token", ADMIN, "--shop", SHOP,
           "--from", week.monday.isoformat(), "--to", week.at("sun", "00:00:00").date().isoformat()]
    code, out, _ = await kefu(capsys, "report", *api, "--format", "json")
    assert code == 0
    assert_week(json.loads(out), week)
    code, out, _ = await kefu(capsys, "report", *api, "--by", "role", "--format", "csv")
    assert out.splitlines() == [
        "role,rounds,answered,within_3m_rate,p50_s,p90_s,mean_s",
        "presale,10,8,0.7,120.0,184.0,120.0",
        "aftersale,4,4,0.5,115.0,222.0,122.5"]
    code, out, _ = await kefu(capsys, "report", *api, "--by", "item")
    assert code == 0
    assert "羊毛针织开衫" in out and "first response" in out and "near misses 2" in out
    code, out, _ = await kefu(capsys, "sql", "--api", analytics.base_url, "--token", ADMIN,
                              "--format", "csv", f"SELECT count() AS n FROM rounds FINAL "
                              f"WHERE shop_id = '{SHOP}'")
    assert (code, out) == (0, "n\n14\n")


async def test_kefu_report_mistakes_say_what_was_wrong(analytics, capsys):
    base = ["--api", analytics.base_url, "--shop", SHOP]
    code, _, err = await kefu(capsys, "report", *base, "--token", ADMIN, "--from", "2026-13-01")
    assert code == 2 and "from: '2026-13-01'" in err
    code, _, err = await kefu(capsys, "report", *base, "--token", OTHER_TOKEN)
    assert code == 2 and "does not see shop" in err
    code, _, err = await kefu(capsys, "sql", "--api", analytics.base_url, "--token", ADMIN,
                              "DROP TABLE rounds")
    assert code == 2 and "readonly" in err.lower()


async def test_the_service_documents_its_api_and_reports_its_store_in_readyz(analytics):
    status, doc = await get(analytics, "/api/v1/openapi.json", token=None)
    assert status == 200
    assert {"/api/v1/report", "/api/v1/series", "/api/v1/sql", "/api/v1/shops"} <= set(
        doc["paths"])
    assert "within_3m_rate" in json.dumps(doc["components"])
    status, ready = await get(analytics, "/readyz", token=None)
    assert status == 200 and ready["checks"]["store"] is True
