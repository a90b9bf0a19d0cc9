"""Masking for log lines: phone numbers and street addresses never reach a log in clear.

Deliberately greedy: masking a tracking number that looks like a phone number costs
nothing, logging a buyer's phone number or address is a leak."""

from __future__ import annotations

import re

_CN_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
# Other phone numbers (landlines, foreign): digit groups standing alone, not inside an id.
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[\s-]?)?(?:\(?0?\d{2,3}\)?[\s-]?)?\d{3,4}[\s-]?\d{4}(?![\w-])"
)
_CJK = "\u4e00-\u9fff"
# A run of Chinese text that names a road, building or room: 文三路100号3栋201室, 幸福小区.
_CN_ADDRESS = re.compile(
    rf"[{_CJK}A-Za-z0-9\-]*(?:路|街|大道|巷|弄|胡同|小区|花园|公寓|大厦|广场|村|镇|乡)"
    rf"[{_CJK}A-Za-z0-9\-#]*?(?:\d+[{_CJK}A-Za-z0-9\-#]*|(?=[^{_CJK}A-Za-z0-9]|$))"
)
_EN_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){0,4}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl)"
    r"\b\.?(?:,?\s*(?:Apt|Unit|Suite|Flat|#)\.?\s*\w+)?",
    re.IGNORECASE,
)
# Words that contain address characters but are not addresses.
_SAFE = ("订单号", "运单号", "单号", "账号", "型号", "编号", "快递员", "派送员")

ADDRESS_MASK = "[地址已隐藏]"


def _mask_mobile(match: re.Match) -> str:
    return f"{match[1]}****{match[2]}"


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match[0])
    if len(digits) < 7:
        return match[0]
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def _mask_address(match: re.Match) -> str:
    text = match[0]
    if not any(ch.isdigit() for ch in text) and not re.search("小区|花园|公寓|大厦|村", text):
        return text  # 杭州转运中心, 派送中: a place name without a number is not an address
    return ADDRESS_MASK


def mask_sensitive(text: str) -> str:
    """`text` with phone numbers (``138****5678``) and addresses (``[地址已隐藏]``) masked."""
    protected = text
    for i, word in enumerate(_SAFE):
        protected = protected.replace(word, f"\x00{i}\x00")
    protected = _CN_MOBILE.sub(_mask_mobile, protected)
    protected = _PHONE.sub(_mask_phone, protected)
    protected = _EN_ADDRESS.sub(ADDRESS_MASK, protected)
    protected = _CN_ADDRESS.sub(_mask_address, protected)
    for i, word in enumerate(_SAFE):
        protected = protected.replace(f"\x00{i}\x00", word)
    return protected
