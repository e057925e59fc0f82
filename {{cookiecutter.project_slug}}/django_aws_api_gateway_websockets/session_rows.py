"""The ``WebSocketSession`` rows on the hot paths, one statement each where possible.

API Gateway calls Django for every message, so the per-message work is a single
``UPDATE ... RETURNING``: it counts the message and refreshes ``updated_on`` only if
the connection is open and belongs to the calling API, and it reads the session back,
with what sending needs from its ``ApiGateway``, in the same round trip. Opening a
session is one ``INSERT ... ON CONFLICT DO NOTHING``, so a taken connection id is an
answer, not an exception. PostgreSQL and SQLite 3.35+ do both; on other databases
these functions fall back to ordinary ORM statements (one or two more queries).

When a statement matches no row, :func:`why_no_open_session` looks (read-only) for
the reason: unknown connection, another API's connection, or a closed one.
"""

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .db import supports_update_returning, update_returning
from .models import ApiGateway, WebSocketSession
from .rejections import Rejection, forbidden

# What sending a message needs from the session's API Gateway (see messaging). Its
# api_id is not read back: the statements only match sessions of the calling API.
GATEWAY_FIELDS_FOR_SENDING = ("api_endpoint", "stage_name")


def _quote(name):
    return connection.ops.quote_name(name)


def _session_table():
    return _quote(WebSocketSession._meta.db_table)


def _gateway_table():
    return _quote(ApiGateway._meta.db_table)


def _session_columns():
    return [_quote(field.column) for field in WebSocketSession._meta.concrete_fields]


def _gateway_columns():
    """Scalar subqueries returning the session's API Gateway fields next to its own."""
    gateway, session = _gateway_table(), _session_table()
    return [
        f"(SELECT {gateway}.{_quote(name)} FROM {gateway} "  # noqa: S608 - names from the models
        f"WHERE {gateway}.{_quote('id')} = {session}.{_quote('api_gateway_id')}) AS gateway_{name}"
        for name in GATEWAY_FIELDS_FOR_SENDING
    ]


def _belongs_to_api():
    """SQL: the session's API Gateway has the API id given as a parameter."""
    gateway = _gateway_table()
    return (
        f"{_quote('api_gateway_id')} IN "  # noqa: S608 - names from the models
        f"(SELECT {gateway}.{_quote('id')} FROM {gateway} WHERE {gateway}.{_quote('api_id')} = %s)"
    )


def _from_db(model, field_name, value):
    """Convert a raw column value as the ORM would (SQLite returns text for datetimes)."""
    field = model._meta.get_field(field_name)
    column = field.get_col(model._meta.db_table)
    for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
        value = converter(value, column, connection)
    return value


def _session_from_row(row, api_id):
    """A real ``WebSocketSession`` (and a partly loaded ``ApiGateway`` holding what
    sending needs) from a row of ``_session_columns() + _gateway_columns()`` of a
    session of API ``api_id``."""
    fields = WebSocketSession._meta.concrete_fields
    values = [_from_db(WebSocketSession, field.name, row[field.column]) for field in fields]
    session = WebSocketSession.from_db(connection.alias, [field.attname for field in fields], values)
    # from_db takes the loaded values in the model's field order.
    loaded = {"id": session.api_gateway_id, "api_id": api_id}
    loaded.update((name, row[f"gateway_{name}"]) for name in GATEWAY_FIELDS_FOR_SENDING)
    names = [field.attname for field in ApiGateway._meta.concrete_fields if field.attname in loaded]
    gateway = ApiGateway.from_db(connection.alias, names, [loaded[name] for name in names])
    WebSocketSession.api_gateway.field.set_cached_value(session, gateway)
    return session


