"""``python manage.py createCustomDomain --pk=N``: custom domain, mapping and DNS."""

from django_aws_api_gateway_websockets import provisioning

from ._provisioning_command import ProvisioningCommand


class Command(ProvisioningCommand):
    help = (
        "Create the custom domain name of an ApiGateway record, map it to the stage and, when the record "
        "has a hosted zone id, point a Route 53 alias record at it."
    )
    provision = staticmethod(provisioning.create_custom_domain)
