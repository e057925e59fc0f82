"""Create the ApiGateway record a deployment needs, or bring it up to date, by name.

A release script runs this before ``createApiGateway``, so that releasing any number
of times leaves one record, and so one API on AWS::

    pk=$(python manage.py ensureapigateway --name my-site-production \\
        --target-base-endpoint https://www.example.com/ws/ --domain ws.example.com \\
        --site-url https://www.example.com)
    python manage.py createApiGateway --pk="$pk"

With ``--site-url``, the routes the installed apps declare (``websocket_routes`` on
their AppConfig, see ``app_routes``) are registered on the record at that site, so
the sync that follows creates them in API Gateway.

The record's primary key is the only thing written to stdout; what changed goes to
stderr. A blank option leaves the record's value as it is (so a certificate entered
in the admin survives a release whose environment does not name one).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...models import ApiGateway, normalised_field
from ...provisioning.app_routes import register_declared_routes
from ...provisioning.signals import auto_sync_suspended

# Command-line option (argparse dest) -> ApiGateway field.
OPTION_FIELDS = {
    "target_base_endpoint": "target_base_endpoint",
    "domain": "domain_name",
    "stage": "stage_name",
    "certificate_arn": "certificate_arn",
    "hosted_zone_id": "hosted_zone_id",
    "default_channel": "default_channel_name",
    "description": "api_description",
}


class Command(BaseCommand):
    help = (
        "Create or update, by --name, the ApiGateway record for a deployment and print its primary key. "
        "Idempotent; blank options leave fields unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="api_name of the record (unique)")
        parser.add_argument(
            "--target-base-endpoint",
            required=True,
            help="the Django URL API Gateway calls, minus the route: https://www.example.com/ws/",
        )
        parser.add_argument("--domain", default="", help="custom WebSocket domain, e.g. ws.example.com")
        parser.add_argument("--stage", default="", help="stage name (the model's default: production)")
        parser.add_argument("--certificate-arn", default="", help="ACM certificate for the custom domain")
        parser.add_argument("--hosted-zone-id", default="", help="Route 53 hosted zone of the custom domain")
        parser.add_argument("--default-channel", default="", help="channel for connections that ask for none")
        parser.add_argument("--description", default="", help="api_description")
        parser.add_argument(
            "--site-url",
            default="",
            help="register the routes the installed apps declare, at this site (e.g. https://www.example.com)",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be blank.")
        wanted = {
            field: normalised_field(field, options[option])
            for option, field in OPTION_FIELDS.items()
            if (options[option] or "").strip()
        }
        self._validate(name, wanted)

        # The caller runs createApiGateway next, which syncs and reports; no second,
        # silent sync from the save signal.
        with auto_sync_suspended():
            gateway, created = ApiGateway.objects.get_or_create(api_name=name, defaults=wanted)
            changed = [field for field, value in wanted.items() if getattr(gateway, field) != value]
            if changed:
                for field in changed:
                    setattr(gateway, field, wanted[field])
                gateway.save(update_fields=[*changed, "updated_on"])
            route_notes = []
            if options["site_url"].strip():
                route_notes = register_declared_routes(gateway, options["site_url"].strip())

        if created:
            self._note(f"Created ApiGateway record {gateway.pk} '{name}'.")
        elif changed:
            self._note(f"Updated ApiGateway record {gateway.pk} '{name}': {', '.join(sorted(changed))}.")
        else:
            self._note(f"ApiGateway record {gateway.pk} '{name}' is up to date.")
        for note in route_notes:
            self._note(f"Record {gateway.pk}: {note}.")
        self.stdout.write(str(gateway.pk))

    def _validate(self, name, wanted):
        """Check the values with the model's own validators before anything is saved."""
        candidate = ApiGateway(api_name=name, **wanted)
        try:
            candidate.full_clean(validate_unique=False)
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CommandError(f"Invalid ApiGateway values: {problems}") from error

    def _note(self, message):
        if self.verbosity:
            self.stderr.write(message, style_func=self.style.SUCCESS)
