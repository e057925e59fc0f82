from django.urls import path

from .views import RoomListView, RoomView
from .websocket import ChatWebSocketView

app_name = "chat"

urlpatterns = [
    path("", RoomListView.as_view(), name="rooms"),
    path("rooms/<slug:slug>/", RoomView.as_view(), name="room"),
    # API Gateway's "chat" route calls this (make dev registers it from ChatConfig.websocket_routes).
    path("ws/", ChatWebSocketView.as_view(), name="websocket"),
]
