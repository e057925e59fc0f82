"""002 Concepts: "Handler", and the unicast / multicast / broadcast snippets placed
in handlers."""

from django.http import JsonResponse

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.views import WebSocketView


class ChatWebSocketView(WebSocketView):
    def chat_message(self, request, *args, **kwargs):
        return JsonResponse({"ok": True})


class CastingWebSocketView(WebSocketView):
    """Each handler holds one snippet of the Concepts page verbatim."""

    def channel(self, request, *args, **kwargs):
        WebSocketSession.objects.filter(
            channel_name="general",
        ).send_message(
            {
                "type": "chat_message",
                "message": "Hello general room.",
            }
        )

    def unicast(self, request, *args, **kwargs):
        self.websocket_session.send_message(
            {
                "type": "reply",
                "message": "This message is only for this connection.",
            }
        )

    def multicast(self, request, *args, **kwargs):
        WebSocketSession.objects.filter(
            channel_name="support",
        ).send_message(
            {
                "type": "chat_message",
                "message": "Hello support room.",
            }
        )

    def broadcast(self, request, *args, **kwargs):
        WebSocketSession.objects.filter(
            connected=True,
        ).send_message(
            {
                "type": "system",
                "message": "Maintenance will begin in 5 minutes.",
            }
        )
