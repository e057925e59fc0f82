"""Are the ports ``manage.py dev`` needs free? Checked before anything starts."""

import errno
import socket

HOST = "127.0.0.1"
# How far up suggest_free_ports looks for a free pair (8100/8101, 8200/8201, ...).
SUGGESTION_STEPS = 9


def is_free(port, host=HOST):
    """Whether a server could listen on ``host:port`` now.

    Bound the way runserver and the local gateway bind (with SO_REUSEADDR), so that
    connections of an earlier run still in TIME_WAIT do not count as busy; a program
    listening there, on this address or on all of them, does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def busy_ports(ports, host=HOST):
    """The ``(setting, port)`` pairs of ``ports`` (a dict setting -> port) that are taken."""
    return [(setting, port) for setting, port in ports.items() if not is_free(port, host)]


def suggest_free_ports(django_port, host=HOST):
    """A free (Django, gateway) pair near the configured one: django_port + 100 and the
    port after it, then + 200, ...; None if none of them is free."""
    for step in range(1, SUGGESTION_STEPS + 1):
        candidate = django_port + 100 * step
        if candidate + 1 <= 65535 and is_free(candidate, host) and is_free(candidate + 1, host):
            return candidate, candidate + 1
    return None


def busy_port_message(busy, django_port, host=HOST):
    """What to tell the user: which port is taken, by what setting, and how to choose others."""
    roles = {"DJANGO_PORT": "Django's runserver", "LOCAL_GATEWAY_PORT": "the local API Gateway"}
    lines = [
        f"Port {port} ({setting}, for {roles.get(setting, setting)}) is already in use on {host}."
        for setting, port in busy
    ]
    lines.append("Nothing was started. Stop the program that listens there (an earlier make dev, say),")
    suggestion = suggest_free_ports(django_port, host)
    django, gateway = suggestion or ("<port>", "<port>")
    lines.append(f"or choose free ports: DJANGO_PORT={django} LOCAL_GATEWAY_PORT={gateway} make dev")
    lines.append("(or set both in .env).")
    return "\n".join(lines)
