"""Redis keys the console owns (everything else it reads belongs to the role services,
`services/roles/keys.py`, and is only read). Global ones share the `{console}` hash tag;
per-shop ones the shop's, like every kefu key.

    kefu:{console}:users                   SET    user names
    kefu:{console}:user:<name>             HASH   hash (argon2), role, shops (JSON), created
    kefu:{console}:shops                   SET    shops seen on the topics (admins' picker)
    kefu:{console}:login:<digest>          STRING failed logins of one name from one
                                                  address (`throttle.py`)    TTL 15 min
    kefu:{console}:ended:<digest>          STRING a session ended by logging out
                                                  (`ended.py`)   TTL the session's
    kefu:{S}:console:escalations           ZSET   escalation id -> fired_at ms (latest 50)
    kefu:{S}:console:escalation            HASH   escalation id -> the message as on the topic
    kefu:{S}:console:acks                  HASH   escalation id -> JSON {by, at, note}  TTL 7 d
    kefu:{S}:console:letters               ZSET   letter JSON (no raw bytes) -> failed_at ms,
                                                  older than an hour trimmed    TTL 1 d
    kefu:{S}:console:scripts               HASH   script id -> JSON: what the console last
                                                  published of it, a retirement too until
                                                  the router has read it (the editor
                                                  merges it with the router's
                                                  kefu:{S}:reply_scripts, read only:
                                                  `listed_scripts.py`)
    kefu:{console}:letters                 ZSET   letters that name no shop (admins only)
"""

from __future__ import annotations

import hashlib

USERS = "kefu:{console}:users"
SHOPS = "kefu:{console}:shops"
ORPHAN_LETTERS = "kefu:{console}:letters"
FEED_SIZE = 50
ACK_TTL_S = 7 * 24 * 3600
LETTER_WINDOW_MS = 3600 * 1000


def user(name: str) -> str:
    return f"kefu:{{console}}:user:{name}"


def shop_prefix(shop: str) -> str:
    return f"kefu:{{{shop}}}:console:"


def escalations(shop: str) -> str:
    return shop_prefix(shop) + "escalations"


def escalation(shop: str) -> str:
    return shop_prefix(shop) + "escalation"


def acks(shop: str) -> str:
    return shop_prefix(shop) + "acks"


def letters(shop: str | None) -> str:
    return shop_prefix(shop) + "letters" if shop else ORPHAN_LETTERS


def scripts(shop: str) -> str:
    return shop_prefix(shop) + "scripts"


def login_failures(name: str, client: str) -> str:
    """Failed logins of `name` from `client` (`throttle.py`)."""
    return "kefu:{console}:login:" + _digest(f"{name}\0{client}")


def ended_session(nonce: str) -> str:
    """A session ended by logging out (`ended.py`)."""
    return "kefu:{console}:ended:" + _digest(nonce)


def _digest(text: str) -> str:
    """What a form or a cookie sent, hashed into a key part of fixed size."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
