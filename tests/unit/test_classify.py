"""Unit tests of the buyer-message intent classifier (examples not taken from the corpus)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.classify import INTENTS, Classification, Classifier, classifier_for
from services.router.classify.normalise import normalise
from services.router.classify.roles import decide_role


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return classifier_for(None)


PER_INTENT = [
    # greeting
    ("亲亲，客服在线吗", "greeting"),
    ("好嘞 多谢掌柜", "greeting"),
    ("老闆在嗎？", "greeting"),
    ("hey, anybody there?", "greeting"),
    # product_inquiry
    ("宝贝是什么面料的？夏天穿热不热", "product_inquiry"),
    ("這款有L號的現貨嗎", "product_inquiry"),
    ("does this jacket come in navy?", "product_inquiry"),
    # bargaining
    ("掌柜的，能不能再优惠个十块", "bargaining"),
    ("有沒有優惠券可以領", "bargaining"),
    ("any chance of a discount for a repeat customer?", "bargaining"),
    # order_change
    ("刚付款，收货地址写成老家的了，帮忙改一下", "order_change"),
    ("麻煩幫我取消這個訂單", "order_change"),
    ("could you change the colour on my order to grey?", "order_change"),
    # urge_shipment
    ("都付款两天了，啥时候能发出来啊", "urge_shipment"),
    ("請問今天可以出貨嗎？急著用", "urge_shipment"),
    ("any idea when you'll dispatch my order?", "urge_shipment"),
    # logistics_inquiry
    ("快递到哪儿了，三天都没动了", "logistics_inquiry"),
    ("物流一直顯示運輸中，到底什麼時候到", "logistics_inquiry"),
    ("the tracking page says in transit for a week, where is it?", "logistics_inquiry"),
    # return_refund
    ("裤子太长了，想退货退款", "return_refund"),
    ("可以申請退貨嗎？不太合身", "return_refund"),
    ("I'd like a refund please, the size is wrong for me", "return_refund"),
    # quality_issue
    ("收到的盘子裂了一道缝", "quality_issue"),
    ("螢幕有壞點，而且有刮痕", "quality_issue"),
    ("the zipper broke the first time I used it", "quality_issue"),
    # complaint
    ("再不给我处理我就去平台投诉你们", "complaint"),
    ("你們這樣是詐騙吧，我要檢舉", "complaint"),
    ("this is a total scam, I'm reporting your shop", "complaint"),
]


@pytest.mark.parametrize(("text", "intent"), PER_INTENT)
def test_per_intent_examples(clf, text, intent):
    got = clf.classify(text)
    assert got.intent == intent, got.reason


def test_every_intent_and_script_covered():
    assert {i for _, i in PER_INTENT} == set(INTENTS)


@pytest.mark.parametrize(("text", "intent"), [
    ("不是要退货，我想问什么时候发货", "urge_shipment"),
    ("not asking for a refund, where is my parcel", "logistics_inquiry"),
    ("我不是来投诉的，就问下发货没有", "urge_shipment"),
    ("不想退款了，东西没坏，谢谢", "greeting"),
    ("nothing is broken, just wondering when it will arrive", "logistics_inquiry"),
    ("I don't want to return it, I want to know if it comes in blue", "product_inquiry"),
    ("怎么还没发货", "urge_shipment"),  # "没" must not negate an urge
    ("退款怎么还不到账", "return_refund"),  # nor "还不" a refund
])
def test_negation(clf, text, intent):
    assert clf.classify(text).intent == intent


@pytest.mark.parametrize(("text", "intent"), [
    ("在吗？包邮吗？能便宜点吗", "bargaining"),
    ("便宜点，还有什么时候发货", "urge_shipment"),
    ("快递到了，杯子碎了，我要退款", "quality_issue"),
    ("东西是坏的，客服也不理人，我要投诉", "complaint"),
    ("hi, where's my order? also can I get a refund on the other one", "return_refund"),
])
def test_most_actionable_wins(clf, text, intent):
    assert clf.classify(text).intent == intent


def test_stage_dependent_roles(clf):
    assert clf.classify("地址写错了帮我改一下", order_stage="paid").role == "presale"
    assert clf.classify("地址写错了帮我改一下", order_stage="shipped").role == "aftersale"
    assert clf.classify("我的快递到哪了", order_stage="delivered").role == "aftersale"
    assert clf.classify("一般几天能到", order_stage=None).role == "presale"
    c = clf.classify("质量太差了，开线了", order_stage="delivered")
    assert (c.intent, c.role, c.priority) == ("quality_issue", "aftersale", "high")
    c = clf.classify("我要投诉", order_stage="paid")
    assert (c.role, c.priority) == ("aftersale", "urgent")


def test_exchange_is_order_change_before_shipment(clf):
    assert clf.classify("能换成红色的吗", order_stage="paid").intent == "order_change"
    assert clf.classify("能换成红色的吗", order_stage="delivered").intent == "return_refund"


def test_sticky_roles():
    assert decide_role("greeting", None, "aftersale") == ("aftersale", "normal")
    assert decide_role("greeting", None, None) == ("presale", "normal")
    assert decide_role("product_inquiry", "paid", "aftersale") == ("aftersale", "normal")
    assert decide_role("return_refund", None, "presale") == ("aftersale", "normal")
    assert decide_role("urge_shipment", "paid", "presale") == ("presale", "normal")
    with pytest.raises(ValueError):
        decide_role("chitchat")


def test_shop_keywords_change_outcome():
    text = "毛衣穿了两次就起球了"
    assert classifier_for(None).classify(text, order_stage="delivered").intent == "quality_issue"
    shop = classifier_for({"return_refund": ["起球"]})  # this shop takes pilled knits back
    got = shop.classify(text, order_stage="delivered")
    assert got.intent == "return_refund" and got.reason == 'return_refund: shop keyword "起球"'
    assert classifier_for({"return_refund": ["起球"]}) is shop  # cached per keyword set
    assert Classifier({"complaint": ["PILLING"]}).classify("so much pilling").intent == "complaint"
    with pytest.raises(ValueError):
        Classifier({"no_such_intent": ["x"]})


def test_traditional_chinese(clf):
    assert clf.classify("請問這件衣服什麼時候會寄出", order_stage="paid").intent == "urge_shipment"
    assert clf.classify("東西收到是壞的，可以退貨嗎").intent == "quality_issue"


def test_emoji_typos_slang(clf):
    assert clf.classify("😡😡😡").intent == "greeting"
    assert clf.classify("肿么还木有发货😭😭").intent == "urge_shipment"
    shouted = "ＷＨＥＲＥ  ＩＳ  ＭＹ  ＰＡＣＫＡＧＥ？？？"
    assert clf.classify(shouted).intent == "logistics_inquiry"
    assert clf.classify("wheres my parcle??").intent == "logistics_inquiry"
    assert clf.classify("亲 宝贝包邮不").intent == "product_inquiry"
    assert clf.classify("我要tuikuan").intent == "return_refund"


def test_pinyin_words_are_read_as_chinese():
    """Spaced or joined syllables of common shop words become the Chinese a buyer would
    type (with a final particle, no spaces between them); English words that happen to
    spell pinyin stay English."""
    assert normalise("kuai di zai na") == normalise("kuaidi zai na") == "快递在哪"
    assert normalise("wo de kuaidi ne") == "我的快递呢"
    assert normalise("Bao You Ma") == "包邮吗"
    assert normalise("zhi liang tai cha le, po le") == "质量太差了, 破了"
    assert normalise("hello zai ma") == "hello 在吗"
    for english in ("where is my pole", "can you ship it a lot faster", "dan said hi"):
        assert normalise(english) == english


_WIDE_OR_COMPOSED = st.text(
    st.sampled_from(
        [chr(c) for c in range(0xFF01, 0xFF5F)]  # full-width ASCII
        + ["\u3000", "\uffe5", "\u2026", "\u3002", "\u301c", "\uff61", "\uff76", "\uff9e"]
        + ["\u0301", "\u0308", "\u3099", "①", "²", "ﬁ", "😀", "𠀋"]
        + list("aAeE uU?!,.'发货退款吗没有不要了not refund where ship")
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(_WIDE_OR_COMPOSED)
def test_width_and_composition_do_not_change_the_answer(text):
    """Full-width letters and punctuation, the ideographic space, combining marks and
    other compatibility forms are read as their NFKC equivalents."""
    nfkc = unicodedata.normalize("NFKC", text)
    assert normalise(text) == normalise(nfkc)
    clf = classifier_for(None)
    assert clf.intent(text) == clf.intent(nfkc)


@pytest.mark.parametrize("text", ["", "   ", "👍", "ok thanks", "在吗", "hello?", "？？？"])
def test_non_actionable_is_greeting(clf, text):
    got = clf.classify(text, sticky_role="aftersale")
    assert got.intent == "greeting" and got.role == "aftersale"


def test_output_shape_and_reason(clf):
    got = clf.classify("退货退款！我要投诉")
    assert isinstance(got, Classification)
    assert got.reason.startswith('complaint: "投诉"') and 'return_refund "退货' in got.reason
    assert 0.0 <= got.confidence <= 1.0
    assert clf.classify("").reason == "greeting: empty message"
    got = clf.classify("asdf")
    assert got.intent == "greeting" and got.reason.endswith("(no actionable words)")


def test_very_long_text_is_judged_on_head_and_tail(clf):
    text = ("亲，这个宝贝还有货吗？颜色好看 nice color, " * 2500)[:100_000]
    assert clf.classify(text + "我要投诉").intent == "complaint"
    assert clf.classify("我要投诉" + text).intent == "complaint"
    middle = text[:50_000] + "我要投诉" + text[50_000:]  # neither head nor tail
    assert clf.classify(middle).intent != "complaint"
    # adversarial: a keyword at every position
    assert clf.classify("退" * 100_000).intent == "return_refund"
    assert clf.classify("不退" * 50_000).intent == "greeting"


def test_a_recurring_message_follows_each_order_stage(clf):
    text = "能换成红色的吗"
    seen = [clf.classify(text, order_stage=stage).intent
            for stage in ("paid", "delivered", "created", "shipped", None, "paid")]
    assert seen == ["order_change", "return_refund", "order_change", "return_refund",
                    "return_refund", "order_change"]
    roles = [clf.classify("好的谢谢", sticky_role=role).role
             for role in ("aftersale", "presale", "aftersale")]
    assert roles == ["aftersale", "presale", "aftersale"]


def test_a_recurring_message_keeps_each_shops_keywords():
    text = "这件衣服掉毛好严重"
    shop = classifier_for({"return_refund": ["掉毛"]})
    for _ in range(3):
        assert shop.classify(text).intent == "return_refund"
        assert classifier_for(None).classify(text).intent == "quality_issue"


def test_a_recurring_message_gets_the_same_answer_as_the_first_time(clf):
    texts = ["在吗", "什么时候发货", "where is my parcel", "能便宜点吗", "收到的是坏的",
             "請問有現貨嗎", "I want a refund", "我要投诉", "不是要退货，我想问什么时候发货"]
    first = [Classifier().classify(t, order_stage="paid") for t in texts]
    for _ in range(3):
        assert [clf.classify(t, order_stage="paid") for t in texts] == first


@pytest.mark.parametrize(
    "text",
    ["第315条：什么时候发货？", "这件315元能便宜点吗", "订单尾号315的什么时候发"],
)
def test_a_bare_number_315_is_not_a_complaint(text):
    assert Classifier().classify(text).intent != "complaint"


@pytest.mark.parametrize("text", ["再不退款我就打12315", "我要去315投诉你们", "我要打315"])
def test_consumer_hotline_threats_are_complaints(text):
    assert Classifier().classify(text).intent == "complaint"
