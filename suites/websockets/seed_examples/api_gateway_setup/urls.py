"""000 API Gateway setup: "Create the Django URL route" (001 FAQ repeats it)."""

from django.urls import path

from .views import ExampleWebSocketView

urlpatterns = [
    path(
        "ws/<slug:route>",
        ExampleWebSocketView.as_view(),
        name="example_websocket",
    ),
]
