"""The server-side producer: push the dashboard's figures now, then at an interval.

``manage.py dashboard_producer`` runs it; anything else (a test, a worker of your
own) can call :func:`run_producer` with a ``threading.Event`` to stop it.
"""

import logging
import time

from django.db import close_old_connections, connection

from .figures import push_figures

logger = logging.getLogger(__name__)


def run_producer(stop, every=None, times=None, on_push=None):
    """Push figures once, or every ``every`` seconds until ``stop`` is set or
    ``times`` pushes were attempted. ``on_push(sample, report)`` is called after
    each successful push. Returns the number of successful pushes.

    In a loop, a failed push (database down, say) is logged and the loop goes on;
    a single push lets the error propagate.
    """
    pushes = attempts = 0
    while not stop.is_set():
        started = time.monotonic()
        _drop_stale_connections()
        attempts += 1
        try:
            sample, report = push_figures()
        except Exception:
            if every is None:
                raise
            logger.exception("Pushing the dashboard figures failed; trying again in %s s", every)
        else:
            pushes += 1
            if on_push is not None:
                on_push(sample, report)
        if every is None or (times is not None and attempts >= times):
            break
        stop.wait(max(0.0, every - (time.monotonic() - started)))
    _drop_stale_connections()
    return pushes


def _drop_stale_connections():
    """A long-running loop must not hold on to a connection the server dropped; but
    a caller's open transaction (a test's, say) is left alone."""
    if not connection.in_atomic_block:
        close_old_connections()
