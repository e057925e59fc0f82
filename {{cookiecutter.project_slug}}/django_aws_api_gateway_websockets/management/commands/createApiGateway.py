"""``python manage.py createApiGateway --pk=N``: create (or complete) the API in AWS."""

from django_aws_api_gateway_websockets import provisioning

from ._provisioning_command import ProvisioningCommand


class Command(ProvisioningCommand):
    help = (
        "Create the API Gateway WebSocket API of an ApiGateway record, with its integrations, routes, "
        "stage and deployment. Safe to run again: it completes what a failed run left."
    )
    provision = staticmethod(provisioning.create_api)
