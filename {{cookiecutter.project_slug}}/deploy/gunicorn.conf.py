"""gunicorn settings: `gunicorn --config deploy/gunicorn.conf.py config.wsgi:application`.

Every value comes from the environment (GUNICORN_*), with defaults for a server behind
nginx. API Gateway gives up on an integration request after 29 seconds, so a worker
that is still busy after GUNICORN_TIMEOUT seconds is killed before then: no request
outlives the answer API Gateway already gave the client.
"""

import multiprocessing
import os

# API Gateway's fixed limit for HTTP integrations (WebSocket APIs): 29 seconds.
API_GATEWAY_INTEGRATION_TIMEOUT = 29


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
# Threads let a worker wait on the database or on API Gateway's management API while
# another request runs; each API Gateway event is a short request.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 25)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, so a slow leak never becomes an outage.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

if not 0 < timeout < API_GATEWAY_INTEGRATION_TIMEOUT:
    raise ValueError(
        f"GUNICORN_TIMEOUT={timeout}: it must be between 1 and {API_GATEWAY_INTEGRATION_TIMEOUT - 1} seconds, "
        f"below API Gateway's {API_GATEWAY_INTEGRATION_TIMEOUT}-second integration timeout."
    )

# Only the proxy in front may tell gunicorn the original scheme and client address.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to stdout/stderr, where journald or the container runtime collects them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Method, path and protocol, never the query string (%(r)s, %(q)s, %(U)s%(q)s): the
# $connect callback carries the single-use connection token in /ws/connect?ws_token=...,
# and logs are kept longer, and read by more people, than any token should be.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-amzn-trace-id}i)s'
# Temporary request files in memory, not on a possibly slow or read-only disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
