from django.urls import path

from .views import DashboardView
from .websocket import DashboardWebSocketView

app_name = "dashboard"

urlpatterns = [
    path("", DashboardView.as_view(), name="index"),
    # API Gateway's "dashboard" route calls this (see DashboardConfig.websocket_routes).
    path("ws/", DashboardWebSocketView.as_view(), name="websocket"),
]
