"""URLs the project includes once, e.g. ``path("websockets/", include(...))``.

The WebSocket callback view itself is routed by the project (``ws/<slug:route>``),
because each project subclasses ``WebSocketView``.
"""

from django.urls import path

from .views import WebSocketTokenView

urlpatterns = [
    path("token/", WebSocketTokenView.as_view(), name="websocket_token"),
]
