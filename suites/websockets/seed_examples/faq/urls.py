"""001 FAQ: "Why does my URL need <slug:route>?" (ExampleWebSocketView of 000), plus
routes for the FAQ's views."""

from django.urls import path

from ..api_gateway_setup.views import ExampleWebSocketView
from .views import MessagingWebSocketView, PublicWebSocketView

urlpatterns = [
    path(
        "ws/<slug:route>",
        ExampleWebSocketView.as_view(),
        name="example_websocket",
    ),
    path("public/<slug:route>", PublicWebSocketView.as_view()),
    path("messaging/<slug:route>", MessagingWebSocketView.as_view()),
]
