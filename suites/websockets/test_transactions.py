"""WebSocketView runs outside ATOMIC_REQUESTS: its token and rate-limit statements
must commit one by one for the single-use and race-free guarantees to hold."""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from django_aws_api_gateway_websockets.testing import WebSocketTestClient
from django_aws_api_gateway_websockets.views import WebSocketView
from tests.records import make_api_gateway

in_atomic_block = []


class RecordingView(WebSocketView):
    USE_WS_TOKEN = False

    def connect(self, request, *args, **kwargs):
        in_atomic_block.append(("connect", connection.in_atomic_block))
        return super().connect(request, *args, **kwargs)

    def default(self, request, *args, **kwargs):
        in_atomic_block.append(("message", connection.in_atomic_block))


def ordinary_view(request):
    in_atomic_block.append(("ordinary", connection.in_atomic_block))
    return HttpResponse()


urlpatterns = [path("rec/<slug:route>", RecordingView.as_view()), path("ordinary/", ordinary_view)]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]


@pytest.fixture
def atomic_requests():
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    yield
    connection.settings_dict["ATOMIC_REQUESTS"] = False


def test_the_view_is_not_wrapped_in_atomic_requests(atomic_requests):
    in_atomic_block.clear()
    Client().get("/ordinary/")
    ws = WebSocketTestClient(make_api_gateway(), base_path="/rec/")
    assert ws.connect().status_code == 200
    assert ws.message({"action": "default"}).status_code == 204
    assert in_atomic_block == [("ordinary", True), ("connect", False), ("message", False)]
