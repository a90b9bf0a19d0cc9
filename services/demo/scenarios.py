"""The demo's stories: one shop hour of three shops, as pure, seeded generators (no I/O).

`shop_hour(seed=..., run_id=...)` returns the stories of one hour; each story is a list
of (offset in shop seconds, inbound event dict). Every event is valid under
`contracts.parse_inbound`, except the one story with `valid=False` (a naive timestamp,
so the DLQ has something to show). Ids contain `run_id`, so runs never collide; the
same `seed` and `run_id` give the same events.

Deadlines in payloads (`promised_ship_by`, `new_ship_by`, `respond_by`) are shop time
too: the feed compresses them with the story, so a 48 h ship-by clock runs out in 48
real minutes at speed 60.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .cast import AGENTS, BEAUTY, CHEN, CLOTHES, LIN, MEI, SUN, TECH, WANG, ZHAO, ZHOU
from .catalogue import CATALOGUE, Carrier, Listing
from .story import HOUR, RunContext, Shop, Story, StoryBuilder

DEFAULT_START = datetime.fromisoformat("2026-11-22T09:00:00+08:00")
"""Shop clock of offset 0 in generated events (the feed re-stamps them with real time)."""

SWEATER, COAT, DOWN, EARBUDS, SSD, EARBUDS_BLACK, LIPSTICK = map(CATALOGUE.listing, (
    "sweater-gray-M", "coat-camel-L", "down-black-S", "tws-pro2-white", "ssd-2tb-nvme",
    "tws-pro2-black", "lip-rouge-07"))
"""The demo shops' items the stories talk about (their titles and prices: the catalogue)."""
ZTO, YTO, SF_EXPRESS, JD_LOGISTICS = map(CATALOGUE.carrier, ("ZT", "YT", "SF", "JDV"))


def shift_start(shop: Shop) -> Callable[[RunContext, float], Story]:
    """The agents of `shop` log in at the start of the hour."""

    def make(ctx: RunContext, at: float) -> Story:
        agents = AGENTS[shop.shop_id]
        team = ", ".join(f"{a.name} ({'+'.join(a.roles)}, max {a.max_concurrent})" for a in agents)
        b = StoryBuilder(ctx, shop, f"shift-start-{shop.shop_id}",
                         f"{shop.shop_id} on {shop.platform} opens: {team}", at)
        for agent in agents:
            b.agent_status(agent, "online")
            b.after(1, 5)
        return b.story

    return make


def agent_break(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "agent-break",
                     "agent 小林 goes away for a break on shop-demo", at)
    b.agent_status(LIN, "away")
    b.after(540, 660)
    b.agent_status(LIN, "online")
    return b.story


def size_question(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "size-question",
                     "buyer 小李 asks about sweater sizes on shop-demo", at)
    conv, buyer = ctx.new_id("conv"), "buyer-tb-xiaoli"
    b.buyer_says(conv, buyer, b.pick("亲，在吗？", "你好～在吗", "在不在呀"))
    b.after(15, 40).agent_says(conv, LIN, "在的亲，欢迎光临暖阳女装～有什么可以帮您？")
    b.after(30, 60).buyer_says(conv, buyer, b.pick(
        "这件羊毛开衫我身高165体重110斤，穿M还是L？会不会起球？",
        "165cm 110斤穿什么码？这个开衫洗了会缩水吗"), item=SWEATER)
    b.after(30, 70).agent_says(conv, LIN, "亲，165/110斤建议M码，版型偏宽松～95%羊毛，"
                               "正常穿着不易起球，手洗不缩水哦")
    b.after(60, 120).buyer_says(conv, buyer, "灰色M还有货吗？今天拍什么时候发？", item=SWEATER)
    b.after(20, 50).agent_says(conv, LIN, "有货的亲，16点前付款当天发出，默认中通快递～")
    b.after(20, 40).buyer_says(conv, buyer, "好嘞，拍了👍")
    order = b.new_order(buyer, SWEATER)
    b.after(10, 30).place_and_pay(order)
    b.after(40, 90).close(conv, LIN.agent_id)
    b.after(500, 800)
    tracking = b.ship(order, ZTO)
    b.after(250, 350).scan(order, tracking, "in_transit", "快件已到达【杭州转运中心】",
                           "浙江省杭州市")
    b.after(400, 500).scan(order, tracking, "in_transit", "快件已到达【上海转运中心】", "上海市")
    b.after(300, 400).scan(order, tracking, "out_for_delivery",
                           "快递员王师傅正在派件（电话138****5678）", "上海市浦东新区")
    b.after(200, 300).scan(order, tracking, "delivered", "已签收，签收人：本人", "上海市浦东新区")
    b.after(60, 120).review(order, 5, b.pick(
        "质量很好，尺码标准，客服小林很耐心，推荐！",
        "面料很软很暖和，发货也快，五星好评⭐⭐⭐⭐⭐"))
    return b.story


