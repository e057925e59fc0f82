"""Every row a WebSocket event or a token request could create or change, read with
plain SQL, so that tests can show a refused request changed nothing."""

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection

from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ApiGatewayAdditionalRoute,
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
)

# Model and the columns compared, per kind of row.
WATCHED_COLUMNS = {
    "sessions": (
        WebSocketSession,
        ["id", "connection_id", "channel_name", "user_id", "connected", "request_count", "updated_on"],
    ),
    "tokens": (WebSocketToken, ["id", "token", "user_id", "used", "session_key"]),
    "attempts": (ConnectionRateLimit, ["id", "ip_address", "user_id", "successful"]),
    "gateways": (ApiGateway, ["id", "api_id", "updated_on"]),
    "routes": (ApiGatewayAdditionalRoute, ["id", "updated_on"]),
    "users": (get_user_model(), ["id", "last_login", "password"]),
    "browser_sessions": (Session, ["session_key", "expire_date", "session_data"]),
}


def _state_queries():
    quote = connection.ops.quote_name
    queries = {}
    for name, (model, columns) in WATCHED_COLUMNS.items():
        column_list = ", ".join(quote(column) for column in columns)
        queries[name] = f"SELECT {column_list} FROM {quote(model._meta.db_table)} ORDER BY 1"  # noqa: S608
    return queries


def database_state():
    """Every watched row, read with plain SQL (the fuzzing reads it twice a case)."""
    state = {}
    with connection.cursor() as cursor:
        for name, sql in _state_queries().items():
            cursor.execute(sql)
            state[name] = cursor.fetchall()
    return state


def changes(before, after):
    """The parts of the database state that differ."""
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}
