"""Messages written for these tests only (in neither corpus split), ten per kind of
miss that issue #18 lists: each kind must mostly come out right, so a fix that holds
for one sentence and not for its paraphrases fails here."""

from __future__ import annotations

import pytest

from services.router.classify import classifier_for

UNSEEN = [
    ("complaint", "aftersale_open", [  # "不给我退款我就申请平台仲裁"
        "再不退钱我就让平台来评理", "你们不处理我就找平台客服介入", "拖着不退款是吧 我去申请仲裁",
        "我要让平台判一下谁对谁错", "这事没完 我去找天猫小二",
        "I'll get the platform involved if you keep stalling",
        "不给说法我就去消协", "已经截图了 准备去平台举报", "你们这种店就该被平台处罚",
        "再敷衍我 直接平台投诉",
    ]),
    ("quality_issue", "delivered", [  # "我拍的是蓝色 收到的是绿色"
        "下单选的灰色 到手是米白", "买的39码 盒子里是41码", "我要的是大号 寄来一个小号",
        "订的是充电款 发来的是电池款", "明明拍的无糖的 收到的是加糖的",
        "I picked silver but a gold one came",
        "拍的是两件装 只有一件", "我选的长袖 你们给了短袖", "买的是新款 收到的是老款",
        "图上是磨砂的 到手是亮面",
    ]),
    ("logistics_inquiry", "shipped", [  # "wher is my oder"
        "wher is my pakage", "whre is my parcel", "were is my order??", "wheres my oder at",
        "my packge still not here", "track my parcle pls", "any updat on delivery",
        "whens my parcel comming", "how long til my oder arrives", "parcel stil not arived",
    ]),
    ("order_change", "paid", [  # "我搬家了 新地址是…"
        "我换房子了 收货地址要变一下", "刚搬了家 麻烦寄到新住处", "下周搬走了 地址帮我改成新的",
        "不住那了 新地址我发你", "房子退租了 改寄到公司吧", "i moved last week, new address below",
        "搬到了浦东 地址改成这个", "我已经不在原来的城市了 改个地址",
        "新家地址：天河区体育西路1号 麻烦改下",
        "地址换成我新租的房子",
    ]),
    ("logistics_inquiry", "shipped", [  # "快递会送货上门吗还是要自提"
        "快递送到家门口吗 还是放驿站", "要我自己去网点拿吗", "会送上楼吗 我住六楼没电梯",
        "能直接送到我手上吗", "是送货上门还是丢快递柜", "will the courier bring it to my door",
        "需要自己去取吗", "派送的时候会打电话吗", "可以让快递送到门卫吗", "快递员会不会直接放门口",
    ]),
    ("bargaining", None, [  # "能不能抹个零"
        "零头就别要了吧", "抹掉零头我马上付", "尾数去掉行不行", "凑个整 便宜几块",
        "给个整数价嘛", "去个零头呗老板", "can you round the price down", "把那几块零钱免了吧",
        "188就180吧", "少个零头我就拍了",
    ]),
]


@pytest.mark.parametrize(("intent", "stage", "texts"), UNSEEN,
                         ids=[f"{i}@{s}:{t[0]}" for i, s, t in UNSEEN])
def test_paraphrases_of_each_listed_miss(intent, stage, texts):
    clf = classifier_for(None)
    got = [clf.classify(t, order_stage=stage).intent for t in texts]
    wrong = [(t, g) for t, g in zip(texts, got, strict=True) if g != intent]
    assert len(wrong) <= 1, wrong


# Ten more per intent, each at a stage where it is that intent (issue #18: held-out
# sets written by others judge the same figures, so these were written apart from the
# corpus and checked once, not tuned on).
BY_INTENT = [
    ("greeting", None, [
        "亲 还在线不", "好滴 谢谢啦", "嗯嗯 没别的问题了", "hey, you there?", "thank u so much",
        "哈囉 請問有人在嗎", "ok 我再逛逛", "找个人工客服", "晚点再聊", "all sorted, thanks!",
    ]),
    ("product_inquiry", None, [
        "这款适合油皮吗", "能放冰箱冷冻吗", "有没有儿童尺码", "does it fit a 15 inch laptop",
        "多大容量的", "呢件褸有冇大碼", "锅能用电磁炉吗", "is the frame metal or plastic",
        "一套有几件", "会不会很闷热",
    ]),
    ("bargaining", None, [
        "老板再优惠点呗", "两件能不能算便宜点", "有没有满减券可以领",
        "can you knock a few bucks off", "送个收纳袋吧", "便宜啲啦 我買兩個",
        "别家一样的便宜十块 你能跟吗", "any promo for first order", "抹个零头 150行不",
        "运费给我减了吧",
    ]),
    ("order_change", "paid", [
        "先别寄 我地址可能要变", "帮我把手机号改成新的", "颜色换成藏青 还没发吧",
        "please ship to my office instead", "我要取消这一单", "可以改寄到另一個地址嗎",
        "数量改成三个", "add a gift receipt please", "收件人写成我同事",
        "能晚几天再寄吗 我不在家",
    ]),
    ("urge_shipment", "paid", [
        "付款好几天了 怎么还不发", "求快点发货", "今天能发出吗 急", "any chance it ships today?",
        "还在待发货 什么情况", "幾時先出貨呀", "发货太慢了吧 快点",
        "why is it still not dispatched", "能加急处理吗 等着用", "还没给单号 到底发没发",
    ]),
    ("logistics_inquiry", "shipped", [
        "快递停在一个地方三天了", "包裹到哪了 查一下", "还要多久能送到",
        "the tracking hasn't changed all week", "派送员说明天送 准吗", "我個包裹去咗邊度",
        "快递显示签收 我没拿到啊", "is my parcel out for delivery today", "物流一直在运输中",
        "单号查不到信息",
    ]),
    ("return_refund", "delivered", [
        "不想要了 怎么退", "想换小一号", "退回去运费谁承担", "how do I send this back",
        "七天内能无理由退吗", "想退貨 請問地址係邊", "退款多久能到",
        "can I swap this for the blue one", "买重复了 退一个", "申请了退货 麻烦处理",
    ]),
    ("quality_issue", "delivered", [
        "打开就是裂的", "用一次就坏了", "线头到处都是 还开线", "it arrived with a dent",
        "味道特别刺鼻", "部機開唔到", "颜色跟详情页完全不一样", "the lid doesn't close properly",
        "少发了一个配件", "充电充不进去",
    ]),
    ("complaint", "delivered", [
        "你们这服务太离谱了", "一直不回消息 什么意思", "我要让大家都知道你们家有多坑",
        "this shop is a total scam", "气得我不想说话", "你哋真係好過分", "把顾客当猴耍",
        "I will report this to the platform", "说好的补偿到现在都没有 骗子", "客服态度差到极点",
    ]),
]


