"""Single-use connection tokens.

The browser asks the CSRF-protected token endpoint for a token, then opens the
socket with ``?ws_token=...``. Only the SHA-256 digest is stored, so the database
lookup is by digest (no timing leak about the token itself), and a stolen database
does not hold usable tokens. A token is bound to the browser session that asked for
it, lives ``TOKEN_EXPIRY_SECONDS`` and is consumed by exactly one ``$connect``, even
when many arrive at once (the consuming UPDATE is atomic).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from .conf import ws_setting
from .db import supports_update_returning, update_returning
from .models import WebSocketToken

TOKEN_BYTES = 32


def digest(raw_token):
    return hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(user, session_key):
    """Create a token for ``user`` in browser session ``session_key``.

    Returns ``(raw_token, expires_in_seconds)``; the raw token is shown once. Returns
    None, and keeps no token, when ``user`` already has ``TOKEN_RATE_LIMIT_MAX``
    tokens from the window. Race-free like the connection rate limit: the token is
    written first (committed at once, outside any transaction), then the user's
    tokens in the window are counted, this one included, so however concurrent
    requests interleave, no burst gets more tokens than the limit.
    """
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = WebSocketToken.objects.create(token=digest(raw), user=user, session_key=session_key or "")
    if _tokens_in_window(user, token.created_at) > int(ws_setting("TOKEN_RATE_LIMIT_MAX")):
        token.delete()
        return None
    return raw, int(ws_setting("TOKEN_EXPIRY_SECONDS"))


def issuing_rate_limited(user):
    """True when ``user`` asked for more tokens than allowed in the window (a cheap
    check before writing anything; :func:`issue_token` checks again, race-free)."""
    return _tokens_in_window(user, timezone.now()) >= int(ws_setting("TOKEN_RATE_LIMIT_MAX"))


def _tokens_in_window(user, until):
    window = timedelta(minutes=ws_setting("TOKEN_RATE_LIMIT_WINDOW_MINUTES"))
    return WebSocketToken.objects.filter(user=user, created_at__gte=until - window).count()


@dataclass(frozen=True)
class ConsumedToken:
    user_id: int
    session_key: str

    def matches_session(self, session_key):
        """Constant-time check that the token belongs to this browser session."""
        return bool(session_key) and hmac.compare_digest(self.session_key.encode(), session_key.encode())


def consume_token(raw_token):
    """Mark the token used and return who it was for, or None when it is unknown,
    already used or expired. Exactly one caller wins for a given token."""
    if not raw_token or len(raw_token) > 256:
        return None
    token_digest = digest(raw_token)
    oldest_valid = timezone.now() - timedelta(seconds=ws_setting("TOKEN_EXPIRY_SECONDS"))
    if supports_update_returning():
        rows = update_returning(
            WebSocketToken,
            assignments="used = %s",
            where="token = %s AND used = %s AND created_at >= %s",
            params=[True, token_digest, False, connection.ops.adapt_datetimefield_value(oldest_valid)],
            returning=["user_id", "session_key"],
        )
        return ConsumedToken(**rows[0]) if rows else None
    with transaction.atomic():
        token = (
            WebSocketToken.objects.select_for_update()
            .filter(token=token_digest, used=False, created_at__gte=oldest_valid)
            .only("user_id", "session_key")
            .first()
        )
        if token is None:
            return None
        WebSocketToken.objects.filter(pk=token.pk).update(used=True)
        return ConsumedToken(user_id=token.user_id, session_key=token.session_key)