def bargaining(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "bargaining",
                     "buyer 阿珍 bargains on shop-demo (the reply comes late)", at)
    conv, buyer = ctx.new_id("conv"), "buyer-tb-azhen"
    b.buyer_says(conv, buyer, b.pick("老板，羽绒服两件能便宜点吗？有没有优惠券😊",
                                     "亲 买两件打折吗？送不送运费险呀"), item=DOWN)
    b.after(200, 260).agent_says(conv, ZHOU, "亲，久等啦～店铺满599减60，再送一双羊毛袜哦")
    b.after(30, 90).buyer_says(conv, buyer, "能再少20吗？少的话我现在就拍")
    b.after(50, 100).agent_says(conv, ZHOU, "亲，已经是活动最低价啦，给您备注优先发货好吗？")
    b.after(30, 60).buyer_says(conv, buyer, "那好吧，我先加购物车想想")
    b.after(240, 360).close(conv, "system")
    return b.story


def address_change(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "address-change",
                     "buyer 陳小姐 (繁體) changes her address on shop-demo", at)
    conv, buyer = ctx.new_id("conv"), "buyer-tb-chanhk"
    b.buyer_says(conv, buyer, b.pick("請問這件大衣可以寄到香港嗎？運費多少？",
                                     "你好，這款大衣有沒有現貨？可以寄香港嗎？"), item=COAT)
    b.after(30, 60).agent_says(conv, LIN, "亲，可以的～香港走顺丰，运费25元，3-5天送达哦")
    b.after(40, 80).buyer_says(conv, buyer, "好的，我現在下單。")
    order = b.new_order(buyer, COAT)
    b.after(20, 40).place_and_pay(order)
    b.after(240, 360).buyer_says(conv, buyer, "不好意思，收貨地址寫錯了，可以幫我改成九龍旺角"
                                 "彌敦道的地址嗎？", order=order)
    b.after(40, 80).agent_says(conv, LIN, "没问题亲，已为您修改地址，请在订单页确认新地址哦")
    b.after(10, 20).emit("order.changed", order_id=order.order_id, change="address",
                         awaiting_buyer_confirmation=True)
    b.after(120, 240).buyer_says(conv, buyer, "已確認新地址，謝謝你們 🙏", order=order)
    b.after(20, 40).agent_says(conv, LIN, "不客气亲，今天就给您安排发出～")
    b.after(30, 60).close(conv, LIN.agent_id)
    b.after(300, 500)
    tracking = b.ship(order, SF_EXPRESS)
    b.after(300, 400).scan(order, tracking, "in_transit", "快件已从深圳发往香港", "广东省深圳市")
    return b.story


def urge_and_delay(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "urge-shipment",
                     "buyer 大刘 urges shipment on shop-demo (out of stock: delayed)",
                     at)
    conv, buyer = ctx.new_id("conv"), "buyer-tb-daliu"
    order = b.new_order(buyer, COAT)
    b.place_and_pay(order, ship_within_hours=24)
    b.after(600, 800).buyer_says(conv, buyer, b.pick(
        "我上午就付款了，怎么还没发货？？能不能快点，周末要穿的", "催一下发货！！什么时候能发？"),
        order=order)
    b.after(60, 100).agent_says(conv, ZHOU, "亲，非常抱歉，驼色L码临时缺货，仓库正在加急补货")
    b.after(20, 40).emit("order.delayed", order_id=order.order_id,
                         reason="驼色L码缺货，厂家补货中", new_ship_by=b.deadline(72))
    b.after(30, 60).buyer_says(conv, buyer, "那我再等等吧，别再拖了", order=order)
    b.after(20, 40).agent_says(conv, ZHOU, "好的亲，补货到了第一时间给您发顺丰，"
                               "再补偿您一张10元无门槛券～")
    b.after(60, 120).close(conv, ZHOU.agent_id)
    return b.story


def pilling_return(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "return-refund",
                     "buyer 小美 returns a pilling sweater on shop-demo", at)
    conv, buyer = ctx.new_id("conv"), "buyer-tb-xiaomei"
    order = _delivered_order(b, buyer, SWEATER, ZTO)
    b.after(60, 120).buyer_says(conv, buyer, b.pick(
        "衣服才穿一次就起球了，质量太差了，我要退货退款", "开衫洗了一次就起球，能退吗？"),
        order=order, image=True)
    b.after(50, 110).agent_says(conv, CHEN, "亲，非常抱歉给您带来不好的体验，麻烦您在订单页申请"
                                "退货退款，运费由我们承担")
    b.after(60, 120)
    case = b.case(order, "return_refund", "质量问题：起球")
    b.after(120, 240).case_update(case, order, "agreed")
    b.after(30, 60).close(conv, CHEN.agent_id)
    b.after(400, 600).case_update(case, order, "returned_goods_received")
    b.after(120, 240).case_update(case, order, "refunded")
    return b.story


