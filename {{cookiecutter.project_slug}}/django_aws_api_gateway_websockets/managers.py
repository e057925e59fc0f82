"""The statements on the hot paths, as manager methods of the app's models.

API Gateway calls Django for every message, so the per-message work is a single
``UPDATE ... RETURNING``: it counts the message and refreshes ``updated_on`` only if
the connection is open and belongs to the calling API, and reads the session back,
with what sending needs from its ``ApiGateway``, in the same round trip. Opening a
session is one ``INSERT ... ON CONFLICT DO NOTHING``, so a taken connection id is an
answer, not an exception; consuming a token is one ``UPDATE ... RETURNING`` too, so
exactly one of many concurrent ``$connect`` requests wins it.

They need ``RETURNING``: PostgreSQL, or SQLite 3.35 or newer (a system check says so
on any other database).

Each message is also counted in the connection's rate-limit window, in the same
statement, which matches nothing when the connection, or its user over all their
connections, has used up the window: a refused message stores nothing.

Rate limits (connection attempts, tokens issued) are race-free without locks: each
attempt is first written as a row, committed at once (the callers run outside any
transaction), then the rows in the window are counted, this one included. However
concurrent attempts interleave, an attempt admitted under a limit of L was among the
first L rows to commit, on any number of Django instances sharing the database.
"""

import enum
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from django.db import connections, models, router
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .conf import ws_setting
from .sending import close_sessions, send_to_sessions

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 256
# What sending a message needs from a session's API Gateway (see sending). Its api_id
# is not read back: the statements only match sessions of the calling API.
GATEWAY_FIELDS_FOR_SENDING = ("api_endpoint", "stage_name")


def supports_returning(connection):
    """Whether the database runs the ``... RETURNING`` statements of this module."""
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35, 0)


def digest(value):
    """SHA-256 hex digest of a secret value (a token, a session key, a cookie): what
    is stored and compared, so that the database never holds the value itself."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class _Sql:
    """Quoted names of one model's table for hand-written statements."""

    def __init__(self, model, connection):
        self.model = model
        self.connection = connection
        self.table = self.quote(model._meta.db_table)

    def quote(self, name):
        return self.connection.ops.quote_name(name)

    def column(self, field_name):
        return self.quote(self.model._meta.get_field(field_name).column)

    def execute(self, sql, params):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


# ----------------------------------------------------------------------- sessions


class NoOpenSession(enum.Enum):
    """Why no open session matched a request (see ``WebSocketSessionManager.why_not_open``)."""

    UNKNOWN_API = "the API id belongs to no registered ApiGateway"
    UNKNOWN_CONNECTION = "no session has this connection id"
    OTHER_API = "the connection belongs to another API"
    CLOSED = "the connection is disconnected"
    CONNECTION_RATE_LIMITED = "the connection sent its maximum of messages for the window"
    USER_RATE_LIMITED = "the user sent their maximum of messages for the window, over all connections"
    CHANGED = "the connection changed during the request"


@dataclass(frozen=True)
class MessageLimit:
    """At most ``per_connection`` messages per connection, and ``per_user`` per user
    over all their connections, in any ``window_seconds``."""

    per_connection: int
    per_user: int
    window_seconds: float

    def window_start(self, now):
        return now - timedelta(seconds=self.window_seconds)


class WebSocketSessionQuerySet(models.QuerySet):
    def connected(self):
        return self.filter(connected=True)

    def for_user(self, user):
        return self.filter(user=user)

    def in_channel(self, channel_name):
        return self.filter(channel_name=channel_name)

    def of_api(self, api_id):
        return self.filter(api_gateway__in=self._gateways(api_id))

    def _gateways(self, api_id):
        return self.model._meta.get_field("api_gateway").related_model.objects.filter(api_id=api_id).values("pk")

    def send_message(self, payload, background=False):
        """Send ``payload`` (a JSON-serialisable dict) to every connected session in
        this queryset; returns a :class:`~.sending.SendReport`.

        With ``background=True`` the sending is done by Celery tasks (see
        ``sending/background.py``): the call returns at once, with a
        :class:`~.models.BackgroundSend` whose ``report()`` fills in as chunks are sent."""
        if background:
            from .sending import background as background_sends

            return background_sends.start(self, payload)
        return send_to_sessions(self, payload)

    def close_connections(self):
        """Close every connected session's connection at API Gateway (its management
        API's DeleteConnection) and mark the sessions disconnected. Returns a
        :class:`~.sending.SendReport` (``delivered``: closed there and then)."""
        return close_sessions(self)


