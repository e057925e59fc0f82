"""``python manage.py syncapigateway --pk=N`` (or ``--all``): bring AWS in line."""

from django_aws_api_gateway_websockets import provisioning

from ._provisioning_command import ProvisioningCommand


class Command(ProvisioningCommand):
    help = (
        "Bring a created API in line with its ApiGateway record and additional routes: create missing "
        "routes, update changed integrations, delete removed routes, deploy once if anything changed."
    )
    provision = staticmethod(provisioning.sync)
    allow_all = True
