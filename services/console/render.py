"""Templates (Jinja2, autoescaped) and the live board's panels."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from services.console import view
from services.console.i18n import translator

PANELS = ("queues", "agents", "near", "escalations", "letters")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("services.console", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.globals["may_acknowledge"] = view.may_acknowledge
    return env


class Renderer:
    def __init__(self, env: Environment | None = None) -> None:
        self.env = env or environment()

    def page(self, name: str, **context) -> str:
        return self.env.get_template(name).render(t=translator(context["lang"]), **context)

    def panels(self, board: dict, variant: tuple[str, bool]) -> dict[str, str]:
        """Each panel's inner HTML for pages in `variant` (language, may act)."""
        lang, may_act = variant
        context = {"board": board, "t": translator(lang), "may_act": may_act,
                   "rows": view.near_rows(board), "queues": view.queue_rows(board)}
        return {name: self.env.get_template(f"panel_{name}.html").render(**context)
                for name in PANELS}
