"""The demo's shops and agents: a clothes shop on Taobao, an electronics shop on JD and a
beauty shop on Douyin, each with presale and aftersale agents."""

from __future__ import annotations

from .story import Agent, Shop

CLOTHES = Shop("shop-demo", "taobao", "暖阳女装")
TECH = Shop("shop-tech", "jd", "极客数码")
BEAUTY = Shop("shop-live", "douyin", "小美美妆直播间")

SHOPS: tuple[Shop, ...] = (CLOTHES, TECH, BEAUTY)

LIN = Agent("agent-lin", "小林", ("presale",), 3)
ZHOU = Agent("agent-zhou", "小周", ("presale", "aftersale"), 4)
CHEN = Agent("agent-chen", "阿陈", ("aftersale",), 5)
WANG = Agent("agent-wang", "王工", ("presale",), 5)
ZHAO = Agent("agent-zhao", "赵姐", ("aftersale",), 2)
SUN = Agent("agent-sun", "小孙", ("presale", "aftersale"), 3)
MEI = Agent("agent-mei", "美美", ("presale", "aftersale"), 4)

AGENTS: dict[str, tuple[Agent, ...]] = {
    CLOTHES.shop_id: (LIN, ZHOU, CHEN),
    TECH.shop_id: (WANG, ZHAO, SUN),
    BEAUTY.shop_id: (MEI,),
}