class WebSocketSessionManager(models.Manager.from_queryset(WebSocketSessionQuerySet)):
    """``open``, ``count_message``, ``touch`` and ``close`` take the connection id and
    the calling API's id, and only ever match a session of that API."""

    def _sql(self):
        return _Sql(self.model, connections[router.db_for_write(self.model)])

    def open(self, *, connection_id, channel_name, user_id, api_gateway, browser_session=""):
        """Create the connected session; None when the connection id already has one.
        ``browser_session`` is the browser's login session key (stored as a digest)."""
        now = timezone.now()
        session = self.model(
            connection_id=connection_id,
            channel_name=channel_name,
            user_id=user_id,
            api_gateway=api_gateway,
            connected=True,
            request_count=0,
            created_on=now,
            updated_on=now,
            browser_session=digest(browser_session) if browser_session else "",
        )
        sql = self._sql()
        fields = [field for field in self.model._meta.concrete_fields if not field.primary_key]
        values = [field.get_db_prep_save(getattr(session, field.attname), sql.connection) for field in fields]
        rows = sql.execute(
            f"INSERT INTO {sql.table} ({', '.join(sql.quote(field.column) for field in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({sql.column('connection_id')}) DO NOTHING RETURNING {sql.column('id')}",
            values,
        )
        if not rows:
            return None
        session.pk = rows[0][0]
        session._state.adding = False
        session._state.db = sql.connection.alias
        return session

    def count_message(self, connection_id, api_id, limit=None):
        """Count one message on the open session and return it (its ``api_gateway``
        holding what sending needs); None when there is no such open session, or when
        ``limit`` (a :class:`MessageLimit`) refuses one more message."""
        sql = self._sql()
        now = timezone.now()
        prep = sql.connection.ops.adapt_datetimefield_value
        count, started = sql.column("request_count"), sql.column("window_started_on")
        in_window = sql.column("window_message_count")
        assignments = f"{count} = {count} + 1, {sql.column('updated_on')} = %s"
        params = [prep(now)]
        conditions, condition_params = [], []
        if limit is not None:
            window_start = prep(limit.window_start(now))
            # A window still running counts on; an older one starts afresh with this message.
            assignments += (
                f", {in_window} = CASE WHEN {started} > %s THEN {in_window} + 1 ELSE 1 END"
                f", {started} = CASE WHEN {started} > %s THEN {started} ELSE %s END"
            )
            params += [window_start, window_start, prep(now)]
            user = sql.column("user")
            conditions += [
                f"({started} IS NULL OR {started} <= %s OR {in_window} < %s)",
                # The user's messages over all their open connections' running windows.
                f"({sql.table}.{user} IS NULL OR (SELECT COALESCE(SUM(others.{in_window}), 0) "  # noqa: S608
                f"FROM {sql.table} others WHERE others.{user} = {sql.table}.{user} "
                f"AND others.{sql.column('connected')} = %s AND others.{started} > %s) < %s)",
            ]
            condition_params += [window_start, limit.per_connection, True, window_start, limit.per_user]
        return self._update_session(
            sql,
            assignments=assignments,
            params=params,
            connection_id=connection_id,
            api_id=api_id,
            only_connected=True,
            conditions=conditions,
            condition_params=condition_params,
        )

    def close(self, connection_id, api_id):
        """Mark the session disconnected and return it; None when there is none."""
        sql = self._sql()
        now = sql.connection.ops.adapt_datetimefield_value(timezone.now())
        return self._update_session(
            sql,
            assignments=f"{sql.column('connected')} = %s, {sql.column('updated_on')} = %s",
            params=[False, now],
            connection_id=connection_id,
            api_id=api_id,
            only_connected=False,
        )

    def find_open(self, connection_id, api_id):
        """The open session with its user and API Gateway, unchanged; None without one."""
        return (
            self.filter(connection_id=connection_id, connected=True)
            .of_api(api_id)
            .select_related("user", "api_gateway")
            .first()
        )

    def touch(self, connection_id, api_id):
        """Refresh ``updated_on`` of the open session (a heartbeat); True when it exists."""
        open_sessions = self.filter(connection_id=connection_id, connected=True).of_api(api_id)
        return bool(open_sessions.update(updated_on=timezone.now()))

    def why_not_open(self, connection_id, api_id, limit=None):
        """The :class:`NoOpenSession` reason no open session matched (read-only)."""
        gateway_model = self.model._meta.get_field("api_gateway").related_model
        if not gateway_model.objects.filter(api_id=api_id).exists():
            return NoOpenSession.UNKNOWN_API
        found = (
            self.filter(connection_id=connection_id)
            .select_related("api_gateway")
            .only("connected", "user_id", "window_started_on", "window_message_count", "api_gateway__api_id")
            .first()
        )
        if found is None:
            return NoOpenSession.UNKNOWN_CONNECTION
        if found.api_gateway.api_id != api_id:
            return NoOpenSession.OTHER_API
        if not found.connected:
            return NoOpenSession.CLOSED
        if limit is not None:
            window_start = limit.window_start(timezone.now())
            running = found.window_started_on is not None and found.window_started_on > window_start
            if running and found.window_message_count >= limit.per_connection:
                return NoOpenSession.CONNECTION_RATE_LIMITED
            if found.user_id is not None:
                used = self.filter(user_id=found.user_id, connected=True, window_started_on__gt=window_start)
                if (used.aggregate(total=Sum("window_message_count"))["total"] or 0) >= limit.per_user:
                    return NoOpenSession.USER_RATE_LIMITED
        return NoOpenSession.CHANGED

    def _update_session(
        self, sql, *, assignments, params, connection_id, api_id, only_connected, conditions=(), condition_params=()
    ):
        """One ``UPDATE ... RETURNING`` of the session of ``connection_id`` under API
        ``api_id``; returns the session as the ORM would load it, or None."""
        gateway_model = self.model._meta.get_field("api_gateway").related_model
        gateway = _Sql(gateway_model, sql.connection)
        session_fields = list(self.model._meta.concrete_fields)
        gateway_id = f"{sql.table}.{sql.column('api_gateway')}"
        # The session's columns, then what sending needs from its gateway, by position.
        returning = [f"{sql.table}.{sql.quote(field.column)}" for field in session_fields] + [
            f"(SELECT {gateway.column(name)} FROM {gateway.table} "  # noqa: S608 - names from the models
            f"WHERE {gateway.column('id')} = {gateway_id})"
            for name in GATEWAY_FIELDS_FOR_SENDING
        ]
        where = [
            f"{sql.column('connection_id')} = %s",
            f"{sql.column('api_gateway')} IN (SELECT {gateway.column('id')} FROM {gateway.table} "  # noqa: S608
            f"WHERE {gateway.column('api_id')} = %s)",
        ]
        where_params = [connection_id, api_id]
        if only_connected:
            where.append(f"{sql.column('connected')} = %s")
            where_params.append(True)
        where += conditions
        where_params += condition_params
        rows = sql.execute(
            f"UPDATE {sql.table} SET {assignments} WHERE {' AND '.join(where)} "  # noqa: S608
            f"RETURNING {', '.join(returning)}",
            [*params, *where_params],
        )
        if not rows:
            return None
        row = rows[0]
        session = self._from_row(session_fields, row[: len(session_fields)], sql.connection)
        loaded = dict(zip(GATEWAY_FIELDS_FOR_SENDING, row[len(session_fields) :], strict=True))
        loaded.update(id=session.api_gateway_id, api_id=api_id)
        names = [field.attname for field in gateway_model._meta.concrete_fields if field.attname in loaded]
        api_gateway = gateway_model.from_db(sql.connection.alias, names, [loaded[name] for name in names])
        self.model.api_gateway.field.set_cached_value(session, api_gateway)
        return session

    def _from_row(self, fields, values, connection):
        """A model instance from raw column values, converted as the ORM would (SQLite
        returns text for datetimes)."""
        converted = []
        for field, value in zip(fields, values, strict=True):
            column = field.get_col(self.model._meta.db_table)
            for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
                value = converter(value, column, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, [field.attname for field in fields], converted)


