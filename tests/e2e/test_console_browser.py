"""The supervisor console in a real browser (Debian's Chromium through Playwright),
against the real console, router, presale, analytics, broker and Redis: log in; the
queue and the countdown move without a reload; an acknowledged escalation never reaches
level 3; a reassignment moves the conversation; a published script rides on the next
routed buyer message; one shop's supervisor never sees another's; a POST without its
CSRF token is refused. Screenshots of the board and the heatmap are saved."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, async_playwright, expect
from redis.asyncio import Redis

from contracts import topics
from services.console.users import Users
from services.router.reply_scripts import scripts_key
from tests.conftest import unique
from tests.e2e import role_replica as r
from tests.support.browser import FLAGS, artifact, chromium
from tests.support.kafka_io import wait_until
from tests.support.services import running

pytestmark = pytest.mark.e2e
TOKEN = "analytics-admin-token-for-tests"
PASSWORD = "correct-horse-9"
CLOCK = re.compile(r"^-?\d+:\d\d$")
POLICY = r.POLICY.replace("presale: {first_response: 2s, next_response: 2s}",
                          "presale: {first_response: 8s, next_response: 8s}")


@pytest.fixture(scope="module")
async def console_url(stack, kafka, chdb_dir, tmp_path_factory):
    policy = r.write_policy(tmp_path_factory.mktemp("console"), POLICY)
    analytics = stack.settings(policy_file=policy, analytics_data_dir=chdb_dir,
                               analytics_database=unique("console").replace("-", "_"),
                               analytics_token=TOKEN)
    console = stack.settings(policy_file=policy, analytics_token=TOKEN,
                             analytics_api=f"http://127.0.0.1:{analytics.http_port}",
                             console_secret="console-secret-for-tests")
    async with running("router", stack.settings(policy_file=policy)), \
            running("presale", stack.settings(policy_file=policy)), \
            running("analytics", analytics), running("console", console):
        yield f"http://127.0.0.1:{console.http_port}"


@pytest.fixture(scope="module")
async def redis(stack):
    client = Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def browser():
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium(), args=FLAGS,
                                                    headless=True)
        yield launched
        await launched.close()


async def supervisor(redis, role: str = "supervisor") -> tuple[str, str]:
    """A new shop and its user."""
    shop, name = unique("shop"), unique("sup")
    await Users(redis).add(name, PASSWORD, role, [shop])
    return shop, name


async def log_in(browser, url: str, name: str, lang: str = "en") -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(f"{url}/login?lang={lang}")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#queues h2")).to_be_visible()
    await page.evaluate("window.notReloaded = true")
    return page


async def still_the_same_page(page: Page) -> None:
    assert await page.evaluate("window.notReloaded === true"), "the page was reloaded"


async def say(kafka, shop: str, conv: str, text: str = "这件有现货吗") -> None:
    await kafka.send(topics.INBOUND, r.envelope("buyer.message", shop, {
        "conversation_id": conv, "buyer_id": unique("b"), "message_id": unique("m"),
        "text": text}), conv)


async def online(kafka, shop: str, agent: str, max_concurrent: int) -> None:
    await kafka.send(topics.INBOUND, r.status(shop, agent, "online", max_concurrent,
                                               roles=("presale",)), agent)


async def test_a_wrong_password_is_refused(console_url, browser, redis):
    _, name = await supervisor(redis)
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{console_url}/login?lang=en")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", "not-the-password")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_have_text("Wrong user or password")


async def test_the_queue_and_the_countdown_move_without_a_reload(console_url, browser, redis,
                                                                   kafka):
    shop, name = await supervisor(redis)
    page = await log_in(browser, console_url, name, lang="zh-CN")
    waiting = page.locator('#queues tr[data-role="presale"] .waiting')
    await expect(waiting).to_have_text("0")
    conv = unique("c")
    await say(kafka, shop, conv)
    await expect(waiting).to_have_text("1")
    countdown = page.locator(f'#near tr[data-conversation="{conv}"] .countdown')
    await expect(countdown).to_have_text(CLOCK)
    first = await countdown.text_content()
    await expect(countdown).not_to_have_text(first)
    await page.screenshot(path=artifact("console-board.png"), full_page=True)
    await online(kafka, shop, "agent-lin", 2)
    await expect(waiting).to_have_text("0")
    await expect(page.locator(f'#near tr[data-conversation="{conv}"] .holder')).to_have_text(
        "agent-lin")
    await still_the_same_page(page)


async def test_an_acknowledged_escalation_never_reaches_level_3(console_url, browser, redis,
                                                                kafka):
    shop, name = await supervisor(redis)
    page = await log_in(browser, console_url, name)
    acked, control = unique("c"), unique("c")
    await say(kafka, shop, acked)
    await say(kafka, shop, control)
    breach = page.locator(f'#escalations tr[data-subject="{acked}"][data-level="2"]')
    await breach.get_by_role("button", name="Acknowledge").click()
    await expect(breach).to_contain_text(f"taken by {name}")
    await expect(page.locator(f'#escalations tr[data-subject="{control}"][data-level="3"]')
                 ).to_have_count(1, timeout=30_000)
    await expect(page.locator(f'#escalations tr[data-subject="{acked}"][data-level="3"]')
                 ).to_have_count(0)
    on_topic = await kafka.collect(
        topics.ESCALATIONS, lambda b, _r: b["subject"]["id"] == acked, count=2, settle=0.5)
    assert sorted(b["level"] for b, _ in on_topic) == [1, 2]
    await still_the_same_page(page)


async def test_a_reassignment_moves_the_conversation(console_url, browser, redis, kafka):
    shop, name = await supervisor(redis)
    page = await log_in(browser, console_url, name)
    await online(kafka, shop, "agent-lin", 1)
    await online(kafka, shop, "agent-zhou", 2)
    agents = page.locator("#agents tr[data-agent]")
    await expect(agents).to_have_count(2)
    conv = unique("c")
    await say(kafka, shop, conv)
    holder = page.locator(f'#near tr[data-conversation="{conv}"] .holder')
    await expect(holder).to_have_text("agent-zhou")  # the most free capacity
    row = page.locator(f'#near tr[data-conversation="{conv}"]')
    await row.locator("select").select_option("agent-lin")
    await row.get_by_role("button", name="Reassign").click()
    await expect(holder).to_have_text("agent-lin")
    moved = await kafka.collect(topics.ASSIGNMENTS, lambda b, _r: b["conversation_id"] == conv
                                and b["reason"] == "reassigned_by_supervisor")
    assert [b["agent_id"] for b, _ in moved] == ["agent-lin"]
    await still_the_same_page(page)


async def test_a_published_script_rides_on_the_next_buyer_message(console_url, browser, redis,
                                                                  kafka):
    shop, name = await supervisor(redis)
    page = await log_in(browser, console_url, name)
    await page.click("text=Reply scripts")
    await page.select_option("select[name=intent]", "urge_shipment")
    await page.select_option("select[name=locale]", "zh-CN")
    await page.fill("textarea[name=text]", "亲，双十一订单48小时内发出～")
    await page.get_by_role("button", name="Publish").click()
    listed = page.locator("#script-list tr[data-script]")
    await expect(listed).to_contain_text("亲，双十一订单48小时内发出～")
    script_id = await listed.get_attribute("data-script")
    assert await wait_until(lambda: redis.hexists(scripts_key(shop), script_id)), \
        "the router keeps the script"
    conv = unique("c")
    await say(kafka, shop, conv, "什么时候发货呀")
    [(routed, _)] = await kafka.collect(
        topics.ROLE_PRESALE, lambda b, _r: b["payload"].get("conversation_id") == conv)
    assert routed["routing"]["suggested_replies"] == [
        {"script_id": script_id, "text": "亲，双十一订单48小时内发出～"}]


async def test_a_supervisor_never_sees_another_shop(console_url, browser, redis, kafka):
    shop_a, name_a = await supervisor(redis)
    shop_b, _ = await supervisor(redis)
    secret_conv = unique("c")
    await say(kafka, shop_b, secret_conv)
    page = await log_in(browser, console_url, name_a)
    assert await page.locator("select[name=shop] option").all_text_contents() == [shop_a]
    response = await page.goto(f"{console_url}/?shop={shop_b}")
    assert response.status == 403
    api = await page.request.get(f"{console_url}/api/v1/live?shop={shop_b}")
    assert api.status == 403
    mine = await page.request.get(f"{console_url}/api/v1/live?shop={shop_a}")
    assert mine.status == 200 and secret_conv not in await mine.text()
    stream = await page.request.get(f"{console_url}/live/stream?shop={shop_b}")
    assert stream.status == 403


async def test_a_post_without_its_csrf_token_is_refused(console_url, browser, redis, kafka):
    shop, name = await supervisor(redis)
    page = await log_in(browser, console_url, name)
    form = {"shop": shop, "intent": "greeting", "locale": "en", "text": "Hello!"}
    refused = await page.request.post(f"{console_url}/scripts", form=form)
    assert refused.status == 403
    token = await page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))"
                                "['X-CSRF-Token']")
    wrong = await page.request.post(f"{console_url}/scripts", form=form,
                                    headers={"X-CSRF-Token": token[::-1]})
    assert wrong.status == 403
    accepted = await page.request.post(f"{console_url}/scripts", form=form,
                                       headers={"X-CSRF-Token": token}, max_redirects=0)
    assert accepted.status == 303


async def test_an_analyst_reads_but_cannot_act(console_url, browser, redis, kafka):
    shop, name = await supervisor(redis, role="analyst")
    page = await log_in(browser, console_url, name)
    await expect(page.locator("header")).to_contain_text("read-only")
    token = await page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))"
                                "['X-CSRF-Token']")
    refused = await page.request.post(
        f"{console_url}/actions/reassign", headers={"X-CSRF-Token": token},
        form={"shop": shop, "role": "presale", "conversation_id": "c1", "to_agent_id": "a1"})
    assert refused.status == 403


async def test_the_charts_draw_the_heatmap_and_say_when_analytics_is_away(console_url, browser,
                                                                          redis, kafka):
    shop, name = await supervisor(redis)
    for _ in range(3):
        await say(kafka, shop, unique("c"))
    page = await log_in(browser, console_url, name)

    async def ingested() -> bool:
        answer = await page.request.get(f"{console_url}/api/v1/charts?shop={shop}")
        return answer.ok and sum(c["messages"] for c in (await answer.json())["report"][
            "heatmap"]) == 3

    assert await wait_until(ingested, timeout=60), "analytics has the shop's messages"
    await page.goto(f"{console_url}/charts?shop={shop}")
    await expect(page.locator("#charts")).to_have_attribute("data-drawn", "1")
    await expect(page.locator("#chart-heatmap canvas").first).to_be_visible()
    await page.screenshot(path=artifact("console-heatmap.png"), full_page=True)
    await page.route("**/api/v1/charts?*", lambda route: route.fulfill(
        status=503, json={"error": "analytics_down"}))
    await page.reload()
    await expect(page.get_by_role("alert")).to_contain_text("Analytics service not running")
