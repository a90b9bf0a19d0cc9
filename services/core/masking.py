"""Phone numbers and addresses never leave kefu in clear: every log line (see
`services.core.logging`), the human `detail` of dead letters, and notification texts
built from what carriers and shops wrote go through `mask_sensitive`.

Phone numbers are found in every notation people use: ``13812345678``,
``138.1234.5678``, ``138-1234-5678``, ``+86 138 1234 5678``, Taiwan's ``0912-345-678``,
landlines (``0571-88886666``, ``(020) 8888-6666``, ``+1 415 555 0123``), full-width
digits and Chinese numerals read digit by digit (``一三八一二三四五六七八``, ``幺``,
``〇``, ``壹贰叁``). A mainland mobile keeps its first three and last four digits
(``138****5678``, the platforms' own convention), any other number its first three and
last two. Addresses that name a road with a number, a housing compound, or a building,
unit or room number become ``[地址已隐藏]``.

Deliberately greedy: masking a number that only looks like a phone number costs little,
logging a buyer's phone number or address is a leak. Ids, tracking numbers, dates,
times, offsets and URLs are left alone (a number glued to letters, a hyphen or a dot
is part of an identifier)."""

from __future__ import annotations

import re
from collections.abc import Callable

ADDRESS_MASK = "[地址已隐藏]"

_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "＋": "+", "－": "-", "．": ".", "　": " ", "（": "(", "）": ")", "\u2014": "-",
}
_NUMERALS = dict.fromkeys("〇零", "0") | dict.fromkeys("一幺壹", "1") | dict.fromkeys(
    "二两兩贰貳", "2") | dict.fromkeys("三叁參", "3") | dict.fromkeys("四肆", "4") | dict.fromkeys(
    "五伍", "5") | dict.fromkeys("六陆陸", "6") | dict.fromkeys("七柒", "7") | dict.fromkeys(
    "八捌", "8") | dict.fromkeys("九玖", "9")
_BY_WIDTH = str.maketrans(_WIDTH)
_BY_DIGIT = str.maketrans(_WIDTH | _NUMERALS)


def normalise_digits(text: str) -> str:
    """`text` with full-width digits and punctuation and Chinese numerals written as
    ASCII, one character for one, so positions stay the same."""
    return text.translate(_BY_DIGIT)


# --- phone numbers (matched on normalised text) ---------------------------------------------
_SEP = r"(?:[ \t]*[.\-][ \t]*|[ \t]+)"  # one separator between digit groups
_OPT = _SEP + "?"
_START = r"(?<![A-Za-z0-9_\-*])(?<!\d\.)"  # not inside an id, a decimal or a masked number
_END = r"(?![A-Za-z0-9_])(?!\.\d)"
_PHONE = re.compile(_START + "(?:" + "|".join([
    # mainland mobile, optionally with the country code: +86 138 1234 5678
    rf"(?P<mobile>(?:\(?(?:\+|00)86\)?{_OPT}|86{_SEP})?1[3-9]\d{_OPT}\d{{4}}{_OPT}\d{{4}})",
    # Taiwan mobile: 0912-345-678, +886 912 345 678
    rf"(?:\(?(?:\+|00)886\)?{_OPT})?\(?0?9\d{{2}}\)?{_OPT}\d{{3}}{_OPT}\d{{3}}",
    # landline with its area code: 0571-88886666, (020) 8888-6666, 02-2345-6789
    rf"\(?0\d{{1,3}}\)?{_OPT}\d{{3,4}}{_OPT}\d{{4}}",
    # international: +86 21 5432 1098, +1 415 555 0123
    rf"(?:\+|00)\d{{1,3}}{_OPT}\(?\d{{1,4}}\)?{_OPT}\d{{2,4}}{_OPT}\d{{3,4}}(?:{_OPT}\d{{2,4}})?",
    # a local number written in groups: 8888-6666, 2345 6789
    rf"\d{{3,4}}{_SEP}\d{{4}}",
]) + ")" + _END)


