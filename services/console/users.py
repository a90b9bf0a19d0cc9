"""Console accounts in Redis (which the console owns): argon2id password hashes, a role
and the shops. Names are what the session cookie and the trusted header carry."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from services.console import keys
from services.console.access import ConsoleRole, User
from services.core.redis import reply_text

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password of anyone")  # same work for unknown names


class UserError(ValueError):
    """A name, role or shop list that cannot be stored."""


def new_password() -> str:
    return secrets.token_urlsafe(12)


class Users:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, name: str, password: str, role: str, shops: list[str]) -> User:
        """Create or replace `name` (a new password ends nothing else: sessions carry
        only the name, and are checked against the stored account on every request)."""
        if not NAME.match(name):
            raise UserError(f"invalid user name {name!r}: letters, digits and ._@- (64 at most)")
        try:
            role = ConsoleRole(role)
        except ValueError:
            raise UserError(f"role must be one of {', '.join(ConsoleRole)}") from None
        if role != ConsoleRole.ADMIN and not shops:
            raise UserError(f"a {role} needs --shop (a shop they run)")
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        await self.redis.hset(keys.user(name), mapping={
            "hash": _hasher.hash(password), "role": role.value,
            "shops": orjson.dumps(sorted(set(shops))),
            "created": datetime.now(UTC).isoformat()})
        await self.redis.sadd(keys.USERS, name)
        return User(name, role, frozenset(shops))

    async def remove(self, name: str) -> bool:
        await self.redis.srem(keys.USERS, name)
        return bool(await self.redis.delete(keys.user(name)))

    async def get(self, name: str) -> User | None:
        if not NAME.match(name or ""):
            return None
        role, shops = await self.redis.hmget(keys.user(name), "role", "shops")
        if role is None:
            return None
        return User(name, ConsoleRole(reply_text(role)), frozenset(orjson.loads(shops or b"[]")))

    async def verify(self, name: str, password: str) -> User | None:
        """The user, if the password is theirs; None otherwise (same work either way)."""
        stored = await self.redis.hget(keys.user(name), "hash") if NAME.match(name or "") \
            else None
        try:
            _hasher.verify(reply_text(stored) if stored else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return await self.get(name) if stored else None

    async def names(self) -> list[str]:
        return sorted(reply_text(n) for n in await self.redis.smembers(keys.USERS))
