"""Who may see and do what (pure). A supervisor sees and acts on their own shops; an
analyst sees their shops and acts on none; an admin sees and acts on every shop."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ConsoleRole(StrEnum):
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: ConsoleRole
    shops: frozenset[str]

    @property
    def admin(self) -> bool:
        return self.role == ConsoleRole.ADMIN

    def sees(self, shop: str) -> bool:
        return self.admin or shop in self.shops

    def may_act(self, shop: str) -> bool:
        """Acknowledge, reassign, publish scripts: never an analyst, never another shop."""
        return self.role != ConsoleRole.ANALYST and self.sees(shop)

    def visible(self, known: set[str]) -> list[str]:
        """The shops in the picker: an admin's are every shop kefu knows of."""
        return sorted(known | self.shops) if self.admin else sorted(self.shops)
