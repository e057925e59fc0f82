"""001 FAQ: "How do I disable WebSocket tokens?", and the messaging answers placed
in handlers ("How do I send a message back to the current connection?", "... to
everyone in a channel?", "... to all connected users?")."""

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.views import WebSocketView


class PublicWebSocketView(WebSocketView):
    USE_WS_TOKEN = False

    def default(self, request, *args, **kwargs):
        return None


class MessagingWebSocketView(PublicWebSocketView):
    """Each handler holds one FAQ snippet verbatim."""

    def reply(self, request, *args, **kwargs):
        self.websocket_session.send_message(
            {
                "type": "reply",
                "message": "Hello from Django",
            }
        )

    def to_channel(self, request, *args, **kwargs):
        WebSocketSession.objects.filter(
            channel_name="general",
        ).send_message(
            {
                "type": "chat_message",
                "message": "Hello everyone in general.",
            }
        )

    def to_everyone(self, request, *args, **kwargs):
        WebSocketSession.objects.filter(
            connected=True,
        ).send_message(
            {
                "type": "system",
                "message": "Maintenance will begin in 5 minutes.",
            }
        )