def left_waiting(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, CLOTHES, "left-waiting",
                     "buyer 小雨 asks about a down jacket on shop-demo; nobody answers (SLA)", at)
    conv, buyer = ctx.new_id("conv"), "buyer-tb-xiaoyu"
    b.buyer_says(conv, buyer, "在吗？这款羽绒服有黑色S码吗？", item=DOWN)
    b.after(80, 120).buyer_says(conv, buyer, "还有人吗？？")
    return b.story


def english_earbuds(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, TECH, "english-buyer",
                     "buyer Tom asks about earbuds (English) on shop-tech", at)
    conv, buyer = ctx.new_id("conv"), "buyer-jd-tom"
    b.buyer_says(conv, buyer, b.pick(
        "Hi! Do these wireless earbuds work with both iPhone and Android? Battery life?",
        "hello, are the Pro2 earbuds noise cancelling? how long does the battery last?"),
        item=EARBUDS)
    b.after(20, 50).agent_says(conv, WANG, "Hello! Yes, Bluetooth 5.3 works with both. About 8 h "
                               "per charge, 32 h with the case.")
    b.after(40, 80).buyer_says(conv, buyer, "Nice. Any discount if I buy two? Free case maybe?")
    b.after(40, 80).agent_says(conv, WANG, "We can do 5% off for two pairs plus a free silicone "
                               "case 🎁")
    b.after(30, 60).buyer_says(conv, buyer, "Deal, ordering now.")
    order = b.new_order(buyer, EARBUDS, quantity=2)
    b.after(20, 40).order_event("order.created", order)
    b.after(180, 300).buyer_says(conv, buyer, "Sorry, wrong colour! Please cancel it, I'll "
                                 "reorder in black.", order=order)
    b.after(30, 60).agent_says(conv, WANG, "No problem, the order is cancelled. Place a new one "
                               "in black and the discount still applies.")
    b.after(10, 20).emit("order.cancelled", order_id=order.order_id,
                         reason="buyer ordered the wrong colour")
    b.after(30, 60).close(conv, WANG.agent_id)
    return b.story


def stalled_parcel(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, TECH, "stalled-parcel",
                     "buyer 王先生's parcel stalls in Wuhan on shop-tech",
                     at)
    conv, buyer = ctx.new_id("conv"), "buyer-jd-wang"
    order = b.new_order(buyer, SSD)
    b.place_and_pay(order)
    b.after(300, 500)
    tracking = b.ship(order, JD_LOGISTICS)
    b.after(200, 300).scan(order, tracking, "in_transit", "您的快件已从【北京亚洲一号仓】发出",
                           "北京市大兴区")
    b.after(400, 600).scan(order, tracking, "in_transit", "快件已到达【武汉分拣中心】",
                           "湖北省武汉市")
    b.after(900, 1200).buyer_says(conv, buyer, b.pick(
        "我的快递在武汉分拣中心一直没动，什么时候能到？", "物流好久没更新了，查一下我的快递在哪"),
        order=order)
    b.after(40, 90).agent_says(conv, SUN, "您好，已为您联系京东物流核实，有进展第一时间通知您")
    b.after(30, 60).buyer_says(conv, buyer, "好的，麻烦尽快", order=order)
    b.after(60, 120).close(conv, SUN.agent_id)
    return b.story


def broken_complaint(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, TECH, "complaint",
                     "buyer 刘女士 gets broken earbuds on shop-tech and threatens a bad review", at)
    conv, buyer = ctx.new_id("conv"), "buyer-jd-liu"
    order = b.new_order(buyer, EARBUDS_BLACK)
    b.place_and_pay(order)
    b.after(120, 240)
    tracking = b.ship(order, JD_LOGISTICS)
    b.after(120, 240).scan(order, tracking, "in_transit", "您的快件已从【广州亚洲一号仓】发出",
                           "广东省广州市")
    b.after(200, 300).scan(order, tracking, "exception", "外包装破损，已在分拣中心重新加固",
                           "广东省东莞市")
    b.after(200, 300).scan(order, tracking, "out_for_delivery", "配送员正在为您派件",
                           "深圳市南山区")
    b.after(120, 200).scan(order, tracking, "delivered", "您的快件已签收", "深圳市南山区")
    b.after(60, 120).buyer_says(conv, buyer, "收到的耳机外壳是碎的，左耳也没声音！", order=order,
                                image=True)
    b.after(20, 40)
    case = b.case(order, "refund_only", "商品破损：外壳碎裂，左耳无声")
    b.after(210, 270).buyer_says(conv, buyer, b.pick(
        "等了这么久都没人回？再不退款我就给差评，还要投诉到平台和消协！",
        "客服呢？？不处理我马上差评+投诉！"), order=order)
    b.after(60, 120).agent_says(conv, ZHAO, "非常抱歉让您久等了！已为您加急处理退款，"
                                "破损耳机无需寄回")
    b.after(60, 120).case_update(case, order, "platform_intervened")
    b.after(120, 240).case_update(case, order, "refunded")
    b.after(30, 60).close(conv, ZHAO.agent_id)
    b.after(60, 120).review(order, 1, "快递破损，客服回复慢，差评！")
    return b.story


