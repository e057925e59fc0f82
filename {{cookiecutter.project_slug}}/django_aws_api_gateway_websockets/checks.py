"""System checks (``manage.py check``) for ``WebSocketView`` subclasses.

They catch, before the first message, handler lists naming what can never be a
handler (``dispatch``, ``_private``, ...) and channel name patterns that are not
regular expressions. At run time such names are refused anyway.
"""

import re

from django.core.checks import Error, Tags, register

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
