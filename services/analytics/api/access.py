"""Who may see what: the admin token (`KEFU_ANALYTICS_TOKEN`) sees every shop and may run
SQL; a shop's token (the env variable its policy names in `analytics.token_env`) sees
that shop only."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from services.core.policy import Policy


class AccessError(ValueError):
    """The policy gives a token to more than one shop."""


@dataclass(frozen=True, slots=True)
class Grant:
    admin: bool
    shops: frozenset[str]

    def sees(self, shop_id: str) -> bool:
        return self.admin or shop_id in self.shops


@dataclass(frozen=True, slots=True)
class Tokens:
    admin: str | None
    shops: Mapping[str, str]  # token -> shop

    @classmethod
    def load(cls, admin: str | None, policy: Policy, environ: Mapping[str, str]) -> Tokens:
        if policy.default.analytics.token_env:
            raise AccessError("shops.default.analytics.token_env: a shop token sees one shop; "
                              "name it under that shop")
        shops: dict[str, str] = {}
        for shop_id, shop in policy.shops.items():
            token = environ.get(shop.analytics.token_env or "", "")
            if not token:
                continue
            if token in shops or token == admin:
                raise AccessError(f"shops.{shop_id}.analytics.token_env: the token of "
                                  f"{shop.analytics.token_env} is also another one's")
            shops[token] = shop_id
        return cls(admin or None, shops)

    @property
    def configured(self) -> bool:
        return bool(self.admin or self.shops)

    def grant(self, presented: str) -> Grant | None:
        """What the presented token may see, or None for no (or a wrong) token."""
        if not presented:
            return None
        if self.admin is not None and hmac.compare_digest(presented, self.admin):
            return Grant(True, frozenset())
        for token, shop_id in self.shops.items():
            if hmac.compare_digest(presented, token):
                return Grant(False, frozenset({shop_id}))
        return None
