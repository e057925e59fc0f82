"""Candidate WebSocket senders for issue 15 (part 2), measured by ``bench/sender_tls.py``.

Both modules have the public interface of the vendored app's ``transport.py``
(``post_to_connections``, ``SendOptions``, ``SendReport``):

* ``strict_minimal``: the app's own small HTTP/1.1 client, made strict;
* ``aiohttp_sender``: a pooled ``aiohttp.ClientSession``.

``vendored_app_path()`` puts the template's vendored app on ``sys.path`` (its files are
copied into a bake unrendered, so they import straight from the template), for the
shared ``sigv4.RequestSigner`` that both candidates are handed by their caller.
"""

import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2]
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"


def vendored_app_path():
    """Make ``django_aws_api_gateway_websockets`` importable from the template."""
    path = str(PROJECT)
    if path not in sys.path:
        sys.path.insert(0, path)
    return PROJECT / "django_aws_api_gateway_websockets"
