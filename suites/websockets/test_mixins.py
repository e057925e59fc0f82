"""The template mixins give a page what its JavaScript needs to connect."""

from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.views.generic import TemplateView

from django_aws_api_gateway_websockets.mixins import AddWebSocketRouteToContextMixin, AppChannelWebSocketMixin
from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute
from tests.records import make_api_gateway

# tests/websockets/templates/dashboard.html prints the context the mixins add.
TEST_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
    }
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.websockets.urls")]


@pytest.fixture(autouse=True)
def locmem_templates(settings):
    settings.TEMPLATES = TEST_TEMPLATES


class RouteDashboardView(AddWebSocketRouteToContextMixin, TemplateView):
    template_name = "dashboard.html"
    websocket_route_key = "dashboard"
    channel_name = "dashboard"


class PlainPageView(AddWebSocketRouteToContextMixin, TemplateView):
    template_name = "dashboard.html"


def render(view_class, **initkwargs):
    response = view_class.as_view(**initkwargs)(RequestFactory().get("/"))
    response.render()
    return response


@pytest.fixture
def gateways(db):
    first = make_api_gateway("first00001", api_name="first")
    second = make_api_gateway("second0001", api_name="second", custom_domain_created=True, domain_name="ws.example.com")
    make_api_gateway("notcreated", api_name="draft", api_created=False, api_endpoint="")
    return first, second


def test_the_route_and_its_api_fill_the_context(gateways):
    first, second = gateways
    route = ApiGatewayAdditionalRoute.objects.create(
        api_gateway=second, name="Dashboard", route_key="dashboard", integration_url="https://www.example.com/ws/dash"
    )
    context = render(RouteDashboardView).context_data
    assert context["api_gateway_route"] == route
    assert context["channel_name"] == "dashboard"
    assert context["websocket_url"] == "wss://ws.example.com"
    assert context["websocket_token_url"] == "/websockets/token/"
    assert context["websocket_action"] == "dashboard"


def test_without_the_route_the_first_created_api_is_used(gateways):
    response = render(RouteDashboardView)
    assert response.context_data["api_gateway_route"] is None
    assert response.context_data["websocket_url"] == "wss://first00001.execute-api.eu-west-1.amazonaws.com/production"
    assert response.content.decode().strip() == (
        "url=wss://first00001.execute-api.eu-west-1.amazonaws.com/production token=/websockets/token/ "
        "action=dashboard channel=dashboard route=none"
    )


def test_a_page_without_route_key_uses_the_default_action(gateways):
    context = render(PlainPageView).context_data
    assert context["websocket_action"] == "default"
    assert context["channel_name"] is None
    assert context["api_gateway_route"] is None


def test_without_any_created_api_the_url_is_empty(db):
    make_api_gateway("notcreated", api_created=False, api_endpoint="")
    assert render(RouteDashboardView).context_data["websocket_url"] == ""


def test_the_mixin_keeps_the_views_own_context(gateways):
    class WithExtra(RouteDashboardView):
        extra_context = {"title": "Live"}

    context = render(WithExtra).context_data
    assert context["title"] == "Live"
    assert context["channel_name"] == "dashboard"


def test_it_renders_in_a_template(gateways):
    assert "action=dashboard channel=dashboard" in render(RouteDashboardView).content.decode()


def test_app_channel_mixin_names_route_and_channel_after_the_app(gateways):
    class UsersPage(AppChannelWebSocketMixin, TemplateView):
        template_name = "dashboard.html"

    UsersPage.__module__ = apps.get_app_config("users").name + ".views"
    context = render(UsersPage).context_data
    assert context["channel_name"] == "users"
    assert context["websocket_action"] == "users"


def test_app_channel_override_replaces_the_channel(gateways):
    class UsersPage(AppChannelWebSocketMixin, TemplateView):
        template_name = "dashboard.html"
        app_channel_override = "custom_users_channel"

    UsersPage.__module__ = apps.get_app_config("users").name + ".views"
    context = render(UsersPage).context_data
    assert context["channel_name"] == "custom_users_channel"
    assert context["websocket_action"] == "users"


def test_app_channel_mixin_outside_an_app_says_what_to_do(gateways):
    class Orphan(AppChannelWebSocketMixin, TemplateView):
        template_name = "dashboard.html"

    Orphan.__module__ = "somewhere.else"
    with pytest.raises(ImproperlyConfigured, match="not in an installed app"):
        render(Orphan)
