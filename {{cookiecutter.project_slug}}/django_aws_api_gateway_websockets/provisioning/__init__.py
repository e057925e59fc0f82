"""Create, and keep in step, the AWS side of an :class:`~..models.ApiGateway` record.

Used by the admin actions, the management commands, the signals and ``make dev`` alike:

* :func:`create_api` and :func:`sync` (``api``): the WebSocket API, its routes,
  integrations, stage and deployment;
* :func:`create_custom_domain` (``domain``): the custom domain, its mapping and DNS;
* ``signals``: a created API follows edits of its record and routes;
* ``app_routes``: the routes that installed apps declare.

Every failure is raised as :class:`ProvisioningError` with one readable line.
"""

from .api import create_api, sync
from .client import ProvisioningError, ProvisioningReport
from .domain import create_custom_domain

__all__ = ["ProvisioningError", "ProvisioningReport", "create_api", "create_custom_domain", "sync"]
