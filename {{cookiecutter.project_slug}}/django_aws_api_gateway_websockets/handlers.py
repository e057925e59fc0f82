"""Which method of a ``WebSocketView`` handles a message.

API Gateway has already chosen the route (and so the view); the view then chooses
its method from the message body, in this order:

1. ``body[handler_selection_key]`` (``"handler"``): the client names the method. It
   must be an allowed handler, else the message is refused (400).
2. ``body[route_selection_key]`` (``"action"``): the method of that name when it is
   an allowed handler; ``default`` when it simply is not one; refused (400) when it
   names something that must never be called (``_private``, ``dispatch``, ...).
3. The route: the URL's ``route`` slug, or the view's ``route_key``. Same rule as 2.
4. ``default``.

Allowed handlers are ``ALLOWED_HANDLERS`` when the view sets it; otherwise the public
methods defined on the view's own classes (the subclasses of ``WebSocketView``, not
mixins), plus ``ADDITIONAL_ALLOWED_HANDLERS``. ``default`` and the built-in
``heartbeat`` are always allowed. Never allowed, whatever the lists say: names
starting with ``_`` and every name Django's ``View`` or ``WebSocketView`` defines
(``dispatch``, ``setup``, ``connect``, ``disconnect``, ``as_view``, ...).
"""

import functools
import inspect
import re

from django.views import View

from .rejections import bad_request

DEFAULT_HANDLER = "default"
HEARTBEAT_HANDLER = "heartbeat"
ALWAYS_ALLOWED = frozenset({DEFAULT_HANDLER, HEARTBEAT_HANDLER})
HANDLER_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")


@functools.cache
def reserved_names(base_class):
    """Public names of ``base_class`` (``WebSocketView``) and of Django's ``View``,
    and every HTTP method name: the view's machinery, never a handler."""
    names = {name for name in dir(base_class) if not name.startswith("_")}
    names.update(View.http_method_names)
    return frozenset(names - ALWAYS_ALLOWED)


def is_reserved(name, base_class):
    return name.startswith("_") or name in reserved_names(base_class)


@functools.cache
def allowed_handlers(view_class, base_class):
    """The handler names clients may select on ``view_class`` (computed once per class)."""
    explicit = view_class.ALLOWED_HANDLERS
    if isinstance(explicit, str):
        explicit = [explicit]
    if explicit:
        names = set(explicit)
    else:
        names = set()
        for klass in view_class.__mro__:
            if klass is not base_class and issubclass(klass, base_class):
                names.update(name for name, value in vars(klass).items() if inspect.isfunction(value))
        additional = view_class.ADDITIONAL_ALLOWED_HANDLERS or ()
        names.update([additional] if isinstance(additional, str) else additional)
    names.update(ALWAYS_ALLOWED)
    return frozenset(name for name in names if _may_be_called(view_class, base_class, name))


def _may_be_called(view_class, base_class, name):
    return (
        isinstance(name, str)
        and HANDLER_NAME_PATTERN.fullmatch(name) is not None
        and not is_reserved(name, base_class)
        and callable(getattr(view_class, name, None))
    )


def select_handler(view_class, base_class, body, route_name):
    """The name of the method that handles ``body`` arriving on ``route_name``."""
    allowed = allowed_handlers(view_class, base_class)
    handler_key = view_class.handler_selection_key
    if handler_key and handler_key in body:
        name = body[handler_key]
        if isinstance(name, str) and name in allowed:
            return name
        raise bad_request(
            "handler not allowed", f"{handler_key} {str(name)[:100]!r} is not a handler of {view_class.__name__}"
        )
    action_key = view_class.route_selection_key
    if action_key and action_key in body:
        return _by_route_name(body[action_key], action_key, allowed, view_class, base_class)
    if route_name:
        return _by_route_name(route_name, "route", allowed, view_class, base_class)
    return DEFAULT_HANDLER


def _by_route_name(name, source, allowed, view_class, base_class):
    """An action or route names a handler, or nothing in particular (-> default),
    but never the view's machinery."""
    if not isinstance(name, str):
        return DEFAULT_HANDLER
    if name in allowed:
        return name
    if is_reserved(name, base_class):
        raise bad_request("action not allowed", f"{source} {name[:100]!r} names internals of {view_class.__name__}")
    return DEFAULT_HANDLER