# ------------------------------------------------------------------------- tokens


def token_digest(raw_token):
    """What is stored of a token: its SHA-256, so a stolen database holds no usable token."""
    return digest(raw_token)


@dataclass(frozen=True)
class ConsumedToken:
    """Who a consumed token was issued to: the user, their login session, and the
    digest of the browser's binding cookie."""

    user_id: int
    session_key: str
    browser_binding: str

    def issued_to_browser(self, binding_cookie):
        """Constant-time check that the token comes back from the browser it went to."""
        return bool(self.browser_binding and binding_cookie) and hmac.compare_digest(
            self.browser_binding.encode(), digest(binding_cookie).encode()
        )


class WebSocketTokenManager(models.Manager):
    """Single-use connection tokens: the browser asks the CSRF-protected token
    endpoint for one, then opens the socket with ``?ws_token=...``. A token lives
    ``TOKEN_EXPIRY_SECONDS``, is bound to the browser and login session that asked
    for it, and is consumed by exactly one ``$connect``, however many arrive at once."""

    def issue(self, user, session_key, binding_cookie=""):
        """``(raw token, expires in seconds)`` for ``user`` in login session
        ``session_key``, from the browser holding ``binding_cookie``; the raw token is
        shown once. None, keeping no token, when ``user`` already has
        ``TOKEN_RATE_LIMIT_MAX`` tokens from the window."""
        raw = secrets.token_urlsafe(TOKEN_BYTES)
        token = self.create(
            token=digest(raw),
            user=user,
            session_key=session_key or "",
            browser_binding=digest(binding_cookie) if binding_cookie else "",
        )
        if self._issued_since(user, token.created_at) > int(ws_setting("TOKEN_RATE_LIMIT_MAX")):
            token.delete()
            return None
        return raw, int(ws_setting("TOKEN_EXPIRY_SECONDS"))

    def issuing_limited(self, user):
        """True when ``user`` reached the token limit (a cheap check before writing;
        :meth:`issue` checks again, race-free)."""
        return self._issued_since(user, timezone.now()) >= int(ws_setting("TOKEN_RATE_LIMIT_MAX"))

    def _issued_since(self, user, until):
        window = timedelta(minutes=float(ws_setting("TOKEN_RATE_LIMIT_WINDOW_MINUTES")))
        return self.filter(user=user, created_at__gte=until - window).count()

    def consume(self, raw_token):
        """Mark the token used and return a :class:`ConsumedToken`; None when it is
        unknown, already used or expired. Exactly one caller wins for a given token."""
        if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
            return None
        oldest_valid = timezone.now() - timedelta(seconds=float(ws_setting("TOKEN_EXPIRY_SECONDS")))
        sql = _Sql(self.model, connections[router.db_for_write(self.model)])
        rows = sql.execute(
            f"UPDATE {sql.table} SET {sql.column('used')} = %s "  # noqa: S608 - names from the model
            f"WHERE {sql.column('token')} = %s AND {sql.column('used')} = %s AND {sql.column('created_at')} >= %s "
            f"RETURNING {sql.column('user')}, {sql.column('session_key')}, {sql.column('browser_binding')}",
            [True, digest(raw_token), False, sql.connection.ops.adapt_datetimefield_value(oldest_valid)],
        )
        return ConsumedToken(*rows[0]) if rows else None


