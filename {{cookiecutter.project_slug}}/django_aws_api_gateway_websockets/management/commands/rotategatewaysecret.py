"""``manage.py rotategatewaysecret``: change the secret API Gateway sends to Django.

A rotation, with no refused call on the way:

1. ``manage.py rotategatewaysecret --generate`` prints a new secret;
2. on every instance, set ``WEBSOCKET_GATEWAY_SECRET`` to it and
   ``WEBSOCKET_GATEWAY_SECRET_PREVIOUS`` to the old one, and restart: Django now
   accepts both;
3. ``manage.py rotategatewaysecret`` gives the new secret to every created API (the
   stage variable its mappings read, which takes effect at once, no redeployment) and
   reads it back;
4. remove ``WEBSOCKET_GATEWAY_SECRET_PREVIOUS`` everywhere and restart.
"""

import secrets

from django.core.management.base import BaseCommand, CommandError

from ...conf import gateway_secret
from ...models import ApiGateway
from ...provisioning import ProvisioningError, sync
from ...provisioning.client import AwsService
from ...provisioning.mappings import SECRET_STAGE_VARIABLE

SECRET_BYTES = 48


class Command(BaseCommand):
    help = (
        "Give API Gateway the current WEBSOCKET_GATEWAY_SECRET (every created API, or --pk), once every "
        "instance accepts it; --generate prints a new secret. See the module's docstring for the steps."
    )

    def add_arguments(self, parser):
        parser.add_argument("--generate", action="store_true", help="print a new secret and change nothing")
        parser.add_argument("--pk", type=int, help="only this ApiGateway record")
        parser.add_argument(
            "--without-previous",
            action="store_true",
            help="sync even though no WEBSOCKET_GATEWAY_SECRET_PREVIOUS is set (calls with the old secret are "
            "refused until API Gateway has the new one)",
        )

    def handle(self, *args, generate=False, pk=None, without_previous=False, **options):
        if generate:
            self.stdout.write(secrets.token_urlsafe(SECRET_BYTES))
            return
        if not gateway_secret():
            raise CommandError("WEBSOCKET_GATEWAY_SECRET is not set: there is no secret to give API Gateway.")
        if not gateway_secret(previous=True) and not without_previous:
            raise CommandError(
                "WEBSOCKET_GATEWAY_SECRET_PREVIOUS is not set, so the instances would refuse every call API "
                "Gateway makes with the old secret until this sync is done. Set it to the old secret on every "
                "instance first (or pass --without-previous)."
            )
        records = ApiGateway.objects.filter(api_created=True).order_by("pk")
        if pk is not None:
            records = records.filter(pk=pk)
        if not records:
            raise CommandError("No created API to update.")
        failures = []
        for record in records:
            try:
                sync(record)
                self._check_stage_has_the_secret(record)
            except ProvisioningError as exc:
                failures.append(f"{record} (pk={record.pk}): {exc}")
                continue
            self.stdout.write(self.style.SUCCESS(f"{record} (pk={record.pk}): API Gateway sends the new secret."))
        if failures:
            raise CommandError(" | ".join(failures))
        if gateway_secret(previous=True):
            self.stdout.write("Now remove WEBSOCKET_GATEWAY_SECRET_PREVIOUS from every instance and restart them.")

    def _check_stage_has_the_secret(self, record):
        stage = AwsService("apigatewayv2").call("GetStage", ApiId=record.api_id, StageName=record.stage_name)
        if (stage.get("StageVariables") or {}).get(SECRET_STAGE_VARIABLE) != gateway_secret():
            raise ProvisioningError(f"stage {record.stage_name} does not hold the new secret after the sync")
