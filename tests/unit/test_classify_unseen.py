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
