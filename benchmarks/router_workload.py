"""The router benchmark's inbound events: realistic buyer messages and the order life
around them, as an integrator sends them."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import orjson

from contracts import event_key, parse_inbound

BEIJING = timezone(timedelta(hours=8))

PRODUCTS = ["羊毛针织开衫", "纯棉圆领T恤", "加绒卫衣", "高腰牛仔裤", "羽绒服", "真丝衬衫",
            "运动跑鞋", "保温杯", "蓝牙耳机", "双肩包", "儿童羽绒马甲", "床上四件套"]
PRODUCTS_EN = ["wool cardigan", "cotton T-shirt", "fleece hoodie", "denim jeans",
               "down jacket", "silk shirt", "running shoes", "thermos", "earbuds", "backpack"]
COLORS = ["灰色", "黑色", "白色", "藏青", "卡其", "酒红"]
SIZES = ["S", "M", "L", "XL", "XXL", "160/84A", "170/92A"]
CARRIERS = ["中通快递", "圆通速递", "顺丰速运", "韵达快递", "京东物流", "申通快递"]
CITIES = ["浙江省杭州市", "广东省广州市", "江苏省苏州市", "上海市", "北京市", "四川省成都市"]
ZH_TEXTS = [
    "在吗", "亲 在么？", "你好，请问{p}还有{s}码吗？", "这款{p}{c}的有现货吗",
    "{p}是什么面料的？会不会起球", "身高165体重110斤穿什么码", "能便宜点吗？买两件有优惠吗",
    "有没有优惠券，{n}块能不能卖", "老客户了，包邮吗", "我想改一下收货地址",
    "拍错颜色了，能帮我改成{c}吗", "订单{o}能改成{s}码吗", "什么时候发货啊？都{n}天了",
    "怎么还不发货，着急用，麻烦快点", "催一下发货，今天能发吗", "我的快递到哪了？单号查不到",
    "物流三天没更新了，是不是丢件了", "快递显示已签收但我没收到", "我要退货，{p}尺码不合适",
    "怎么申请退款？七天无理由可以吗", "退款什么时候到账", "收到的{p}有破洞，质量太差了",
    "衣服洗了一次就掉色起球了", "少发了一件，只收到一个", "发错货了，我买的是{c}{s}码",
    "再不处理我就投诉了，给差评！", "你们客服太慢了，我要找平台投诉", "骗子店铺，我要举报",
    "好的谢谢", "嗯嗯知道了", "收到了，挺好看的", "亲，{p}和图片上一样吗？有色差吗",
    "你好，我的快递{n}天没动了，什么时候能到？", "订单{o}怎么还没发货", "不是说48小时发货吗",
]
EN_TEXTS = [
    "hi, anyone there?", "Hello! Is the {pe} available in size {s}?",
    "What material is the {pe} made of?", "Can you give me a discount if I buy two?",
    "Is there free shipping to Shanghai?", "I need to change my delivery address please",
    "When will my order {o} ship? It's been {n} days", "Please ship it today, I need it urgently",
    "Where is my parcel? The tracking has not moved for 3 days",
    "The tracking says delivered but I never got it", "I want to return the {pe}, it's too small",
    "How do I get a refund? It has been a week", "The {pe} arrived damaged, there's a hole",
    "You sent the wrong color, I ordered {s} in black",
    "This is unacceptable, I will file a complaint and leave a bad review",
    "thanks, got it", "ok", "Does the {pe} run true to size?",
]
ZH_OPENERS = ["", "", "", "亲，", "你好，", "在吗？", "老板，", "客服你好，", "hello，", "喂，"]
ZH_CLOSERS = ["", "", "", "谢谢", "？？", "急！", "[微笑]", "麻烦尽快回复", "在线等", "谢谢亲～",
              "订单号{o}", "我{n}号要用", "[流泪]"]
EN_OPENERS = ["", "", "Hi, ", "Hello, ", "Excuse me, ", "hey "]
EN_CLOSERS = ["", "", " Thanks!", " thx", " Please reply asap.", " Order {o}.", " ??"]
AGENT_TEXTS = ["亲，您好！我马上帮您查询物流哦～", "亲，这款目前有现货，今天下单48小时内发货哦",
               "非常抱歉给您带来不便，已为您登记退换货", "Hi, let me check that for you.",
               "亲，地址已经帮您修改好了，请核对一下哦", "亲亲，这边已经催促仓库尽快发出了"]


@dataclass
class Conversation:
    shop: str
    platform: str
    conversation_id: str
    buyer_id: str
    nick: str
    english: bool
    order_id: str | None


@dataclass
class Workload:
    """Serialised events with their Kafka keys; every event causes exactly one output."""

    records: list[tuple[bytes, bytes]]
    mean_bytes: float
    kinds: dict[str, int] = field(default_factory=dict)


class EventFactory:
    """Buyer messages (mostly Chinese, some English, ~8 per conversation) plus agent
    replies, closes and the order, logistics and after-sale events of the same orders,
    over several shops, with fields an integrator typically adds on top of the contract."""

    def __init__(self, seed: int, conversations: int, run: str) -> None:
        self.rng = random.Random(seed)
        self.run = run
        self.count = 0
        shops = [(f"shop-{name}", platform) for name, platform in (
            ("hz-knit", "taobao"), ("gz-denim", "tmall"), ("sz-digital", "jd"),
            ("sh-home", "douyin"), ("cd-kids", "pdd"), ("bj-sport", "taobao"),
            ("xm-tea", "tmall"), ("wh-shoes", "jd"))]
        self.conversations = []
        for i in range(conversations):
            shop, platform = self.rng.choice(shops)
            has_order = self.rng.random() < 0.5
            self.conversations.append(Conversation(
                shop, platform, f"conv-{run}-{i:06d}", f"buyer-{run}-{i:06d}",
                self.rng.choice(["小美", "tb_887712", "jd_小王", "阿杰", "Lily", "momo酱"]),
                self.rng.random() < 0.25,
                f"ord-{run}-{i:06d}" if has_order else None,
            ))
        self.orders = [c for c in self.conversations if c.order_id]

    def _envelope(self, conv: Conversation, event_type: str, at: datetime, payload: dict) -> dict:
        self.count += 1
        n = self.count
        return {
            "event_id": f"evt-{self.run}-{n:08d}",
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at.isoformat(timespec="milliseconds"),
            "shop_id": conv.shop,
            "platform": conv.platform,
            "payload": payload,
            "trace_id": f"trace-{uuid.UUID(int=self.rng.getrandbits(128)).hex}",
            "x_integrator": {"source": "openapi-gateway", "region": "cn-hangzhou",
                             "received_at": at.isoformat(timespec="milliseconds"),
                             "request_id": uuid.UUID(int=self.rng.getrandbits(128)).hex},
        }

    def _text(self, conv: Conversation) -> str:
        """One or two sentences with an opener and a closer: few exact repeats, like real
        chat (a classifier cache keyed by text must not flatter the result)."""
        rng = self.rng
        if conv.english:
            parts = [rng.choice(EN_OPENERS), rng.choice(EN_TEXTS), rng.choice(EN_CLOSERS)]
        else:
            parts = [rng.choice(ZH_OPENERS), rng.choice(ZH_TEXTS)]
            if rng.random() < 0.3:
                parts.append("，" + rng.choice(ZH_TEXTS))
            parts.append(rng.choice(ZH_CLOSERS))
        return "".join(parts).format(
            p=rng.choice(PRODUCTS), pe=rng.choice(PRODUCTS_EN), c=rng.choice(COLORS),
            s=rng.choice(SIZES), n=rng.randint(2, 30), o=conv.order_id or "ord-unknown",
        )

    def event(self, at: datetime) -> dict:
        rng, roll = self.rng, self.rng.random()
        conv = rng.choice(self.conversations)
        if roll < 0.78:
            payload = {"conversation_id": conv.conversation_id, "buyer_id": conv.buyer_id,
                       "message_id": f"msg-{self.run}-{self.count:08d}", "text": self._text(conv),
                       "buyer_nick": conv.nick, "client": rng.choice(["ios", "android", "pc"])}
            if conv.order_id and rng.random() < 0.5:
                payload["order_id"] = conv.order_id
            if rng.random() < 0.15:
                payload["attachments"] = [{"type": "image",
                                           "url": f"https://img.example.cn/chat/{rng.getrandbits(40):x}.jpg"}]
            return self._envelope(conv, "buyer.message", at, payload)
        if roll < 0.86:
            return self._envelope(conv, "agent.message", at, {
                "conversation_id": conv.conversation_id, "agent_id": f"agent-{rng.randint(1, 40)}",
                "message_id": f"msg-{self.run}-{self.count:08d}", "text": rng.choice(AGENT_TEXTS)})
        if roll < 0.88:
            return self._envelope(conv, "conversation.closed", at, {
                "conversation_id": conv.conversation_id, "closed_by": "buyer"})
        return self._order_event(rng.choice(self.orders), at)

    def _order_event(self, conv: Conversation, at: datetime) -> dict:
        rng = self.rng
        base = {"order_id": conv.order_id}
        kind = rng.choices(["order.created", "order.paid", "order.shipped", "logistics.update",
                            "aftersale.requested", "review.posted"], [3, 3, 2, 2, 1, 1])[0]
        product = rng.choice(PRODUCTS)
        items = [{"sku": f"sku-{rng.randint(1000, 9999)}", "name": f"{product} {rng.choice(COLORS)}"
                  f" {rng.choice(SIZES)}", "quantity": rng.randint(1, 3), "price": 189.0}]
        if kind in ("order.created", "order.paid"):
            payload = {**base, "buyer_id": conv.buyer_id, "items": items, "amount": 189.0}
        elif kind == "order.shipped":
            payload = {**base, "carrier": rng.choice(CARRIERS),
                       "tracking_no": f"ZT{rng.getrandbits(40)}"}
        elif kind == "logistics.update":
            payload = {**base, "tracking_no": f"ZT{rng.getrandbits(40)}",
                       "status": rng.choice(["in_transit", "out_for_delivery", "delivered"]),
                       "description": "快件已到达【转运中心】", "location": rng.choice(CITIES)}
        elif kind == "aftersale.requested":
            payload = {**base, "case_id": f"case-{conv.order_id}", "buyer_id": conv.buyer_id,
                       "kind": "return_refund", "reason": "尺码不合适", "amount": 189.0}
        else:
            payload = {**base, "buyer_id": conv.buyer_id, "rating": rng.randint(1, 5),
                       "text": "质量不错，物流很快"}
        return self._envelope(conv, kind, at, payload)


def make_workload(n: int, *, seed: int, run: str) -> Workload:
    factory = EventFactory(seed, max(50, n // 8), run)
    start = datetime(2026, 11, 22, 9, 0, tzinfo=BEIJING)
    records, kinds, total = [], {}, 0
    for i in range(n):
        data = factory.event(start + timedelta(milliseconds=37 * i))
        raw = orjson.dumps(data)
        key = event_key(parse_inbound(raw)).encode()  # also proves every event is valid
        records.append((key, raw))
        kinds[data["event_type"]] = kinds.get(data["event_type"], 0) + 1
        total += len(raw)
    return Workload(records, total / max(1, n), kinds)
