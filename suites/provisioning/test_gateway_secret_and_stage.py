"""Provisioning gives API Gateway the gateway secret (a stage variable its mappings
read) and the stage's throttling; rotating the secret needs no redeployment."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_aws_api_gateway_websockets import provisioning

from .support import deployments

NEW_SECRET = "the-next-secret-0123456789abcdefghijklmnop"


def stage_of(control, api_gateway):
    return control.get_stage(ApiId=api_gateway.api_id, StageName=api_gateway.stage_name)


def test_a_changed_secret_updates_the_stage_variable_without_a_deployment(gateway, control, api_gateway, settings):
    provisioning.create_api(api_gateway)
    settings.WEBSOCKET_GATEWAY_SECRET = NEW_SECRET
    report = provisioning.sync(api_gateway)
    assert stage_of(control, api_gateway)["StageVariables"] == {"djangoGatewaySecret": NEW_SECRET}
    assert len(deployments(control, api_gateway.api_id)) == 1
    # The report (printed by commands, logged by the signals) never holds the secret.
    assert report.summary() == "updated the gateway secret of stage production"
    assert NEW_SECRET not in report.summary()
    assert provisioning.sync(api_gateway).summary() == "already up to date, nothing changed"


def test_the_stage_throttling_comes_from_the_settings(gateway, control, api_gateway, settings):
    settings.WEBSOCKETS = {
        **settings.WEBSOCKETS,
        "STAGE_THROTTLING_RATE_LIMIT": 250.0,
        "STAGE_THROTTLING_BURST_LIMIT": 500,
    }
    provisioning.create_api(api_gateway)
    route_settings = stage_of(control, api_gateway)["DefaultRouteSettings"]
    assert (route_settings["ThrottlingRateLimit"], route_settings["ThrottlingBurstLimit"]) == (250.0, 500)
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "STAGE_THROTTLING_RATE_LIMIT": 100.0}
    assert "throttling" in provisioning.sync(api_gateway).summary()
    assert stage_of(control, api_gateway)["DefaultRouteSettings"]["ThrottlingRateLimit"] == 100.0


def test_provisioning_without_a_secret_is_refused_with_a_reason(gateway, api_gateway, settings):
    settings.WEBSOCKET_GATEWAY_SECRET = ""
    with pytest.raises(provisioning.ProvisioningError, match="WEBSOCKET_GATEWAY_SECRET"):
        provisioning.create_api(api_gateway)


def run_rotation(*arguments):
    out = StringIO()
    call_command("rotategatewaysecret", *arguments, stdout=out)
    return out.getvalue()


def test_rotation_generates_a_strong_secret_and_changes_nothing():
    first, second = run_rotation("--generate").strip(), run_rotation("--generate").strip()
    assert first != second
    assert len(first) >= 64
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_rotation_refuses_while_instances_would_refuse_the_old_secret(gateway, api_gateway, settings):
    provisioning.create_api(api_gateway)
    settings.WEBSOCKET_GATEWAY_SECRET = NEW_SECRET
    with pytest.raises(CommandError, match="WEBSOCKET_GATEWAY_SECRET_PREVIOUS is not set"):
        run_rotation()


def test_rotation_gives_every_created_api_the_new_secret_and_says_what_is_next(gateway, control, api_gateway, settings):
    provisioning.create_api(api_gateway)
    settings.WEBSOCKET_GATEWAY_SECRET_PREVIOUS = settings.WEBSOCKET_GATEWAY_SECRET
    settings.WEBSOCKET_GATEWAY_SECRET = NEW_SECRET
    output = run_rotation()
    assert "API Gateway sends the new secret" in output
    assert "Now remove WEBSOCKET_GATEWAY_SECRET_PREVIOUS" in output
    assert NEW_SECRET not in output
    assert stage_of(control, api_gateway)["StageVariables"]["djangoGatewaySecret"] == NEW_SECRET
