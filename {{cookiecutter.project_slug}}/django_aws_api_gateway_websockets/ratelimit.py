"""Connection attempts, limited per client address and per user.

Race-free without locks: each attempt is first written as a row (in autocommit, so
it is committed and visible to every Django process at once), then the attempts in
the window are counted, this one included. However concurrent attempts interleave,
the n-th row to commit is counted by its own attempt together with the n-1 before
it, so an attempt admitted under a limit of L was among the first L rows: no burst,
on any number of Django instances sharing PostgreSQL, admits more than L.

Refused attempts keep their row (``successful=False``): a client that keeps trying
stays limited, and the rows show who tried. ``WebSocketView`` runs this outside any
transaction (its callback is excluded from ``ATOMIC_REQUESTS``), which the reasoning
above needs.
"""

import logging
from datetime import timedelta

from django.db.models import Count, Q

from .models import ConnectionRateLimit
from .rejections import Rejection

logger = logging.getLogger(__name__)


def record_attempt(ip_address, user_id, *, max_attempts, window_minutes):
    """Write one attempt for ``ip_address`` (and ``user_id`` when known) and return
    its id; raise a 429 :class:`Rejection` when the address or the user has made more
    than ``max_attempts`` attempts in the last ``window_minutes``, this one included."""
    attempt = ConnectionRateLimit.objects.create(ip_address=ip_address, user_id=user_id)
    since = attempt.attempt_time - timedelta(minutes=window_minutes)
    ip_count, user_count = attempts_since(since, ip_address, user_id)
    if ip_count > max_attempts or user_count > max_attempts:
        raise Rejection(
            429,
            "too many connection attempts",
            f"{ip_count} attempts from {ip_address} and {user_count} by user {user_id} "
            f"in {window_minutes} min (limit {max_attempts})",
        )
    return attempt.pk


def attempts_since(since, ip_address, user_id):
    """``(attempts from ip_address, attempts by user_id)`` since ``since``, in one query."""
    recent = ConnectionRateLimit.objects.filter(attempt_time__gte=since)
    if user_id is None:
        return recent.filter(ip_address=ip_address).count(), 0
    by_ip, by_user = Q(ip_address=ip_address), Q(user_id=user_id)
    counts = recent.filter(by_ip | by_user).aggregate(ip=Count("pk", filter=by_ip), user=Count("pk", filter=by_user))
    return counts["ip"], counts["user"]


def mark_successful(attempt_id):
    """Record that the attempt opened a connection."""
    ConnectionRateLimit.objects.filter(pk=attempt_id).update(successful=True)
