"""The admin actions and management commands report per record, never with a traceback."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse

from django_aws_api_gateway_websockets.models import ApiGateway
from localgateway.faults import FaultRule

from .support import deployments

CHANGELIST = "admin:django_aws_api_gateway_websockets_apigateway_changelist"


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "admin-password")
    client.force_login(admin)
    return client


def _run_action(admin_client, action, *records):
    response = admin_client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [r.pk for r in records]}, follow=True
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_the_three_actions_are_offered(admin_client, gateway, api_gateway):
    response = admin_client.get(reverse(CHANGELIST))
    content = response.content.decode()
    assert "Create API Gateway" in content
    assert "Create Custom Domain record for the API" in content
    assert "Sync API Gateway with AWS" in content


def test_create_api_gateway_action_reports_success_per_record(admin_client, gateway, control, api_gateway):
    messages = _run_action(admin_client, "create_api_gateway", api_gateway)
    api_gateway.refresh_from_db()
    assert api_gateway.api_created
    [(level, text)] = messages
    assert level == "success"
    assert text.startswith(f"{api_gateway}: created API {api_gateway.api_id}")

    [(level, text)] = _run_action(admin_client, "sync_api_gateway", api_gateway)
    assert (level, text) == ("success", f"{api_gateway}: already up to date, nothing changed")


def test_actions_report_each_failure_with_its_reason(admin_client, gateway, api_gateway, integration):
    broken = ApiGateway.objects.create(api_name="Broken", target_base_endpoint=f"{integration.base_url}/b/")
    gateway.call(gateway.gateway.faults.add, FaultRule(plane="control", operation="CreateApi", status=400, times=1))
    messages = {
        text.split(":", 1)[0]: (level, text)
        for level, text in _run_action(admin_client, "create_api_gateway", api_gateway, broken)
    }
    # Records run in pk order: the first CreateApi call fails, the second succeeds.
    assert messages[str(api_gateway)] == (
        "error",
        f"{api_gateway}: CreateApi failed: BadRequestException: Injected fault",
    )
    assert messages["Broken"][0] == "success"

    [(level, text)] = _run_action(admin_client, "create_custom_domain", broken)
    assert level == "error"
    assert "needs a domain name, a certificate ARN" in text


def test_create_api_gateway_command(gateway, control, api_gateway):
    out = io.StringIO()
    call_command("createApiGateway", pk=api_gateway.pk, stdout=out)
    api_gateway.refresh_from_db()
    assert api_gateway.api_created
    assert f"created API {api_gateway.api_id}" in out.getvalue()
    assert f"WebSocket URL: ws://127.0.0.1:{gateway.port}/production" in out.getvalue()

    out = io.StringIO()
    call_command("syncapigateway", "--all", stdout=out)
    assert "already up to date" in out.getvalue()
    assert len(deployments(control, api_gateway.api_id)) == 1


def test_commands_fail_with_one_line_reasons(gateway, api_gateway):
    with pytest.raises(CommandError, match="No ApiGateway record with pk=999"):
        call_command("createApiGateway", pk=999)
    with pytest.raises(CommandError, match="has no API in AWS yet"):
        call_command("syncapigateway", pk=api_gateway.pk)
    with pytest.raises(CommandError) as failure:
        call_command("createCustomDomain", pk=api_gateway.pk)
    assert "\n" not in str(failure.value)
    with pytest.raises(CommandError):
        call_command("createApiGateway")


def test_create_custom_domain_command(gateway, api_gateway):
    call_command("createApiGateway", pk=api_gateway.pk, stdout=io.StringIO())
    ApiGateway.objects.filter(pk=api_gateway.pk).update(
        domain_name="ws.example.com", certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/x"
    )
    out = io.StringIO()
    call_command("createCustomDomain", pk=api_gateway.pk, stdout=out)
    assert "created custom domain ws.example.com" in out.getvalue()
    assert "WebSocket URL: wss://ws.example.com" in out.getvalue()