@pytest.mark.parametrize(("intent", "stage", "texts"), BY_INTENT,
                         ids=[f"{i}@{s}" for i, s, _ in BY_INTENT])
def test_ten_new_messages_of_each_intent(intent, stage, texts):
    clf = classifier_for(None)
    wrong = [(t, g) for t in texts if (g := clf.classify(t, order_stage=stage).intent) != intent]
    assert len(wrong) <= 1, wrong


# The kinds the training split's cross-validation found weakest: pinyin, the shipping
# pair (the order stage decides), holding or changing an order before it ships, short
# symptoms vs praise, and after-sale messages whose order the router does not know.
# Each kind: (intent, stage, texts).
HARD = [
    ("pinyin", [
        ("logistics_inquiry", "shipped", ["kuai di dao na li le", "wu liu zen me bu geng xin"]),
        ("return_refund", "delivered", ["wo yao tui kuan"]),
        ("urge_shipment", "paid", ["shen me shi hou fa huo a"]),
        ("bargaining", None, ["ke yi pian yi yi dian ma"]),
        ("product_inquiry", None, ["you mei you xiao hao"]),
        ("quality_issue", "delivered", ["dong xi po le"]),
        ("complaint", "delivered", ["wo yao ju bao ni men"]),
        ("order_change", "paid", ["bang wo gai yi xia di zhi"]),
        ("greeting", None, ["xie xie lao ban"]),
    ]),
    ("shipping pair by stage", [
        ("urge_shipment", "paid", [
            "怎么还没发出来", "哪天能发", "still waiting for it to ship", "快点啊 等好久了",
            "有单号了吗",
        ]),
        ("logistics_inquiry", "shipped", [
            "怎么还没送到", "哪天能到", "still waiting for it to arrive", "快递员什么时候来送",
            "单号查不到",
        ]),
    ]),
    ("holding or changing an unshipped order", [
        ("order_change", "paid", [
            "这单先压几天再发", "等我回国了再寄", "还没寄出的话取消掉",
            "could you postpone shipping to next week", "遲啲先寄得唔得", "两件分开寄吧",
            "改成发邮政吧 我这顺丰不到", "不要寄了 退掉订单", "寄出前把尺码改成XL",
            "please keep it in the warehouse until friday",
        ]),
    ]),
    ("short symptoms and praise after delivery", [
        ("quality_issue", "delivered", [
            "发霉了", "it's cracked", "漏油", "doesn't charge", "有污渍",
        ]),
        ("greeting", "delivered", [
            "好用 推荐", "looks great, thanks", "很满意 五星", "没坏 谢谢", "fits nicely",
        ]),
    ]),
    ("asking the price is not haggling", [  # branch classify2: the commonest confusion
        ("product_inquiry", None, [
            "这个耳机现在卖多少", "小号和大号价格一样吗", "一整箱是多少钱",
            "how much does the blue one cost", "標價包唔包運費", "这个价格含不含安装",
            "替换装多少钱一个", "what's the price for the 2 pack", "配件单独买要多少钱",
            "这个标的是一盒的价吗",
        ]),
    ]),
    ("after-sale without a known order", [
        ("quality_issue", None, [
            "收到的杯子是碎的", "衣服洗了一次就掉色", "the charger stopped working",
        ]),
        ("return_refund", None, ["我要退货", "refund please, I sent it back", "退款怎么还没到"]),
        ("complaint", None, ["你们就是骗子", "worst shop ever"]),
        ("logistics_inquiry", None, ["我的快递到哪了", "where is my package"]),
    ]),
]


@pytest.mark.parametrize(("kind", "groups"), HARD, ids=[k for k, _ in HARD])
def test_the_kinds_cross_validation_found_weakest(kind, groups):
    clf = classifier_for(None)
    wrong = [(t, stage, intent, got) for intent, stage, texts in groups for t in texts
             if (got := clf.classify(t, order_stage=stage).intent) != intent]
    assert len(wrong) <= 1, wrong
