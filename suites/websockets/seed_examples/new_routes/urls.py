"""003 Adding new routes: "Add the URL pattern"."""

from django.urls import path

from .views import NotificationsWebSocketView

urlpatterns = [
    path(
        "websockets/notifications/",
        NotificationsWebSocketView.as_view(),
        name="websocket-notifications",
    ),
]
