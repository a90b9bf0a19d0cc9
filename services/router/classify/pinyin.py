"""Toneless pinyin of common shop-chat words -> Chinese, so that "kuai di zai na",
"kuaidi zai na" and "快递在哪" share their features and keywords.

Only words of two or more syllables are converted (a lone "ma" or "dan" is too often
English or a name), written with the syllables apart ("fa huo") or joined ("fahuo");
a few joined forms that are English words ("pole", "bale") are left alone. A final
particle right after a converted word ("bao you ma", "huai le") is converted with it,
and the spaces between converted words are dropped ("我的快递", not "我的 快递"), as a
Chinese buyer writes them.
"""

from __future__ import annotations

import re

# syllables (space-separated) -> the words; simplified characters.
WORDS = {
    "zai ma": "在吗", "zai bu zai": "在不在", "ni hao": "你好", "nin hao": "您好",
    "xie xie": "谢谢", "hao de": "好的", "ma fan": "麻烦", "lao ban": "老板",
    "ke fu": "客服", "you ren": "有人",
    "wo de": "我的", "wo yao": "我要", "wo xiang": "我想", "ni men": "你们",
    "zhe ge": "这个", "na ge": "那个", "shen me": "什么", "zen me": "怎么",
    "wei shen me": "为什么", "shen me shi hou": "什么时候", "sha shi hou": "啥时候",
    "shi hou": "时候", "duo shao": "多少", "duo shao qian": "多少钱", "duo jiu": "多久",
    "ji tian": "几天", "jin tian": "今天", "ming tian": "明天", "zuo tian": "昨天",
    "ke yi": "可以", "neng bu neng": "能不能", "ke bu ke yi": "可不可以",
    "you mei you": "有没有", "mei you": "没有", "hai mei": "还没", "yi zhi": "一直",
    "kuai dian": "快点", "gan jin": "赶紧", "ji yong": "急用", "cui yi xia": "催一下",
    "yi xia": "一下", "bang wo": "帮我", "na li": "哪里", "zai na": "在哪",
    "dao na": "到哪", "you ge": "有个",
    "fa huo": "发货", "chu huo": "出货", "fa cuo": "发错", "fa le": "发了",
    "kuai di": "快递", "wu liu": "物流", "bao guo": "包裹", "dan hao": "单号",
    "pai song": "派送", "qian shou": "签收", "shou dao": "收到", "dao huo": "到货",
    "bu dong": "不动", "geng xin": "更新", "dao le": "到了",
    "ding dan": "订单", "qu xiao": "取消", "di zhi": "地址", "gai di zhi": "改地址",
    "xuan cuo": "选错", "pai cuo": "拍错", "xie cuo": "写错", "gai cheng": "改成",
    "huan cheng": "换成",
    "bao you": "包邮", "pian yi": "便宜", "you hui": "优惠", "you hui quan": "优惠券",
    "da zhe": "打折", "da ge zhe": "打个折", "jia ge": "价格", "zui di": "最低",
    "jiang jia": "降价", "zeng pin": "赠品", "li wu": "礼物", "man jian": "满减",
    "xian huo": "现货", "you huo": "有货", "zheng pin": "正品", "chi ma": "尺码",
    "chi cun": "尺寸", "yan se": "颜色", "cai zhi": "材质", "hei se": "黑色",
    "bai se": "白色", "da hao": "大号", "xiao hao": "小号", "pian da": "偏大",
    "pian xiao": "偏小",
    "tui kuan": "退款", "tui huo": "退货", "huan huo": "换货", "tui huan": "退换",
    "tui qian": "退钱", "bu xiang yao": "不想要", "huan ge": "换个",
    "zhi liang": "质量", "wen ti": "问题", "huai le": "坏了", "po le": "破了",
    "sui le": "碎了", "bu neng yong": "不能用", "dong xi": "东西", "yi fu": "衣服",
    "tai cha": "太差", "cha jin": "差劲",
    "tou su": "投诉", "ju bao": "举报", "cha ping": "差评", "ping tai": "平台",
    "pian zi": "骗子", "tai guo fen": "太过分", "tai ken": "太坑",
}
PARTICLES = {"ma": "吗", "ne": "呢", "le": "了", "ba": "吧", "a": "啊", "ya": "呀"}
_NOT_JOINED = frozenset({"pole", "bale", "dale", "hale", "kefu", "nale", "wode",
                         "biase", "heise", "chima", "dahao", "huange", "zaina",
                         "mafan", "yizhi", "lewu"})
_JOINED = {k.replace(" ", ""): v for k, v in WORDS.items()
           if " " in k and k.replace(" ", "") not in _NOT_JOINED}
_SPELLINGS = {**WORDS, **_JOINED}
_WORD_RE = re.compile(
    r"(?<![a-z])(?P<w>" + "|".join(map(re.escape, sorted(_SPELLINGS, key=len, reverse=True)))
    + r")(?: (?P<p>" + "|".join(PARTICLES) + r"))?(?![a-z'])")
_LETTERS = re.compile(r"[a-z]+")
_PAIRS = frozenset(" ".join(k.split()[:2]) for k in WORDS)  # the first two syllables
_BETWEEN = re.compile(r"(?<=\x00) (?=\x00)")


def _convert(m: re.Match[str]) -> str:
    return "\x00" + _SPELLINGS[m["w"]] + PARTICLES.get(m["p"] or "", "") + "\x00"


def from_pinyin(text: str) -> str:
    """`text` (lower case) with the pinyin of WORDS written in Chinese."""
    if not has_pinyin(text):
        return text
    out = _WORD_RE.sub(_convert, text)
    if out is text or "\x00" not in out:
        return text
    return _BETWEEN.sub("", out).replace("\x00", "")


def has_pinyin(text: str) -> bool:
    """Whether `text` may have a word of WORDS: a joined one, or the first two
    syllables of a spaced one (a set look-up, far cheaper than the pattern)."""
    words = _LETTERS.findall(text)
    if not _JOINED.keys().isdisjoint(words):
        return True
    return not _PAIRS.isdisjoint(map(" ".join, zip(words, words[1:], strict=False)))