def seven_day_return(ctx: RunContext, at: float) -> Story:
    b = StoryBuilder(ctx, BEAUTY, "seven-day-return",
                     "buyer 林小姐 (繁體) returns a lipstick on shop-live (7-day return)",
                     at)
    conv, buyer = ctx.new_id("conv"), "buyer-dy-lam"
    order = _delivered_order(b, buyer, LIPSTICK, YTO)
    b.after(60, 120).buyer_says(conv, buyer, b.pick(
        "這支口紅色號不適合我，還沒拆封，可以七天無理由退貨嗎？",
        "您好，口紅顏色跟直播間看到的不一樣，可以退嗎？"), order=order)
    b.after(20, 50).agent_says(conv, MEI, "可以的亲～在订单页申请七天无理由退货，"
                               "运费险会自动理赔哦")
    b.after(60, 120)
    case = b.case(order, "return_refund", "七天无理由退货")
    b.after(60, 120).case_update(case, order, "agreed")
    b.after(20, 40).buyer_says(conv, buyer, "收到，謝謝！", order=order)
    b.after(30, 60).close(conv, "buyer")
    return b.story


def naive_timestamp(ctx: RunContext, at: float) -> Story:
    """The deliberately invalid event: `occurred_at` without offset -> DLQ naive_timestamp."""
    b = StoryBuilder(ctx, CLOTHES, "invalid-event",
                     "one deliberately INVALID event (occurred_at without offset): "
                     "expect it on kefu.dlq as naive_timestamp", at)
    event = b.buyer_says(ctx.new_id("conv"), "buyer-tb-legacy", "你好，这个还有货吗？")
    event["occurred_at"] = event["occurred_at"][:19]  # strip the offset
    b.story.valid = False
    return b.story


def _delivered_order(b: StoryBuilder, buyer: str, item: Listing, carrier: Carrier):
    """An order bought a few days ago in shop terms, told in quick succession."""
    order = b.new_order(buyer, item)
    b.place_and_pay(order)
    b.after(60, 120)
    tracking = b.ship(order, carrier)
    b.after(60, 120).scan(order, tracking, "delivered", "已签收，签收人：快递柜")
    return order


STORIES: tuple[tuple[float, Callable[[RunContext, float], Story]], ...] = (
    (0, shift_start(CLOTHES)),
    (5, shift_start(TECH)),
    (10, shift_start(BEAUTY)),
    (60, size_question),
    (120, english_earbuds),
    (300, bargaining),
    (420, stalled_parcel),
    (600, address_change),
    (900, urge_and_delay),
    (1000, broken_complaint),
    (1500, pilling_return),
    (1800, naive_timestamp),
    (2100, seven_day_return),
    (2400, agent_break),
    (3300, left_waiting),
)
"""(nominal start in shop seconds, story) for one hour; starts get up to 60 s of jitter."""


def shop_hour(*, seed: int | None = None, run_id: str = "demo",
              start: datetime = DEFAULT_START) -> list[Story]:
    """The stories of one shop hour, ordered by start. Same seed and run_id: same events."""
    ctx = RunContext(random.Random(seed), run_id, start)
    stories = []
    for nominal, make in STORIES:
        jitter = 0.0 if nominal < 60 else ctx.rng.uniform(0, 60)
        stories.append(make(ctx, nominal + jitter))
    stories.sort(key=lambda s: s.start)
    return stories


def timeline(stories: list[Story]) -> list[tuple[float, int, dict[str, Any]]]:
    """Every step of `stories` as (offset, story index, event), in time order (stable)."""
    steps = [(offset, i, event) for i, story in enumerate(stories) for offset, event in story.steps]
    steps.sort(key=lambda step: step[0])
    return steps


def hour_length(stories: list[Story]) -> float:
    """Shop seconds one replay takes: an hour, or longer if a story runs over."""
    last = max((offset for story in stories for offset, _ in story.steps), default=0.0)
    return max(HOUR, last + 60.0)
