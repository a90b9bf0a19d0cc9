"""Start-up checks of the notify part of the policy that the policy loader does not
make: template placeholders and webhook secrets. Any problem stops the service with a
message naming the shop and key; nothing is half-applied."""

from __future__ import annotations

from collections.abc import Mapping

from services.core.policy import Policy, ShopPolicy
from services.core.secret_list import secret_values
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
    variables named by ``notify.webhook.secret_env``; and the shops whose policy says
    ``unsigned: true``. Fail closed: a webhook shop with neither, a named variable that
    is unset, or both at once stops the service."""
    secrets, unsigned, errors = {}, [], []
    for shop, p in _shops(policy).items():
        hook, key = p.notify.webhook, f"{policy.source}: shops.{shop}.notify.webhook"
        if hook.unsigned and hook.secret_env:
            errors.append(f"{key}.unsigned: true, but secret_env names {hook.secret_env}: "
                          "say which one")
            continue
        if "webhook" not in (p.notify.channels.buyer, p.notify.channels.supervisor):
            continue
        name = hook.secret_env
        if hook.unsigned:
            unsigned.append(shop)
        elif name is None:
            errors.append(f"{key}.secret_env: not set, and webhooks are signed: name the "
                          "variable that holds the secret, or say unsigned: true")
        elif secret_values(environ.get(name)):  # several while rotated: new,old
            secrets[name] = environ[name]
        else:
            errors.append(f"{key}.secret_env: environment variable {name} is not set")
    if errors:
        raise NotifierConfigError("\n".join(errors))
    return secrets, unsigned
