"""The SQL files shipped with the package: table DDL (`sql/schema/`, applied in name
order) and named queries (`sql/queries/<name>.sql`). The same files serve chDB and a
ClickHouse server."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

_SQL = resources.files("services.analytics").joinpath("sql")


def schema_statements(*, retention_days: int) -> list[str]:
    """CREATE TABLE IF NOT EXISTS statements with the retention (TTL) filled in."""
    files = sorted((f for f in _SQL.joinpath("schema").iterdir() if f.name.endswith(".sql")),
                   key=lambda f: f.name)
    return [Template(f.read_text(encoding="utf-8")).substitute(retention_days=retention_days)
            for f in files]


@cache
def query(name: str) -> str:
    """The text of `sql/queries/<name>.sql`."""
    return _SQL.joinpath("queries", f"{name}.sql").read_text(encoding="utf-8")


def query_names() -> list[str]:
    return sorted(f.name[:-4] for f in _SQL.joinpath("queries").iterdir()
                  if f.name.endswith(".sql"))
