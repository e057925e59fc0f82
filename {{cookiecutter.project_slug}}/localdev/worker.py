"""The Celery worker ``manage.py dev`` starts when the project sends in the background.

A project baked with ``background_sends=celery`` has a Celery app (``config/celery.py``)
and a broker URL; ``make dev`` then runs one worker beside runserver, after checking
that the broker answers, so that a missing Redis is named before anything starts.
"""

import importlib.util
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import CommandError

# Two pool processes: a background send's chunks go out two at a time, as on a small server.
WORKER_ARGUMENTS = ["-m", "celery", "-A", "config", "worker", "--concurrency", "2"]


def background_worker_arguments(verbose=False):
    """The worker's command line (after the interpreter), or None without Celery;
    quiet but for warnings and errors unless ``verbose``."""
    if not getattr(settings, "CELERY_BROKER_URL", None) or importlib.util.find_spec("celery") is None:
        return None
    check_broker(settings.CELERY_BROKER_URL)
    return [*WORKER_ARGUMENTS, "--loglevel", "INFO" if verbose else "WARNING"]


def check_broker(url, timeout=2):
    """Refuse to start when a Redis broker does not accept connections."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return
    address = (parts.hostname or "127.0.0.1", parts.port or 6379)
    try:
        socket.create_connection(address, timeout=timeout).close()
    except OSError as exc:
        raise CommandError(
            f"The Celery broker at {address[0]}:{address[1]} (CELERY_BROKER_URL) does not answer "
            f"({exc.strerror or exc}). Background sends need Redis: start it (Debian: apt-get install "
            "redis-server; macOS: brew services start redis) or point CELERY_BROKER_URL at one."
        ) from exc