def _phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match[0])
    if match.group("mobile") is not None:
        digits = digits[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


# --- addresses (matched on text with ASCII digits; numerals stay words) ---------------------
_CJK = "\u4e00-\u9fff"
_RUN = rf"[{_CJK}A-Za-z0-9\-#]"
_ROAD = "大道|大街|路|街|巷|弄|胡同"
_PLACE = ("小区|小區|花园|花園|公寓|大厦|大廈|广场|廣場|家园|新村|社区|社區|科技园|园区|中心|苑|"
          "村|镇|鎮")
_UNIT = "号楼|號樓|栋|棟|幢|单元|單元|室|层|層|户|戶"
# A run of Chinese text naming a road or a compound: 文三路100号3栋201室, 幸福小区.
_CN_PLACE = re.compile(rf"{_RUN}*(?:{_ROAD}|{_PLACE}){_RUN}*")
# A building, unit or room number on its own: 5号楼2单元301, A座1502, 1101室.
_CN_UNIT = re.compile(
    rf"[A-Za-z0-9#\-]*[A-Za-z0-9](?:{_UNIT}|座)(?:[A-Za-z0-9#\-]+(?:{_UNIT}|座|号|號)?)*")
_STREET_TYPES = ("Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|"
                 "Place|Pl|Loop|Parkway|Pkwy|Terrace|Highway|Hwy|Square|Sq|Crescent|Close")
_EN_STREET = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){{0,4}}(?:{_STREET_TYPES})\b\.?"
    r"(?:,?\s*(?i:Apt|Unit|Suite|Flat|#)\.?\s*\w+)?")
_EN_UNIT = re.compile(
    r"(?i)\b(?:Room|Rm|Flat|Apt|Apartment|Unit|Suite|Ste|Floor|Fl|Block|Blk|Building|Bldg|"
    r"Tower)\.?\s*#?\s*[A-Za-z]?\d+[A-Za-z]?(?:/F)?\b|\b\d{1,3}/F\b")


def _address(match: re.Match) -> str:
    return ADDRESS_MASK


_LEAD_IN = re.compile("[至到在于於往寄送址]")  # 正在派送至|文三路100号: the address follows


def _place(match: re.Match) -> str | None:
    """A road or compound run is an address when a number follows its keyword; a housing
    compound (小区, 花园, 公寓, 大厦, 村) is one even without a number. Words before it
    that lead into it (正在派送至, 送到) are kept."""
    text = match[0]
    keyword = re.search(rf"{_ROAD}|{_PLACE}", text)
    if not re.search(r"\d", text[keyword.start():]) and \
            not re.search("小区|小區|花园|花園|公寓|大厦|大廈|村", text):
        return None
    lead = [m.end() for m in _LEAD_IN.finditer(text, 0, keyword.start())]
    return text[:lead[-1]] + ADDRESS_MASK if lead else ADDRESS_MASK


def _sub(pattern: re.Pattern, text: str, view: str, mask: Callable[[re.Match], str | None]) -> str:
    """Replace the matches of `pattern` in `view` (a same-length rendering of `text`) in
    `text`; `mask` returns the replacement, or None to keep a match."""
    out, last = [], 0
    for match in pattern.finditer(view):
        replacement = mask(match)
        if replacement is None:
            continue
        out += [text[last:match.start()], replacement]
        last = match.end()
    return "".join(out) + text[last:] if out else text


def mask_sensitive(text: str) -> str:
    """`text` with phone numbers (``138****5678``) and addresses (``[地址已隐藏]``) masked."""
    for _ in range(4):  # until nothing changes: a mask may reveal a neighbour's shape
        masked = _mask_once(text)
        if masked == text:
            break
        text = masked
    return text


_ADDRESSES = (  # (a cheap test that the pattern may match, the pattern, its mask)
    (re.compile(r"\d"), _EN_STREET, _address),
    (re.compile(r"\d"), _EN_UNIT, _address),
    (re.compile(f"{_ROAD}|{_PLACE}"), _CN_PLACE, _place),
    (re.compile(f"{_UNIT}|座"), _CN_UNIT, _address),
)


def _mask_once(text: str) -> str:
    for maybe, pattern, mask in _ADDRESSES:
        if maybe.search(text):
            text = _sub(pattern, text, text.translate(_BY_WIDTH), mask)
    return _sub(_PHONE, text, normalise_digits(text), _phone)
