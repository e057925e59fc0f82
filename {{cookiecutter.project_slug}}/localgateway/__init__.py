"""A local stand-in for AWS API Gateway WebSocket APIs (development and tests only).

One aiohttp server plays the three faces of API Gateway that the project uses:

* the data plane: browsers connect to ``ws://127.0.0.1:<port>/<stage>``; each
  ``$connect``, message and ``$disconnect`` becomes an HTTP POST to the deployed
  integration, exactly as AWS sends it (see ``integration.py``);
* the management API: ``POST|GET|DELETE /<stage>/@connections/<id>``, answering like
  AWS so an unmodified boto3 ``apigatewaymanagementapi`` client works;
* the control plane: the ``apigatewayv2`` REST-JSON operations the provisioning code
  calls (``/v2/...``) and a minimal Route 53 ``ChangeResourceRecordSets``.

It is not a production server: it keeps its state in memory (optionally in a JSON
file), accepts any AWS signature and is meant to listen on 127.0.0.1 only.
Start it with ``python manage.py localgateway`` or, in tests, with
:class:`~.threaded.ThreadedGateway`.
"""

from .config import GatewayConfig
from .server import create_app

__all__ = ["GatewayConfig", "create_app"]
