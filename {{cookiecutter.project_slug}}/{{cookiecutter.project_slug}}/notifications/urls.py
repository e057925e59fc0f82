from django.urls import path

from .views import NotificationListView
from .websocket import NotificationsWebSocketView

app_name = "notifications"

urlpatterns = [
    path("", NotificationListView.as_view(), name="list"),
    # API Gateway's "notifications" route calls this (see NotificationsConfig.websocket_routes).
    path("ws/", NotificationsWebSocketView.as_view(), name="websocket"),
]
