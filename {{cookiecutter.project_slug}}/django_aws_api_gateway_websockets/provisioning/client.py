"""What every provisioning step shares: a boto3 client whose failures become one
readable :class:`ProvisioningError`, and the :class:`ProvisioningReport` of a run."""

import logging
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured

from .. import aws
from ..models import ApiGateway

logger = logging.getLogger(__name__)


class ProvisioningError(Exception):
    """AWS refused, or could not be reached; ``str()`` is a one-line reason."""


@dataclass
class ProvisioningReport:
    """What one provisioning run did, in words."""

    api_gateway: str
    actions: list = field(default_factory=list)
    deployment_id: str = ""

    @property
    def changed(self):
        return bool(self.actions)

    def add(self, action):
        logger.info("%s: %s", self.api_gateway, action)
        self.actions.append(action)

    def summary(self):
        return "; ".join(self.actions) if self.actions else "already up to date, nothing changed"


class AwsService:
    """A boto3 client whose failures become :class:`ProvisioningError`."""

    def __init__(self, service):
        try:
            self.client = aws.get_client(service)
        except (ImproperlyConfigured, BotoCoreError) as exc:
            raise ProvisioningError(f"AWS is not configured: {exc}") from exc

    def call(self, operation, missing_ok=False, **params):
        """Call ``operation`` (e.g. ``"CreateApi"``); None if ``missing_ok`` and not found."""
        method = getattr(self.client, _snake_case(operation))
        try:
            return method(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Unknown")
            if missing_ok and code in ("NotFoundException", "NoSuchHostedZone"):
                return None
            message = error.get("Message") or str(exc)
            raise ProvisioningError(f"{operation} failed: {code}: {message}") from exc
        except BotoCoreError as exc:
            raise ProvisioningError(f"{operation} failed: {exc}") from exc

    def everything(self, operation, **params):
        """All items of a paginated Get* operation."""
        items, token = [], None
        while True:
            page = self.call(operation, **params, **({"NextToken": token} if token else {}))
            items.extend(page.get("Items", []))
            token = page.get("NextToken")
            if not token:
                return items


def _snake_case(name):
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def save_fields(api_gateway, **fields):
    """Store ``fields`` on the record without save() (so no signal reacts to it)."""
    for name, value in fields.items():
        setattr(api_gateway, name, value)
    ApiGateway.objects.filter(pk=api_gateway.pk).update(**fields)
