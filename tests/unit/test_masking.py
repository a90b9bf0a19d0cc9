"""Masking of phone numbers and addresses, the one module every exit of kefu uses (logs,
dead letters, notification texts built from carrier scans).

Ten examples per form that the patterns were not written from, then properties over
generated numbers in every notation: the number never survives, masking twice changes
nothing, and ordinary text (ids, tracking numbers, dates, times) is left alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.masking import ADDRESS_MASK, mask_sensitive, normalise_digits

# --- ten unseen examples per form --------------------------------------------------------
MOBILE_PLAIN = [
    "收件人电话13812345678", "手机号：15987654321，请尽快联系", "call 17712349876 now",
    "派件员18600001111正在派送", "联系方式 13511112222", "13912345678", "尾号请拨19955556666",
    "客户来电:14756781234", "tel:16623456789", "电话（18812340000）",
]
MOBILE_DOTTED = [
    "138.1234.5678", "电话 159.8765.4321", "call me at 177.1234.9876", "手机:186.0000.1111",
    "135.1111.2222 (本人)", "联系139.1234.5678谢谢", "199.5555.6666", "Tel.147.5678.1234",
    "派件员 166.2345.6789", "188.1234.0000 转 1",
]
MOBILE_DASHED = [
    "138-1234-5678", "电话：159-8765-4321", "177-1234-9876 is my number", "186-0000-1111",
    "联系人 135-1111-2222", "手机139-1234-5678", "call 199-5555-6666", "147-5678-1234号码",
    "派送员166-2345-6789", "188 - 1234 - 0000",
]
MOBILE_INTERNATIONAL = [
    "+86 138 1234 5678", "+86-159-8765-4321", "(+86) 177 1234 9876", "0086 186 0000 1111",
    "+8613511112222", "电话+86 139 1234 5678", "+86 199-5555-6666", "86-147-5678-1234",
    "＋８６ １６６ ２３４５ ６７８９", "call +86 188 1234 0000",
]
TAIWAN_MOBILE = [
    "0912-345-678", "手機 0987-654-321", "0922 333 444", "0955.666.777", "聯絡電話0933-111-222",
    "+886 912 345 678", "+886-987-654-321", "call 0911 222 333", "(0988)765-432",
    "0910-000-999 王小姐",
]
CHINESE_NUMERALS = [
    "一三八一二三四五六七八", "电话幺五九八七六五四三二一", "手机一七七 一二三四 九八七六",
    "一八六零零零零一一一一", "联系一三五一一一一二二二二", "壹叁玖壹贰叁肆伍陆柒捌",
    "一九九五五五五六六六六找我", "号码是一四七五六七八一二三四", "打一六六二三四五六七八九",
    "一八八一二三四〇〇〇〇",
]
FULL_WIDTH = [
    "１３８１２３４５６７８", "电话：１５９８７６５４３２１", "１７７－１２３４－９８７６",
    "手机１８６．００００．１１１１", "１３５　１１１１　２２２２", "联系１３９１２３４５６７８",
    "＋８６　１９９　５５５５　６６６６", "０９１２－３４５－６７８", "０５７１－８８８８６６６６",
    "（０２０）８８８８－６６６６",
]
LANDLINE = [
    "0571-88886666", "座机 010-12345678", "(020) 8888-6666", "电话0755-2345 6789",
    "+86 21 5432 1098", "02-2345-6789", "tel (0512) 6543-2100", "办公室 0371-6789 0123",
    "0898-66778899转8001", "+1 415 555 0123",
]
ADDRESS_CN = [
    "浙江省杭州市西湖区文三路100号3栋201室", "送到幸福小区5号楼2单元301",
    "朝阳区建国路88号SOHO现代城A座1502", "上海市浦东新区世纪大道100号环球金融中心45层",
    "地址：天河区体育西路191号中石化大厦B塔2201室", "台北市信義區信義路五段7號89樓",
    "放在阳光花园12栋门口", "北京市海淀区中关村大街27号1101室", "南京市鼓楼区中山路321号7幢602",
    "深圳市南山区科技园南区深南大道10000号腾讯大厦",
]
ADDRESS_EN = [
    "ship to 12 Queen's Road Central, Flat 3B", "Room 1502, 88 Jianguo Road",
    "Apt 5, 221B Baker Street", "deliver to 350 Fifth Avenue Suite 300", "Unit 7, 10 Downing St",
    "Block A, Building 3, Floor 12",
    "1 Infinite Loop, Cupertino", "Flat 12/F, 33 Nathan Road", "Apartment 4C, 55 Water Street",
    "Rm 808, Tower 2, 1 Harbour Road",
]

PHONE_FORMS = {
    "mobile": MOBILE_PLAIN, "dotted": MOBILE_DOTTED, "dashed": MOBILE_DASHED,
    "international": MOBILE_INTERNATIONAL, "taiwan": TAIWAN_MOBILE,
    "chinese numerals": CHINESE_NUMERALS, "full width": FULL_WIDTH, "landline": LANDLINE,
}


def digit_runs(text: str) -> list[str]:
    """The digits of `text` (any notation) with separators inside a number dropped."""
    joined = re.sub(r"(?<=\d)[\s.\-()]+(?=\d)", "", normalise_digits(text))
    return re.findall(r"\d+", joined)


@pytest.mark.parametrize(("form", "text"), [(f, t) for f, ts in PHONE_FORMS.items() for t in ts])
def test_phone_numbers_in_every_form_are_masked(form, text):
    masked = mask_sensitive(text)
    assert "*" in masked, masked
    longest = max((len(run) for run in digit_runs(masked)), default=0)
    assert longest <= 4, f"{form}: {text!r} -> {masked!r} keeps {longest} digits in a row"


@pytest.mark.parametrize(("text", "masked"), [
    ("13812345678 1234", "138****5678 1234"),
    ("13812345678-1234", "138****5678-1234"),
    ("电话13812345678 5678 9999", "电话138****5678 567***99"),
])
def test_digits_next_to_a_masked_number_are_not_masked_again(text, masked):
    assert mask_sensitive(text) == masked
    assert mask_sensitive(masked) == masked


@pytest.mark.parametrize("text", ADDRESS_CN + ADDRESS_EN)
def test_addresses_with_a_building_or_room_are_masked(text):
    masked = mask_sensitive(text)
    assert ADDRESS_MASK in masked, masked
    assert not re.search(r"\d+\s*(室|单元|單元|栋|棟|幢|號|号|层|層|樓)", normalise_digits(masked))
    assert not re.search(r"(?i)\b(room|rm|flat|apt|apartment|suite|unit|floor)\s*\w*\d", masked)


# --- what stays ---------------------------------------------------------------------------
ORDINARY = [
    "亲，您的订单ord-20261122-5531（运单号：ZT7300012345678）已发货",
    "快件已到达【杭州转运中心】",
    "新的预计发货日期为11月26日",
    "Your order o-1 shows as delivered on 26 Nov 2026",
    "notification 4b1c6a2e-9f0d-5c3b-8a7e-1d2f3a4b5c6d sent at 2026-11-22T09:30:00+08:00",
    "offset 1234567 of partition 3, took 0.25s",
    "http://127.0.0.1:19092/readyz",
    "下周3号发货，一共两件",
    "tracking SF1234567890123 and YT7300012345678",
    "我买了一件衣服，三十块",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text):
    assert mask_sensitive(text) == text


# --- properties ---------------------------------------------------------------------------
FULL = str.maketrans("0123456789+-. ()", "０１２３４５６７８９＋－．　（）")
NUMERALS = str.maketrans("0123456789", "〇一二三四五六七八九")
SEPARATORS = st.sampled_from(["", " ", "-", ".", " - "])
AROUND = st.text(st.sampled_from("请联系电话手机收件人派送员，。：:() \n到了谢谢"), max_size=12)


@st.composite
def phone_numbers(draw) -> tuple[str, str]:
    """(how it is written, its digits): a mainland mobile in any notation."""
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    sep = draw(SEPARATORS)
    written = sep.join([digits[:3], digits[3:7], digits[7:]])
    prefix = draw(st.sampled_from(["", "+86 ", "+86-", "0086 ", "(+86) "]))
    written = prefix + written
    notation = draw(st.sampled_from(["ascii", "full width", "numerals"]))
    if notation == "full width":
        written = written.translate(FULL)
    elif notation == "numerals":
        written = written.translate(NUMERALS)
    return written, digits


@settings(max_examples=300, deadline=None)
@given(phone_numbers(), AROUND, AROUND)
def test_no_phone_number_survives_in_any_notation(phone, before, after):
    written, digits = phone
    masked = mask_sensitive(before + written + after)
    assert max((len(run) for run in digit_runs(masked)), default=0) <= 4, masked
    assert digits not in "".join(digit_runs(masked)), masked


PHONE_LIKE = st.text(st.sampled_from("0123456789 -.+()一三八〇１２号路室栋座小区Room F/"),
                     max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | PHONE_LIKE | st.tuples(PHONE_LIKE, phone_numbers(), PHONE_LIKE).map(
    lambda parts: parts[0] + parts[1][0] + parts[2]))
def test_masking_twice_changes_nothing_and_never_fails(text):
    once = mask_sensitive(text)
    assert mask_sensitive(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Nd", "No", "Nl")).filter(
    lambda c: normalise_digits(c) == c), max_size=60))
def test_text_without_digits_or_numerals_is_left_alone_unless_it_names_a_place(text):
    masked = mask_sensitive(text)
    assert masked == text or ADDRESS_MASK in masked
