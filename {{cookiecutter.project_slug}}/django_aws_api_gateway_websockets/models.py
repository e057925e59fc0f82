"""The app's records: API Gateway configuration, additional routes, one session per
WebSocket connection, single-use connection tokens and connection attempts."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .aws import management_endpoint_url
from .conf import DEFAULT_STAGE_NAME
from .managers import (  # MessageLimit, NoOpenSession: what the session manager takes and answers
    BackgroundSendManager,
    ConnectionRateLimitManager,
    MessageLimit,  # noqa: F401
    NoOpenSession,  # noqa: F401
    WebSocketSessionManager,
    WebSocketTokenManager,
)
from .sending import send_to_sessions

ROUTE_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
http_url = URLValidator(schemes=["http", "https"])


def validate_custom_route_key(value):
    if value.startswith("$") or not ROUTE_KEY_PATTERN.match(value):
        raise ValidationError(
            "A custom route key uses letters, digits, '_', '-', '.' or ':' and does not start with '$'."
        )


def normalised_field(name, value):
    """``value`` of the ``ApiGateway`` field ``name`` as it is stored."""
    value = value.strip()
    # The route is appended to the base endpoint, so it must end with '/'.
    if name == "target_base_endpoint" and value and not value.endswith("/"):
        value += "/"
    # Accept the "/hostedzone/Z123" form the AWS CLI prints.
    if name == "hosted_zone_id":
        value = value.removeprefix("/hostedzone/")
    return value


class ApiGateway(models.Model):
    """One AWS API Gateway WebSocket API, its stage and (optionally) its custom domain."""

    api_name = models.CharField(
        max_length=128, unique=True, help_text="A human-friendly name, e.g. 'Example production websocket API'."
    )
    api_description = models.TextField(blank=True, default="")
    default_channel_name = models.CharField(
        max_length=191, default="default", help_text="Channel given to a connection that asks for none."
    )
    domain_name = models.CharField(
        max_length=253, blank=True, default="", help_text="Custom WebSocket domain, e.g. ws.example.com."
    )
    target_base_endpoint = models.CharField(
        max_length=500,
        validators=[http_url],
        help_text="The Django URL API Gateway calls, minus the route slug: https://www.example.com/ws/",
    )
    certificate_arn = models.CharField(max_length=2048, blank=True, default="")
    hosted_zone_id = models.CharField(
        max_length=64, blank=True, default="", help_text="Route 53 hosted zone of the custom domain."
    )
    api_key_selection_expression = models.CharField(max_length=255, default="$request.header.x-api-key")
    route_selection_expression = models.CharField(max_length=255, default="$request.body.action")
    route_key = models.CharField(max_length=128, default="$default", help_text="The default route key.")
    stage_name = models.CharField(max_length=128, blank=True, default=DEFAULT_STAGE_NAME)
    stage_description = models.CharField(max_length=1024, blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    api_id = models.CharField(
        max_length=64, blank=True, default="", help_text="Filled in when the API is created in AWS."
    )
    api_endpoint = models.CharField(
        max_length=500, blank=True, default="", help_text="Filled in when the API is created in AWS."
    )
    api_gateway_domain_name = models.CharField(
        max_length=253, blank=True, default="", help_text="Point the custom domain's DNS record here."
    )
    api_mapping_id = models.CharField(max_length=64, blank=True, default="")
    api_created = models.BooleanField(default=False)
    custom_domain_created = models.BooleanField(default=False)
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "API Gateway"
        verbose_name_plural = "API Gateways"
        constraints = [
            models.UniqueConstraint(fields=["api_id"], condition=~Q(api_id=""), name="unique_api_id_when_set"),
        ]

    def __str__(self):
        return self.api_name

    def save(self, *args, **kwargs):
        for name in ("target_base_endpoint", "hosted_zone_id"):
            setattr(self, name, normalised_field(name, getattr(self, name)))
        if not self.stage_name:
            self.stage_name = DEFAULT_STAGE_NAME
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not isinstance(self.tags, dict) or not all(isinstance(v, str) for v in self.tags.values()):
            raise ValidationError({"tags": "Tags are a JSON object of string values."})

    @property
    def management_endpoint_url(self):
        """Base URL of the management API (``@connections``) for this API's stage."""
        return management_endpoint_url(self.api_endpoint, self.stage_name)

    @property
    def websocket_url(self):
        """The URL browsers connect to: the custom domain once it exists, else the
        API's own endpoint and stage."""
        if self.custom_domain_created and self.domain_name:
            return f"wss://{self.domain_name}"
        if self.api_endpoint:
            return f"{self.api_endpoint.rstrip('/')}/{self.stage_name or DEFAULT_STAGE_NAME}"
        return ""

    def integration_url_for(self, route_name):
        return f"{self.target_base_endpoint}{route_name}"


