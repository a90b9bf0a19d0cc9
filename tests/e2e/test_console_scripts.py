"""The console's reply-script editor lists what the router will suggest, against the real
broker, Redis, router and console: a script an integrator published straight to
`kefu.inbound` is listed and can be edited and retired from the console (the router then
drops it); a console script an integrator retired is not listed again; another shop's
supervisor sees none of it."""

from __future__ import annotations

import html
import re

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from contracts import example, topics
from services.console import keys
from services.console.users import Users
from services.router.reply_scripts import scripts_key
from tests.conftest import unique
from tests.support.console_client import signed_in
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e
PASSWORD = "correct-horse-9"
ROW = re.compile(r'<tr data-script="([^"]*)"><td>([^<]*)</td><td>([^<]*)</td>'
                 r'<td>([^<]*)</td><td>([^<]*)</td>')


@pytest.fixture(scope="module")
async def console_url(stack, kafka):
    console = stack.settings(console_secret="console-secret-for-tests")
    async with running("router", stack.settings()), running("console", console):
        yield f"http://127.0.0.1:{console.http_port}"


@pytest.fixture
async def redis(stack):
    client = Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


class Supervisor:
    """One shop's supervisor at the console's script editor, over plain HTTP."""

    def __init__(self, client: httpx.AsyncClient, shop: str, name: str) -> None:
        self.client, self.shop, self.name = client, shop, name

    async def editor(self) -> dict[str, dict]:
        """The scripts the editor lists: script id -> intent, locale, text, by."""
        page = await self.client.get("/scripts", params={"shop": self.shop})
        page.raise_for_status()
        return {m[0]: dict(zip(("intent", "locale", "text", "by"),
                               map(html.unescape, m[1:]), strict=True))
                for m in ROW.findall(page.text)}

    async def lists(self, script_id: str, text: str | None) -> bool:
        """Does the editor list the script with this text (None: not at all)?"""
        found = (await self.editor()).get(script_id)
        return found is None if text is None else found is not None and found["text"] == text

    async def post(self, path: str, **form) -> httpx.Response:
        """A POST from the editor's form; `shop` defaults to the supervisor's own."""
        page = await self.client.get("/scripts", params={"shop": self.shop})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return await self.client.post(path, data={"shop": self.shop, "csrf_token": token,
                                                  **form})


@pytest.fixture
async def supervisor(console_url, redis):
    shop, name = unique("shop"), unique("sup")
    await Users(redis).add(name, PASSWORD, "supervisor", [shop])
    async with httpx.AsyncClient(base_url=console_url) as client:
        await signed_in(client, name, PASSWORD)
        yield Supervisor(client, shop, name)


async def integrator_publishes(kafka, shop: str, script_id: str, text: str,
                               retired: bool = False) -> None:
    body = example("reply_script.published", event_id=unique("e"), shop_id=shop,
                   payload={"script_id": script_id, "intent": "urge_shipment",
                            "locale": "zh-CN", "text": text, "by": "erp-sync",
                            "retired": retired})
    await kafka.send(topics.INBOUND, body, script_id)


async def router_suggests(redis: Redis, shop: str, script_id: str, text: str | None) -> bool:
    """Does the router hold the script with this text (None: not at all)?"""
    stored = await redis.hget(scripts_key(shop), script_id)
    return (orjson.loads(stored)[2] if stored else None) == text


async def test_an_integrators_script_is_listed_and_retiring_it_makes_the_router_drop_it(
        supervisor, kafka, redis):
    script_id = unique("s")
    await integrator_publishes(kafka, supervisor.shop, script_id, "亲，48小时内发货哦")
    assert await wait_until(lambda: supervisor.lists(script_id, "亲，48小时内发货哦")), \
        "the editor lists the integrator's script"
    assert (await supervisor.editor())[script_id]["intent"] == "urge_shipment"
    retired = await supervisor.post("/scripts/retire", script_id=script_id)
    assert retired.status_code == 303
    assert await supervisor.lists(script_id, None), "gone from the editor at once"
    assert await wait_until(lambda: router_suggests(redis, supervisor.shop, script_id, None)), \
        "the router drops it"
    assert await supervisor.lists(script_id, None), "and it does not come back"
    assert await wait_until(lambda: retirement_settled(supervisor, redis, script_id)), \
        "once the router has read the retirement, the console keeps no copy of it"


async def retirement_settled(supervisor: Supervisor, redis: Redis, script_id: str) -> bool:
    await supervisor.editor()  # the editor's listing settles what the router has read
    return not await redis.hexists(keys.scripts(supervisor.shop), script_id)


async def test_an_integrators_script_edited_in_the_console_is_suggested_as_edited(
        supervisor, kafka, redis):
    script_id = unique("s")
    await integrator_publishes(kafka, supervisor.shop, script_id, "48小时内发货")
    assert await wait_until(lambda: supervisor.lists(script_id, "48小时内发货"))
    edited = await supervisor.post("/scripts", script_id=script_id, intent="urge_shipment",
                                   locale="zh-CN", text="亲，今天下单明天发")
    assert edited.status_code == 303
    listed = (await supervisor.editor())[script_id]
    assert (listed["text"], listed["by"]) == ("亲，今天下单明天发", supervisor.name)
    assert await wait_until(
        lambda: router_suggests(redis, supervisor.shop, script_id, "亲，今天下单明天发")), \
        "the router suggests the edited text under the same script"
    listed = (await supervisor.editor())[script_id]
    assert (listed["text"], listed["by"]) == ("亲，今天下单明天发", supervisor.name)


async def test_a_console_script_an_integrator_retired_is_not_listed_again(
        supervisor, kafka, redis):
    text = "双十一订单72小时内发出"
    published = await supervisor.post("/scripts", intent="urge_shipment", locale="zh-CN",
                                      text=text)
    assert published.status_code == 303
    [script_id] = [s for s, found in (await supervisor.editor()).items() if found["text"] == text]
    assert await wait_until(lambda: router_suggests(redis, supervisor.shop, script_id, text))
    await integrator_publishes(kafka, supervisor.shop, script_id, text, retired=True)
    assert await wait_until(lambda: router_suggests(redis, supervisor.shop, script_id, None))
    assert await wait_until(lambda: supervisor.lists(script_id, None)), \
        "the router no longer suggests it, so the editor no longer lists it"


async def test_another_shops_supervisor_sees_none_of_its_scripts(supervisor, kafka, redis,
                                                                 console_url):
    script_id = unique("s")
    await integrator_publishes(kafka, supervisor.shop, script_id, "只给本店看")
    assert await wait_until(lambda: supervisor.lists(script_id, "只给本店看"))
    other_shop, other_name = unique("shop"), unique("sup")
    await Users(redis).add(other_name, PASSWORD, "supervisor", [other_shop])
    async with httpx.AsyncClient(base_url=console_url) as client:
        await signed_in(client, other_name, PASSWORD)
        other = Supervisor(client, other_shop, other_name)
        assert script_id not in await other.editor()
        peek = await client.get("/scripts", params={"shop": supervisor.shop})
        assert peek.status_code == 403
        retire = await other.post("/scripts/retire", script_id=script_id)
        assert retire.status_code == 404, "not a script of the shop the supervisor acts on"
        foreign = await other.post("/scripts/retire", shop=supervisor.shop,
                                   script_id=script_id)
        assert foreign.status_code == 403
    assert await supervisor.lists(script_id, "只给本店看")
