"""The room list and room pages, and how the app plugs into the site."""

import json
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute
from django_aws_api_gateway_websockets.provisioning.app_routes import declared_routes, route_path

from {{ cookiecutter.project_slug }}.chat.history import HISTORY_PAGE_SIZE
from {{ cookiecutter.project_slug }}.chat.models import Message, Room

pytestmark = pytest.mark.django_db


def _config(response):
    return response.context["chat_config"]


def test_pages_need_a_login(client, lobby):
    for url in (reverse("chat:rooms"), reverse("chat:room", args=["lobby"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_room_list_shows_closed_rooms_locked(logged_in_client, lobby, vault):
    response = logged_in_client.get(reverse("chat:rooms"))
    assert response.status_code == 200
    entries = dict(response.context["room_entries"])
    assert entries[lobby] is True
    assert entries[vault] is False
    assert reverse("chat:room", args=["vault"]).encode() not in response.content


def test_the_room_page_carries_what_its_socket_needs(logged_in_client, lobby, api_gateway):
    route = ApiGatewayAdditionalRoute.objects.create(
        api_gateway=api_gateway, name="chat", route_key="chat", integration_url="https://testserver/chat/ws/"
    )
    response = logged_in_client.get(reverse("chat:room", args=["lobby"]))
    assert response.status_code == 200
    context = response.context
    assert context["api_gateway_route"] == route
    assert context["channel_name"] == "chat-lobby"
    assert context["websocket_action"] == "chat"
    assert context["websocket_url"] == api_gateway.websocket_url
    assert context["websocket_token_url"] == reverse("websocket_token")
    assert _config(response)["channel"] == "chat-lobby"
    assert _config(response)["action"] == "chat"
    assert _config(response)["username"] == "alice"
    # The token endpoint needs the CSRF cookie, which the page sets.
    assert "csrftoken" in response.cookies


def test_the_room_page_starts_with_the_latest_messages(logged_in_client, lobby, user):
    messages = [Message.objects.create(room=lobby, author=user, text=f"n{n}") for n in range(HISTORY_PAGE_SIZE + 5)]
    config = _config(logged_in_client.get(reverse("chat:room", args=["lobby"])))
    assert [m["id"] for m in config["messages"]] == [m.pk for m in messages[5:]]
    assert config["hasMore"] is True


def test_user_text_reaches_the_page_only_as_escaped_json(logged_in_client, lobby, user):
    Message.objects.create(room=lobby, author=user, text="</script><script>alert(1)</script>")
    response = logged_in_client.get(reverse("chat:room", args=["lobby"]))
    assert b"<script>alert(1)" not in response.content
    html = response.content.decode()
    start = html.index('id="chat-config"')
    payload = html[html.index(">", start) + 1 : html.index("</script>", start)]
    assert json.loads(payload)["messages"][0]["text"] == "</script><script>alert(1)</script>"


def test_a_private_room_refuses_strangers_with_403(logged_in_client, vault):
    response = logged_in_client.get(reverse("chat:room", args=["vault"]))
    assert response.status_code == 403
    assert b"members only" in response.content


def test_members_and_staff_open_a_private_room(client, vault, user, other_user):
    vault.members.add(user)
    client.force_login(user)
    assert client.get(reverse("chat:room", args=["vault"])).status_code == 200
    other_user.is_staff = True
    other_user.save()
    client.force_login(other_user)
    assert client.get(reverse("chat:room", args=["vault"])).status_code == 200


def test_an_unknown_room_is_404(logged_in_client):
    assert logged_in_client.get(reverse("chat:room", args=["nowhere"])).status_code == 404


def test_the_app_is_in_the_navigation_and_declares_its_route(logged_in_client):
    config = apps.get_app_config("chat")
    home = logged_in_client.get(reverse("home"))
    assert {"title": "Chat", "url": reverse("chat:rooms")} in [
        {"title": item["title"], "url": item["url"]} for item in home.context["nav_items"]
    ]
    (declared,) = [route for route in declared_routes() if route.app_label == "chat"]
    assert (declared.route_key, route_path(declared)) == ("chat", reverse("chat:websocket"))
    assert config.websocket_routes == [("chat", "chat:websocket")]


def test_a_new_site_starts_with_public_rooms_and_a_private_one():
    migration = import_module("{{ cookiecutter.project_slug }}.chat.migrations.0001_initial")
    Room.objects.all().delete()
    for _ in range(2):  # running it again changes nothing
        migration.create_starting_rooms(apps, None)
    rooms = {room.slug: room.is_private for room in Room.objects.all()}
    assert rooms == {"general": False, "random": False, "staff-lounge": True}
