"""002 Concepts: "Target base endpoint" (ExampleWebSocketView of 000), plus routes
for the Concepts views."""

from django.urls import path

from ..api_gateway_setup.views import ExampleWebSocketView
from .views import CastingWebSocketView, ChatWebSocketView

urlpatterns = [
    path(
        "ws/<slug:route>",
        ExampleWebSocketView.as_view(),
        name="example_websocket",
    ),
    path("chat/<slug:route>", ChatWebSocketView.as_view()),
    path("casting/<slug:route>", CastingWebSocketView.as_view()),
]
