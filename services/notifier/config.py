"""Start-up checks of the notify part of the policy that the policy loader does not
make: template placeholders and webhook secrets. Any problem stops the service with a
message naming the shop and key; nothing is half-applied."""

from __future__ import annotations

from collections.abc import Mapping

from services.core.policy import Policy, ShopPolicy
from services.notifier.templates import TemplateError, check_templates


class NotifierConfigError(ValueError):
    """The policy cannot be used by the notifier; one line per problem."""


def _shops(policy: Policy) -> dict[str, ShopPolicy]:
    return {"default": policy.default, **policy.shops}


def check_policy_templates(policy: Policy) -> None:
    """Every shop's template overrides use only the placeholders of their kind. A shop
    that only inherits ``default``'s overrides is reported once, under ``default``."""
    inherited = policy.default.notify.templates
    templates = {shop: p.notify.templates for shop, p in _shops(policy).items()
                 if shop == "default" or p.notify.templates != inherited}
    try:
        check_templates(templates)
    except TemplateError as exc:
        lines = [f"{policy.source}: {line}" for line in str(exc).splitlines()]
        raise NotifierConfigError("\n".join(lines)) from None


def webhook_secrets(policy: Policy, environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The HMAC secrets of the shops that deliver by webhook, read from the environment
    variables named by ``notify.webhook.secret_env``; and the shops whose webhooks go
    unsigned (no ``secret_env``). A named variable that is unset stops the service."""
    secrets, unsigned, errors = {}, [], []
    for shop, p in _shops(policy).items():
        notify = p.notify
        if "webhook" not in (notify.channels.buyer, notify.channels.supervisor):
            continue
        name = notify.webhook.secret_env
        if name is None:
            unsigned.append(shop)
        elif environ.get(name):
            secrets[name] = environ[name]
        else:
            errors.append(f"{policy.source}: shops.{shop}.notify.webhook.secret_env: "
                          f"environment variable {name} is not set")
    if errors:
        raise NotifierConfigError("\n".join(errors))
    return secrets, unsigned
