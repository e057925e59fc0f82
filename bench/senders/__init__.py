"""The alternative WebSocket sender that ``bench/sender_tls.py`` measures the vendored
app's transport against (issue 15, part 2): ``aiohttp_sender``, a pooled
``aiohttp.ClientSession`` with the same interface as the app's ``sending/transport.py``
(``post_to_connections``, ``SendOptions``, ``SendReport``). The app's transport is the
other candidate, ``strict_minimal`` when the choice was made; the tests both candidates
passed then are the transport's own now, in ``suites/transport/``.

``vendored_app_path()`` puts the template's vendored app on ``sys.path`` (its files are
copied into a bake unrendered, so they import straight from the template), for the
shared ``sending.signing.RequestSigner`` that both are handed by their caller.
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


def vendored_transport():
    """The app's ``sending.transport`` and ``sending.signing`` modules, loaded from the
    template without running the app's package ``__init__`` files (they import Django,
    which the template's venv, where the measurement runs, does not have)."""
    import importlib
    import types

    app = vendored_app_path()
    for name, path in (
        ("django_aws_api_gateway_websockets", app),
        ("django_aws_api_gateway_websockets.sending", app / "sending"),
    ):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(path)]
            sys.modules[name] = package
    transport = importlib.import_module("django_aws_api_gateway_websockets.sending.transport")
    signing = importlib.import_module("django_aws_api_gateway_websockets.sending.signing")
    return transport, signing
