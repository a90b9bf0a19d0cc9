"""The words kefu uses, per locale, as ``{key: (zh-CN, en)}`` tables: SLA kinds,
subjects, escalation levels, teams, carrier statuses and delay reasons."""

from __future__ import annotations

SLA_WORDS = {
    "first_response": ("首次回复", "First response"),
    "next_response": ("后续回复", "Reply"),
    "ship_by": ("发货时限", "Ship-by deadline"),
    "order_change_confirmation": ("改单确认", "Order change confirmation"),
    "aftersale_response": ("售后处理时限", "After-sale response deadline"),
    "logistics_stalled": ("物流停滞", "Stalled parcel"),
    "complaint": ("买家投诉", "Complaint"),
    "negative_review": ("差评", "Negative review"),
    "platform_intervened": ("平台介入", "Platform intervention"),
}
SUBJECT_WORDS = {
    "conversation": ("会话 {}", "conversation {}"),
    "order": ("订单 {}", "order {}"),
    "case": ("售后单 {}", "after-sale case {}"),
}
LEVEL_WORDS = {2: ("L2 主管", "L2 supervisor"), 3: ("L3 经理", "L3 manager")}
ROLE_WORDS = {"presale": ("售前组", "pre-sale team"), "aftersale": ("售后组", "after-sale team")}

STATUS_WORDS = {
    "out_for_delivery": ("正在派送中，请留意快递员的电话", "is out for delivery"),
    "exception": ("物流显示运输异常，如需帮助请随时联系我们",
                  "has a delivery problem reported by the carrier; message us if you need help"),
    "returned": ("物流显示包裹正在退回，如有疑问请随时联系我们",
                 "is shown by the carrier as returned to sender; message us if you have questions"),
    "in_transit": ("正在运输途中", "is in transit"),
    "delivered": ("显示已签收", "shows as delivered"),
}

REASON_CODES = {
    "out_of_stock": ("商品暂时缺货，正在补货", "the item is temporarily out of stock"),
    "restock": ("商品正在补货", "the item is being restocked"),
    "presale": ("商品为预售款，需按预售安排发货", "the item is a pre-order"),
    "made_to_order": ("商品为定制款，需要更多制作时间",
                      "the item is made to order and needs more time"),
    "quality_check": ("商品正在进行质检", "the item is going through a quality check"),
    "weather": ("受天气影响，快递暂时无法揽收",
                "bad weather is holding up collection by the carrier"),
    "holiday": ("节假日期间仓库发货安排有调整", "the warehouse is on a holiday schedule"),
    "carrier": ("快递公司暂时无法按时揽收", "the carrier cannot collect the parcel on time"),
    "high_volume": ("近期订单较多，仓库正在加紧处理", "we have an unusually high number of orders"),
    "address_change": ("收货地址变更后需要重新安排发货",
                       "the delivery address changed and we are rearranging the shipment"),
}
ALIASES = {"stockout": "out_of_stock", "oos": "out_of_stock", "pre_sale": "presale",
            "pre_order": "presale", "preorder": "presale", "custom": "made_to_order",
            "qc": "quality_check", "logistics": "carrier", "peak": "high_volume",
            "address": "address_change"}  # fmt: skip
GENERIC = ("我们需要多一点时间为您备货", "we need a little more time to prepare your order")
