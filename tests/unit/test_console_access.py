"""Who may see and do what, sessions and CSRF tokens (pure)."""

from __future__ import annotations

from services.console.access import ConsoleRole, User
from services.console.sessions import Sessions


def test_a_supervisor_sees_and_acts_on_their_shop_only() -> None:
    sup = User("wu", ConsoleRole.SUPERVISOR, frozenset({"a"}))
    assert sup.sees("a") and sup.may_act("a")
    assert not sup.sees("b") and not sup.may_act("b")
    assert sup.visible({"a", "b", "c"}) == ["a"]


def test_an_analyst_only_reads_and_an_admin_sees_every_shop() -> None:
    analyst = User("li", ConsoleRole.ANALYST, frozenset({"a"}))
    assert analyst.sees("a") and not analyst.may_act("a")
    admin = User("root", ConsoleRole.ADMIN, frozenset())
    assert admin.may_act("b") and admin.visible({"b", "a"}) == ["a", "b"]


def test_a_session_is_read_only_when_this_console_signed_it_within_its_ttl() -> None:
    sessions = Sessions("secret-1", ttl_seconds=60)
    cookie = sessions.issue("wu")
    assert sessions.read(cookie).name == "wu"
    assert sessions.read(cookie[:-2] + "xx") is None, "tampered"
    assert Sessions("secret-2", 60).read(cookie) is None, "another key"
    assert Sessions("secret-1", ttl_seconds=-1).read(cookie) is None, "expired"
    assert sessions.read(None) is None


def test_the_csrf_token_belongs_to_one_session() -> None:
    sessions = Sessions("secret-1", 60)
    one, two = sessions.read(sessions.issue("wu")), sessions.read(sessions.issue("wu"))
    token = sessions.csrf(one.nonce)
    assert sessions.csrf_ok(one.nonce, token)
    assert not sessions.csrf_ok(two.nonce, token)
    assert not sessions.csrf_ok(one.nonce, None) and not sessions.csrf_ok(one.nonce, "")
