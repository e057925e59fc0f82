"""System checks (``manage.py check``) of the app's configuration.

They catch, before the first request: a missing or weak gateway secret (every
callback would be refused, or guessable), a database the hot-path statements cannot
run on, handler lists naming what can never be a handler (``dispatch``,
``_private``, ...) and channel name patterns that are not regular expressions.
"""

import re

from django.core.checks import Error, Tags, Warning, register
from django.db import connections

from .conf import gateway_secret
from .managers import supports_returning
from .views import HANDLER_NAME_PATTERN, is_reserved_handler_name, websocket_view_classes


def handler_list_errors(view_class):
    """Errors for names in ``ALLOWED_HANDLERS``/``ADDITIONAL_ALLOWED_HANDLERS`` of
    ``view_class`` that can never be handlers. (Names of methods that only a
    subclass defines are fine: base views often list them.)"""
    errors = []
    label = f"{view_class.__module__}.{view_class.__qualname__}"
    for attribute in ("ALLOWED_HANDLERS", "ADDITIONAL_ALLOWED_HANDLERS"):
        names = getattr(view_class, attribute) or ()
        if isinstance(names, str):
            errors.append(Error(f"{label}.{attribute} is a string; use a set or list of names.", id="websockets.E001"))
            continue
        for name in names:
            if not isinstance(name, str) or not HANDLER_NAME_PATTERN.fullmatch(name) or is_reserved_handler_name(name):
                errors.append(
                    Error(
                        f"{label}.{attribute} names {name!r}, which can never be a handler.",
                        hint="Handlers are public methods; names of WebSocketView/View internals are refused.",
                        id="websockets.E002",
                    )
                )
    return errors


def channel_pattern_errors(view_class):
    label = f"{view_class.__module__}.{view_class.__qualname__}"
    try:
        re.compile(view_class.CHANNEL_NAME_PATTERN)
    except (re.error, TypeError) as error:
        return [Error(f"{label}.CHANNEL_NAME_PATTERN is not a regular expression: {error}", id="websockets.E003")]
    return []


@register(Tags.security)
def check_websocket_views(app_configs=None, **kwargs):
    base_class, *view_classes = websocket_view_classes()
    errors = channel_pattern_errors(base_class)
    for view_class in view_classes:
        if app_configs is not None and not any(view_class.__module__.startswith(c.name) for c in app_configs):
            continue
        errors.extend(handler_list_errors(view_class))
        errors.extend(channel_pattern_errors(view_class))
    return errors


# A secret shorter than this could be guessed; secrets.token_urlsafe(48) gives 64.
MIN_GATEWAY_SECRET_LENGTH = 32


@register(Tags.security)
def check_gateway_secret(app_configs=None, **kwargs):
    if not gateway_secret():
        return [
            Error(
                "The WEBSOCKET_GATEWAY_SECRET setting is empty: every call from API Gateway will be refused.",
                hint="Set WEBSOCKET_GATEWAY_SECRET in the environment (the template's .env has one); "
                "provisioning gives the same value to API Gateway.",
                id="websockets.E004",
            )
        ]
    problems = []
    for previous, name in ((False, "WEBSOCKET_GATEWAY_SECRET"), (True, "WEBSOCKET_GATEWAY_SECRET_PREVIOUS")):
        value = gateway_secret(previous=previous)
        if value and len(value) < MIN_GATEWAY_SECRET_LENGTH:
            problems.append(
                Warning(
                    f"The {name} setting is shorter than {MIN_GATEWAY_SECRET_LENGTH} characters.",
                    hint="python manage.py rotategatewaysecret --generate prints a strong one.",
                    id="websockets.W005",
                )
            )
    return problems


@register(Tags.database)
def check_database_supports_returning(app_configs=None, databases=None, **kwargs):
    problems = []
    for alias in databases or []:
        if not supports_returning(connections[alias]):
            problems.append(
                Error(
                    f"Database {alias!r} cannot run UPDATE ... RETURNING, which the WebSocket app's hot paths use.",
                    hint="Use PostgreSQL, or SQLite 3.35 or newer.",
                    id="websockets.E006",
                )
            )
    return problems
