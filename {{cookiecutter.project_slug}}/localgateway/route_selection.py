"""Evaluate a WebSocket API's route selection expression against one message.

Supported forms, as AWS documents them:

* ``$request.body.action`` - one variable making up the whole expression;
* ``${request.body.service}/${request.body.action}`` - variables in braces mixed with
  static text;
* ``\\$default`` - a literal ``$default``.

Paths after ``request.body`` use dots and ``[index]`` / ``['name']`` steps. A path
that is missing evaluates to ``""``; objects and lists are turned into compact JSON
(AWS advises against relying on that). A message that is not JSON cannot be
evaluated (nor can one nested too deeply to parse): :func:`select_route_key` answers
``None`` and the caller uses ``$default``.
"""

import json
import re

_BRACED_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_MISSING = object()


class _NotJson(Exception):
    pass


def select_route_key(expression, message_text):
    """The route key ``expression`` selects for ``message_text``; None if not JSON."""
    expression = (expression or "").strip()
    body = _LazyBody(message_text)
    try:
        if expression.startswith("\\$"):
            return expression[1:]
        if expression.startswith("$request.") and "${" not in expression:
            return _evaluate_variable(expression[1:], body)
        return _BRACED_VARIABLE.sub(lambda match: _evaluate_variable(match.group(1), body), expression)
    except _NotJson:
        return None


class _LazyBody:
    """Parse the message once, and only if the expression reads it."""

    def __init__(self, text):
        self.text = text
        self._parsed = _MISSING

    def value(self):
        if self._parsed is _MISSING:
            try:
                self._parsed = json.loads(self.text)
            # Nesting deeper than the recursion limit fits in one frame: not JSON either.
            except (TypeError, ValueError, RecursionError):
                self._parsed = _NotJson
        if self._parsed is _NotJson:
            raise _NotJson
        return self._parsed


def _evaluate_variable(variable, body):
    variable = variable.strip()
    if variable == "request.body":
        return _as_text(body.value())
    if not variable.startswith("request.body"):
        # Headers, query strings and context are not available to message routing.
        return ""
    value = _walk(body.value(), variable[len("request.body") :])
    return "" if value is _MISSING else _as_text(value)


def _walk(value, path):
    position = 0
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            return _MISSING
        name, index, quoted, double_quoted = match.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        else:
            key = name if name is not None else (quoted if quoted is not None else double_quoted)
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        position = match.end()
    return value


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))
