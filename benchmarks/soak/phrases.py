"""Phrase banks and catalogues the traffic stories draw from (pure data)."""

from __future__ import annotations

PLATFORMS = (("taobao", "TB"), ("tmall", "TM"), ("jd", "JD"), ("douyin", "DY"), ("pdd", "PDD"))
CARRIERS = (("中通快递", "ZT"), ("圆通速递", "YT"), ("顺丰速运", "SF"), ("韵达快递", "YD"),
            ("京东物流", "JDV"), ("申通快递", "ST"))
CITIES = ("浙江省杭州市", "广东省广州市", "江苏省苏州市", "上海市", "北京市", "四川省成都市",
          "湖北省武汉市")
NICKS = ("小美", "tb_887712", "jd_小王", "阿杰", "Lily", "momo酱", "大刘", "小雨", "Tom")

ZH_PRESALE = (
    "你好，请问{p}还有{s}码吗？", "这款{p}{c}的有现货吗", "{p}是什么面料的？会不会起球",
    "身高165体重110斤穿什么码", "能便宜点吗？买两件有优惠吗", "有没有优惠券，{n}块能不能卖",
    "老客户了，包邮吗", "亲，{p}和图片上一样吗？有色差吗", "今天下单什么时候发货？",
    "{p}有没有{c}的？", "这个{p}保修多久",
)
ZH_GREETING = ("在吗", "亲 在么？", "你好", "在不在呀", "客服在吗？")
ZH_ORDER = (
    "我想改一下收货地址", "拍错颜色了，能帮我改成{c}吗", "订单{o}能改成{s}码吗",
    "什么时候发货啊？都{n}天了", "怎么还不发货，着急用，麻烦快点", "催一下发货，今天能发吗",
    "订单{o}怎么还没发货", "不是说48小时发货吗",
)
ZH_SHIPPED = (
    "我的快递到哪了？单号查不到", "物流三天没更新了，是不是丢件了",
    "你好，我的快递{n}天没动了，什么时候能到？", "快递什么时候能到{city}",
)
ZH_AFTER = (
    "我要退货，{p}尺码不合适", "怎么申请退款？七天无理由可以吗", "退款什么时候到账",
    "收到的{p}有破洞，质量太差了", "衣服洗了一次就掉色起球了", "少发了一件，只收到一个",
    "发错货了，我买的是{c}{s}码", "快递显示已签收但我没收到",
)
ZH_TRADITIONAL = (
    "請問這件{p}可以寄到香港嗎？運費多少？", "你好，這款有沒有現貨？",
    "收貨地址寫錯了，可以幫我改嗎？",
    "這支口紅色號不適合我，可以七天無理由退貨嗎？", "我的包裹什麼時候到？",
)
ZH_ANGRY = ("再不处理我就投诉了，给差评！", "你们客服太慢了，我要找平台投诉", "骗子店铺，我要举报")
ZH_ACK = ("好的谢谢", "嗯嗯知道了", "收到了，挺好看的", "好的亲", "那我再等等")
EN_PRESALE = (
    "Is the {pe} available in size {s}?", "What material is the {pe} made of?",
    "Can you give me a discount if I buy two?", "Is there free shipping to Shanghai?",
    "Does the {pe} run true to size?", "hi, anyone there?",
)
EN_ORDER = ("I need to change my delivery address please",
            "When will my order {o} ship? It's been {n} days",
            "Please ship it today, I need it urgently")
EN_SHIPPED = ("Where is my parcel? The tracking has not moved for 3 days",
              "When will my parcel arrive?")
EN_AFTER = ("I want to return the {pe}, it's too small", "How do I get a refund?",
            "The {pe} arrived damaged, there's a hole", "You sent the wrong color, I ordered {s}",
            "The tracking says delivered but I never got it")
EN_ANGRY = ("This is unacceptable, I will file a complaint and leave a bad review",)
EN_ACK = ("thanks, got it", "ok", "Great, thank you!")
AGENT_EN = ("Hi, let me check that for you.", "Sure, it is in stock and ships within 48 hours.",
            "Sorry for the trouble, I have registered the return for you.")
REVIEWS = {5: "质量很好，发货也快，五星好评", 4: "还不错，就是物流慢了点", 3: "一般般吧",
           2: "做工一般，客服回复慢", 1: "质量太差了，差评！"}
AFTERSALE_PATHS = (
    ("agreed", "returned_goods_received", "refunded"), ("agreed", "refunded"),
    ("rejected", "platform_intervened", "refunded"), ("agreed", "closed"),
)
