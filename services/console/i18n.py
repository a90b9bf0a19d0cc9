"""The console's words in zh-CN (the default) and en."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "客服主管台", "login": "登录", "logout": "退出", "user": "用户名",
        "password": "密码", "bad_login": "用户名或密码不对",
        "login_held": "密码错误次数过多，请 15 分钟后再试", "shop": "店铺",
        "board": "实时看板", "scripts": "统一回复口径", "charts": "数据图表",
        "queues": "排队", "waiting": "排队中", "oldest_wait": "最久等待",
        "agents": "客服", "status": "状态", "load": "接待中", "capacity": "上限",
        "online": "在线", "away": "离开", "offline": "离线", "roles": "岗位",
        "presale": "售前", "aftersale": "售后",
        "near_breach": "即将超时的会话", "conversation": "会话", "sla": "时限",
        "time_left": "剩余(营业时间)", "holder": "接待客服", "none": "无",
        "paused": "非营业时间，暂停计时", "overdue": "已超时",
        "escalations": "升级提醒", "level": "级别", "state": "状态", "subject": "对象",
        "fired_at": "时间", "acknowledge": "我来处理", "acknowledged_by": "已接手",
        "reassign": "转给", "move": "转接", "letters": "近一小时的死信",
        "reason": "原因", "service": "服务", "nothing": "暂无",
        "warning": "预警", "breached": "超时", "raised": "升级", "retracted": "已撤回",
        "resolved": "已结束", "first_response": "首次响应", "next_response": "后续响应",
        "ship_by": "发货时限", "order_change_confirmation": "改单确认",
        "aftersale_response": "售后响应", "logistics_stalled": "物流停滞",
        "complaint": "投诉", "negative_review": "差评", "platform_intervened": "平台介入",
        "intent": "意图", "locale": "语言", "text": "回复内容", "publish": "发布",
        "retire": "下线", "edit": "编辑", "new_script": "新口径", "published_by": "发布人",
        "script_help": "发布后，该意图的买家消息会带上这条口径，所有客服看到同一个答案。",
        "analytics_down": "分析服务未运行：无法显示图表（不显示任何估算数据）。",
        "heatmap": "咨询量热力图（星期 × 小时）",
        "first_response_chart": "首次响应 p50 / p90（秒）",
        "within_3m": "3分钟响应率", "sla_attainment": "SLA 达成率", "intent_mix": "意图分布",
        "top_items": "热门商品", "inquiries": "咨询", "aftersale_requests": "售后申请",
        "per_agent": "客服明细", "rounds": "轮次", "export_csv": "导出 CSV",
        "read_only": "只读（分析员）", "sent": "已发送", "language": "English",
        "live": "实时", "disconnected": "连接中断，正在重连…",
        "weekdays": "周一,周二,周三,周四,周五,周六,周日",
        "greeting": "打招呼", "product_inquiry": "商品咨询", "bargaining": "议价",
        "order_change": "改单", "urge_shipment": "催发货", "logistics_inquiry": "查物流",
        "return_refund": "退换货", "quality_issue": "质量问题",
    },
    "en": {
        "title": "Supervisor console", "login": "Log in", "logout": "Log out",
        "user": "User", "password": "Password", "bad_login": "Wrong user or password",
        "login_held": "Too many wrong passwords: try again in 15 minutes",
        "shop": "Shop", "board": "Live board", "scripts": "Reply scripts",
        "charts": "Charts", "queues": "Queues", "waiting": "waiting",
        "oldest_wait": "oldest wait", "agents": "Agents", "status": "status",
        "load": "load", "capacity": "capacity", "online": "online", "away": "away",
        "offline": "offline", "roles": "roles", "presale": "pre-sale",
        "aftersale": "after-sale", "near_breach": "Conversations near breach",
        "conversation": "conversation", "sla": "SLA", "time_left": "time left (business)",
        "holder": "agent", "none": "none", "paused": "outside business hours: paused",
        "overdue": "overdue", "escalations": "Escalations", "level": "level",
        "state": "state", "subject": "subject", "fired_at": "at",
        "acknowledge": "Acknowledge", "acknowledged_by": "taken by", "reassign": "to",
        "move": "Reassign", "letters": "Dead letters, last hour", "reason": "reason",
        "service": "service", "nothing": "nothing", "warning": "warning",
        "breached": "breached", "raised": "raised", "retracted": "retracted",
        "resolved": "resolved", "first_response": "first response",
        "next_response": "next response", "ship_by": "ship by",
        "order_change_confirmation": "order change confirmation",
        "aftersale_response": "after-sale response", "logistics_stalled": "stalled parcel",
        "complaint": "complaint", "negative_review": "negative review",
        "platform_intervened": "platform intervened", "intent": "intent",
        "locale": "language", "text": "reply", "publish": "Publish", "retire": "Retire",
        "edit": "Edit", "new_script": "New script", "published_by": "by",
        "script_help": "Once published, buyer messages of this intent carry this script, "
        "so every agent sees the same approved answer.",
        "analytics_down": "Analytics service not running: no charts (and no estimated "
        "figures either).",
        "heatmap": "Buyer messages, weekday × hour", "first_response_chart":
        "First response p50 / p90 (s)", "within_3m": "3-minute response rate",
        "sla_attainment": "SLA attainment", "intent_mix": "Intent mix",
        "top_items": "Top products", "inquiries": "inquiries",
        "aftersale_requests": "after-sale requests", "per_agent": "Per agent",
        "rounds": "rounds", "export_csv": "Export CSV", "read_only": "read-only (analyst)",
        "sent": "sent", "language": "中文", "live": "live",
        "disconnected": "connection lost, reconnecting…",
        "weekdays": "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
        "greeting": "greeting", "product_inquiry": "product inquiry",
        "bargaining": "bargaining", "order_change": "order change",
        "urge_shipment": "urge shipment", "logistics_inquiry": "logistics inquiry",
        "return_refund": "return / refund", "quality_issue": "quality issue",
    },
}


def language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT


def translator(lang: str):
    words = TEXT[language(lang)]
    return lambda key: words.get(key, key)
