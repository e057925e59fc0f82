"""Fixtures for the chat tests: rooms, people, and sockets opened the way API Gateway
opens them (``$connect`` on the site's WebSocket view, messages on the chat's own)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from {{ cookiecutter.project_slug }}.chat.models import Room


@pytest.fixture
def lobby(db):
    return Room.objects.create(slug="lobby", name="Lobby")


@pytest.fixture
def vault(db):
    """A private room; its members are added by the tests."""
    return Room.objects.create(slug="vault", name="Vault", is_private=True)


@pytest.fixture
def make_user(db, password):
    def make(username, **fields):
        return get_user_model().objects.create_user(username, f"{username}@example.com", password, **fields)

    return make


@pytest.fixture
def browser_for():
    """A Django test client logged in as ``user``: the user's browser."""

    def browser(user):
        client = Client()
        client.force_login(user)
        return client

    return browser


def chat(ws, handler, **params):
    """A message from the room page's socket, as API Gateway's ``chat`` route delivers it."""
    return ws.message({"action": "chat", "handler": handler, **params}, path=reverse("chat:websocket"))