def _now_param():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def open_session(*, connection_id, channel_name, user_id, api_gateway):
    """Create the connected session; None when the connection id already has one."""
    now = timezone.now()
    session = WebSocketSession(
        connection_id=connection_id,
        channel_name=channel_name,
        user_id=user_id,
        api_gateway=api_gateway,
        connected=True,
        request_count=0,
        created_on=now,
        updated_on=now,
    )
    if supports_update_returning():
        fields = [field for field in WebSocketSession._meta.concrete_fields if not field.primary_key]
        columns = ", ".join(_quote(field.column) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        params = [field.get_db_prep_save(getattr(session, field.attname), connection) for field in fields]
        sql = (
            f"INSERT INTO {_session_table()} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names from the model
            f"ON CONFLICT ({_quote('connection_id')}) DO NOTHING RETURNING {_quote('id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        session.pk = row[0]
        session._state.adding = False
        session._state.db = connection.alias
        return session
    try:
        with transaction.atomic():
            session.save(force_insert=True)
    except IntegrityError:
        return None
    return session


def count_message(connection_id, api_id):
    """Count one message on the open session of ``connection_id`` under API
    ``api_id`` and return the session; None when there is no such open session."""
    if supports_update_returning():
        rows = update_returning(
            WebSocketSession,
            assignments=f"{_quote('request_count')} = {_quote('request_count')} + 1, {_quote('updated_on')} = %s",
            where=f"{_quote('connection_id')} = %s AND {_quote('connected')} = %s AND {_belongs_to_api()}",
            params=[_now_param(), connection_id, True, api_id],
            returning=_session_columns() + _gateway_columns(),
        )
        return _session_from_row(rows[0], api_id) if rows else None
    matched = _open_sessions(connection_id, api_id).update(
        request_count=F("request_count") + 1, updated_on=timezone.now()
    )
    if not matched:
        return None
    return WebSocketSession.objects.select_related("api_gateway").filter(connection_id=connection_id).first()


def find_open_session(connection_id, api_id):
    """The open session of ``connection_id`` under API ``api_id``, with its user and
    API Gateway, without changing it; None when there is none."""
    return _open_sessions(connection_id, api_id).select_related("user", "api_gateway").first()


def touch(connection_id, api_id):
    """Refresh ``updated_on`` of the open session (a heartbeat); True when it exists."""
    return bool(_open_sessions(connection_id, api_id).update(updated_on=timezone.now()))


def close_session(connection_id, api_id):
    """Mark the session of ``connection_id`` under API ``api_id`` disconnected and
    return it; None when there is no such session."""
    if supports_update_returning():
        rows = update_returning(
            WebSocketSession,
            assignments=f"{_quote('connected')} = %s, {_quote('updated_on')} = %s",
            where=f"{_quote('connection_id')} = %s AND {_belongs_to_api()}",
            params=[False, _now_param(), connection_id, api_id],
            returning=_session_columns() + _gateway_columns(),
        )
        return _session_from_row(rows[0], api_id) if rows else None
    sessions = WebSocketSession.objects.filter(connection_id=connection_id, api_gateway__in=_gateways(api_id))
    if not sessions.update(connected=False, updated_on=timezone.now()):
        return None
    return sessions.select_related("api_gateway").first()


def _gateways(api_id):
    return ApiGateway.objects.filter(api_id=api_id).values("pk")


def _open_sessions(connection_id, api_id):
    return WebSocketSession.objects.filter(
        connection_id=connection_id, connected=True, api_gateway__in=_gateways(api_id)
    )


def why_no_open_session(connection_id, api_id):
    """The :class:`Rejection` explaining why no open session matched (read-only)."""
    if not ApiGateway.objects.filter(api_id=api_id).exists():
        return forbidden("unknown API", f"API id {api_id!r} belongs to no registered ApiGateway")
    found = WebSocketSession.objects.filter(connection_id=connection_id).values_list("connected", "api_gateway__api_id")
    found = found.first()
    if found is None:
        return Rejection(404, "unknown connection", f"no session for connection {connection_id}")
    connected, session_api_id = found
    if session_api_id != api_id:
        return forbidden("unknown API", f"connection {connection_id} belongs to API {session_api_id!r}, not {api_id!r}")
    if not connected:
        return Rejection(410, "connection closed", f"connection {connection_id} is disconnected")
    return Rejection(409, "connection changed", f"connection {connection_id} changed during the request")
