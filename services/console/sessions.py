"""The signed session cookie and CSRF tokens. The cookie holds the user's name and a
random nonce, signed and timestamped (itsdangerous); the CSRF token of a session is an
HMAC of its nonce, sent with every POST (header `X-CSRF-Token` or form field
`csrf_token`). Before login, a signed pre-session nonce protects the login form."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "kefu_session"
LOGIN_COOKIE = "kefu_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class Session:
    name: str
    nonce: str


class Sessions:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = secret.encode()
        self._session = URLSafeTimedSerializer(secret, salt="kefu-console-session")
        self._login = URLSafeTimedSerializer(secret, salt="kefu-console-login")
        self.ttl = ttl_seconds

    def issue(self, name: str) -> str:
        return self._session.dumps({"u": name, "n": secrets.token_urlsafe(16)})

    def read(self, cookie: str | None) -> Session | None:
        """The session of a cookie this console signed within the TTL, else None."""
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=self.ttl)
        except BadSignature:  # also expired (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) \
                or not isinstance(data.get("n"), str):
            return None
        return Session(data["u"], data["n"])

    def login_nonce(self, cookie: str | None) -> tuple[str, str | None]:
        """(nonce, cookie to set or None): the login form's CSRF nonce, kept in a signed
        cookie so that the POST can be checked."""
        if cookie:
            try:
                return self._login.loads(cookie, max_age=3600), None
            except BadSignature:
                pass
        nonce = secrets.token_urlsafe(16)
        return nonce, self._login.dumps(nonce)

    def csrf(self, nonce: str) -> str:
        return hmac.new(self._key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, nonce: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf(nonce), presented or "")
