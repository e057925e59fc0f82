"""How the ADDITIONAL_ALLOWED_HANDLERS example is meant to be used: the handlers come
from a layer that is not a WebSocketView (here a mixin), so they are listed."""

from django.http import JsonResponse

from .handler_views import BaseChatWebSocketView


class ChatHandlersMixin:
    def send_message(self, request, *args, **kwargs):
        return JsonResponse({"sent": self.body.get("message")})

    def fetch_history(self, request, *args, **kwargs):
        return JsonResponse({"history": []})

    def delete_history(self, request, *args, **kwargs):
        return JsonResponse({"deleted": True})


class LayeredChatWebSocketView(ChatHandlersMixin, BaseChatWebSocketView):
    USE_WS_TOKEN = False