# ------------------------------------------------------------- background sends


class BackgroundSendManager(models.Manager):
    def record(self, sessions, encoded_payload, chunk_size):
        """Store a send of ``encoded_payload`` to the queryset ``sessions``: its query,
        pickled as Django allows and sealed, not its rows (evaluating them is the
        planning task's work, not the caller's)."""
        from .sending.background import sealed_query

        return self.create(payload=encoded_payload, recipients=sealed_query(sessions), chunk_size=chunk_size)

    def finished_before(self, moment):
        """Sends created before ``moment`` whose chunks are all done (for clean-up)."""
        return self.filter(created_on__lt=moment, planned=True).exclude(chunks__done=False)


# -------------------------------------------------------------- connection attempts


@dataclass(frozen=True)
class AttemptCount:
    """One recorded connection attempt, and the attempts in its window (itself included)."""

    attempt_id: int
    by_address: int
    by_user: int

    def exceeds(self, limit):
        return self.by_address > limit or self.by_user > limit


class ConnectionRateLimitManager(models.Manager):
    def record_attempt(self, ip_address, user_id, *, window_minutes):
        """Write one attempt for ``ip_address`` (and ``user_id`` when known) and count
        the attempts of that address and that user in the last ``window_minutes``."""
        attempt = self.create(ip_address=ip_address, user_id=user_id)
        since = attempt.attempt_time - timedelta(minutes=window_minutes)
        recent = self.filter(attempt_time__gte=since)
        if user_id is None:
            return AttemptCount(attempt.pk, recent.filter(ip_address=ip_address).count(), 0)
        by_address, by_user = Q(ip_address=ip_address), Q(user_id=user_id)
        counts = recent.filter(by_address | by_user).aggregate(
            address=Count("pk", filter=by_address), user=Count("pk", filter=by_user)
        )
        return AttemptCount(attempt.pk, counts["address"], counts["user"])

    def mark_successful(self, attempt_id):
        """Record that the attempt opened a connection."""
        self.filter(pk=attempt_id).update(successful=True)