class ApiGatewayAdditionalRoute(models.Model):
    """A custom route key that API Gateway sends to its own Django URL."""

    api_gateway = models.ForeignKey(ApiGateway, on_delete=models.CASCADE, related_name="additional_routes")
    name = models.CharField(max_length=128)
    route_key = models.CharField(max_length=128, validators=[validate_custom_route_key])
    integration_url = models.CharField(
        max_length=500,
        validators=[http_url],
        help_text="The full Django URL for this route, e.g. https://www.example.com/ws/chat/.",
    )
    deployed = models.BooleanField(default=False)
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "API Gateway additional route"
        constraints = [
            models.UniqueConstraint(fields=["api_gateway", "route_key"], name="unique_route_key_per_api"),
        ]

    def __str__(self):
        return f"{self.route_key} → {self.integration_url}"


class WebSocketSession(models.Model):
    """One WebSocket connection held by API Gateway."""

    connection_id = models.CharField(max_length=128, unique=True)
    channel_name = models.CharField(max_length=191, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="websocket_sessions"
    )
    connected = models.BooleanField(default=True)
    api_gateway = models.ForeignKey(ApiGateway, on_delete=models.CASCADE, related_name="sessions")
    request_count = models.PositiveBigIntegerField(default=0)
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)
    # The message rate limit's current window: when it started and what it counted.
    window_started_on = models.DateTimeField(null=True, blank=True, editable=False)
    window_message_count = models.PositiveIntegerField(default=0, editable=False)
    # A digest of the browser's login session the connection was opened from, so that
    # logging out closes the connections of that browser (and only those).
    browser_session = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = WebSocketSessionManager()

    class Meta:
        verbose_name = "WebSocket session"
        indexes = [
            models.Index(fields=["channel_name", "connected"], name="ws_session_channel_idx"),
            models.Index(fields=["user", "connected"], name="ws_session_user_idx"),
            models.Index(fields=["connected", "updated_on"], name="ws_session_cleanup_idx"),
        ]

    def __str__(self):
        return f"{self.connection_id} ({self.channel_name})"

    def send_message(self, payload):
        """Send ``payload`` to this connection; returns a :class:`~.sending.SendReport`."""
        return send_to_sessions([self], payload)

    def close_connection(self):
        """Close this connection at API Gateway and mark the session disconnected."""
        return WebSocketSession.objects.filter(pk=self.pk).close_connections()


class WebSocketToken(models.Model):
    """A short-lived, single-use ticket to open one connection.

    ``token`` holds the SHA-256 digest of what the browser received; the token
    itself is never stored. ``session_key`` is the browser's login session, which must
    still be alive when the token is used.
    """

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="websocket_tokens")
    session_key = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used = models.BooleanField(default=False)
    # A digest of the browser's binding cookie: the token opens a socket from that browser only.
    browser_binding = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = WebSocketTokenManager()

    class Meta:
        verbose_name = "WebSocket token"
        indexes = [models.Index(fields=["user", "created_at"], name="ws_token_user_idx")]

    def __str__(self):
        return f"token for {self.user} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class ConnectionRateLimit(models.Model):
    """One connection attempt, counted against the limits of its address and user."""

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="websocket_connection_attempts",
    )
    attempt_time = models.DateTimeField(default=timezone.now, db_index=True)
    successful = models.BooleanField(default=False)

    objects = ConnectionRateLimitManager()

    class Meta:
        verbose_name = "connection attempt"
        indexes = [
            models.Index(fields=["ip_address", "attempt_time"], name="ws_attempt_ip_idx"),
            models.Index(fields=["user", "attempt_time"], name="ws_attempt_user_idx"),
        ]

    def __str__(self):
        return f"{self.ip_address or '?'} at {self.attempt_time:%Y-%m-%d %H:%M:%S}"


class BackgroundSend(models.Model):
    """A send handed to the task queue (``send_message(payload, background=True)``):
    the payload, whom it goes to, and, chunk by chunk, how it went."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The encoded JSON, checked against API Gateway's 128 KB limit when the send was asked for.
    payload = models.BinaryField()
    # The recipients' query as Django pickles it, sealed with an HMAC of the SECRET_KEY
    # (sending/background.py): evaluated by the planning task, not by the caller.
    recipients = models.BinaryField()
    chunk_size = models.PositiveIntegerField()
    # Filled in by the planning task: how many connected sessions there were then.
    planned = models.BooleanField(default=False)
    total = models.PositiveIntegerField(default=0)
    created_on = models.DateTimeField(auto_now_add=True)

    objects = BackgroundSendManager()

    class Meta:
        verbose_name = "background send"

    def __str__(self):
        return f"background send {self.pk} ({self.total} recipient(s))"

    def report(self):
        """A :class:`~.sending.background.BackgroundReport` of the chunks done so far."""
        from .sending.background import report_of

        return report_of(self)


class BackgroundSendChunk(models.Model):
    """One task's share of a background send: the sessions with a primary key from
    ``first_pk`` to ``last_pk``, and what happened to them."""

    send = models.ForeignKey(BackgroundSend, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_pk = models.BigIntegerField()
    last_pk = models.BigIntegerField()
    size = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # A few failed connection ids (digests) and why, for the report.
    failures = models.JSONField(default=dict, blank=True)
    # Its task was queued (a planning task run again queues only the others).
    queued = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "background send chunk"
        constraints = [models.UniqueConstraint(fields=["send", "index"], name="unique_chunk_per_background_send")]

    def __str__(self):
        return f"chunk {self.index} of {self.send_id}"
