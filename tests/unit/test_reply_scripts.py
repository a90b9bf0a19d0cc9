"""The router's reply scripts (pure): the buyer's language, and up to three scripts of
the intent in it, newest first; a retired script is gone."""

from __future__ import annotations

from types import SimpleNamespace

from services.router.reply_scripts import ShopScripts, buyer_locale, stored_value


def script(intent: str, locale: str, text: str, *, retired: bool = False):
    return SimpleNamespace(intent=intent, locale=locale, text=text, retired=retired)


def test_the_buyers_language_is_chinese_when_they_write_a_chinese_character() -> None:
    assert buyer_locale("什么时候发货") == buyer_locale("幾時發貨?") == "zh-CN"
    assert buyer_locale("when will it ship 😀") == "en"


def test_three_scripts_of_the_intent_in_the_buyers_language_newest_first() -> None:
    scripts = ShopScripts()
    for n in range(5):
        scripts.put(f"s{n}", stored_value(script("urge_shipment", "zh-CN", f"话术{n}"), n))
    scripts.put("en", stored_value(script("urge_shipment", "en", "Ships in 48 h"), 9))
    scripts.put("other", stored_value(script("bargaining", "zh-CN", "不议价"), 9))
    assert scripts.suggested("urge_shipment", "zh-CN") == [
        {"script_id": "s4", "text": "话术4"}, {"script_id": "s3", "text": "话术3"},
        {"script_id": "s2", "text": "话术2"}]
    assert scripts.suggested("urge_shipment", "en") == [{"script_id": "en",
                                                         "text": "Ships in 48 h"}]


def test_a_retired_script_is_no_longer_suggested() -> None:
    scripts = ShopScripts([("s1", stored_value(script("greeting", "en", "Hi!"), 1))])
    scripts.put("s1", stored_value(script("greeting", "en", "Hi!", retired=True), 2))
    assert scripts.suggested("greeting", "en") == []
