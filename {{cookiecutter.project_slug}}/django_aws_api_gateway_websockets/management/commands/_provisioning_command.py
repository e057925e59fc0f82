"""What createApiGateway, createCustomDomain and syncapigateway have in common."""

from django.core.management.base import BaseCommand, CommandError

from django_aws_api_gateway_websockets import provisioning
from django_aws_api_gateway_websockets.models import ApiGateway


class ProvisioningCommand(BaseCommand):
    """Run one provisioning function for ``--pk`` (or ``--all``) and print what it did."""

    provision = None  # a function of django_aws_api_gateway_websockets.provisioning
    allow_all = False

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--pk", type=int, help="Primary key of the ApiGateway record.")
        if self.allow_all:
            target.add_argument("--all", action="store_true", help="Every ApiGateway record whose API was created.")

    def records(self, options):
        if options.get("all"):
            return list(ApiGateway.objects.filter(api_created=True).order_by("pk"))
        record = ApiGateway.objects.filter(pk=options["pk"]).first()
        if record is None:
            raise CommandError(f"No ApiGateway record with pk={options['pk']}")
        return [record]

    def handle(self, *args, **options):
        failures = []
        for record in self.records(options):
            try:
                report = self.provision(record)
            except provisioning.ProvisioningError as exc:
                failures.append(f"{record} (pk={record.pk}): {exc}")
                continue
            self.stdout.write(self.style.SUCCESS(f"{record} (pk={record.pk}): {report.summary()}"))
            if record.api_endpoint:
                self.stdout.write(f"  WebSocket URL: {record.websocket_url}")
        if failures:
            raise CommandError(" | ".join(failures))
