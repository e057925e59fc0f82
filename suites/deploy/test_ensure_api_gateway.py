"""``manage.py ensureapigateway``: the release script's idempotent way to have the one
ApiGateway record a deployment needs."""

import io

import pytest
from django.core.management import CommandError, call_command

from django_aws_api_gateway_websockets.models import ApiGateway

BASE = ["--name", "site-production", "--target-base-endpoint", "https://www.example.com/ws/"]


def ensure(*arguments):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("ensureapigateway", *arguments, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.django_db
def test_creates_the_record_and_prints_only_its_primary_key():
    stdout, stderr = ensure(*BASE, "--domain", "ws.example.com", "--stage", "production")
    gateway = ApiGateway.objects.get()
    assert stdout.strip() == str(gateway.pk)
    assert "Created" in stderr
    assert (gateway.api_name, gateway.target_base_endpoint, gateway.domain_name, gateway.stage_name) == (
        "site-production",
        "https://www.example.com/ws/",
        "ws.example.com",
        "production",
    )
    assert not gateway.api_created


@pytest.mark.django_db
def test_running_it_again_changes_nothing():
    first, _ = ensure(*BASE, "--domain", "ws.example.com")
    updated_on = ApiGateway.objects.get().updated_on
    second, stderr = ensure(*BASE, "--domain", "ws.example.com")
    assert first == second
    assert "up to date" in stderr
    assert ApiGateway.objects.count() == 1
    assert ApiGateway.objects.get().updated_on == updated_on


@pytest.mark.django_db
def test_changed_values_are_updated_and_named():
    ensure(*BASE)
    _, stderr = ensure(
        "--name",
        "site-production",
        "--target-base-endpoint",
        "https://www.example.org/ws",
        "--certificate-arn",
        "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        "--hosted-zone-id",
        "/hostedzone/Z0123456789ABC",
    )
    gateway = ApiGateway.objects.get()
    assert gateway.target_base_endpoint == "https://www.example.org/ws/"
    assert gateway.certificate_arn == "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
    assert gateway.hosted_zone_id == "Z0123456789ABC"
    assert "certificate_arn, hosted_zone_id, target_base_endpoint" in stderr


@pytest.mark.django_db
def test_blank_options_leave_what_the_admin_entered():
    ensure(*BASE, "--certificate-arn", "arn:aws:acm:eu-west-1:123456789012:certificate/abc")
    ensure(*BASE, "--certificate-arn", "", "--hosted-zone-id", "  ")
    assert ApiGateway.objects.get().certificate_arn == "arn:aws:acm:eu-west-1:123456789012:certificate/abc"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--name", "x", "--target-base-endpoint", "ftp://www.example.com/ws/"], "target_base_endpoint"),
        (["--name", "   ", "--target-base-endpoint", "https://www.example.com/ws/"], "--name"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(arguments, message):
    with pytest.raises(CommandError, match=message):
        ensure(*arguments)
    assert not ApiGateway.objects.exists()


@pytest.mark.django_db
def test_site_url_registers_the_routes_the_installed_apps_declare(monkeypatch):
    from django.apps import apps

    from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute

    for config in apps.get_app_configs():
        routes = [("news", "websocket")] if config.label == "users" else ()
        monkeypatch.setattr(config, "websocket_routes", routes, raising=False)

    _, stderr = ensure(*BASE, "--site-url", "https://www.example.com/")
    route = ApiGatewayAdditionalRoute.objects.get()
    assert (route.route_key, route.integration_url) == ("news", "https://www.example.com/ws/news")
    assert "added route 'news'" in stderr

    # A route added by hand in the admin survives the next release.
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=route.api_gateway, name="manual", route_key="manual", integration_url="https://www.example.com/m/"
    )
    _, stderr = ensure(*BASE, "--site-url", "https://www.example.com")
    assert "route" not in stderr
    assert ApiGatewayAdditionalRoute.objects.count() == 2
