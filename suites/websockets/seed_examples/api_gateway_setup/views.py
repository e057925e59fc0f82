"""000 API Gateway setup: "Create the WebSocket view"."""

from django.http import JsonResponse

from django_aws_api_gateway_websockets.views import WebSocketView


class ExampleWebSocketView(WebSocketView):
    def default(self, request, *args, **kwargs) -> JsonResponse:
        action = self.body.get("action")
        return JsonResponse({"received": action})
