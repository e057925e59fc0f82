"""The notifications page."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import ListView

from django_aws_api_gateway_websockets.mixins import AppChannelWebSocketMixin

from .models import Notification
from .services import unread_count

PAGE_SIZE = 50


@method_decorator(ensure_csrf_cookie, name="dispatch")
class NotificationListView(LoginRequiredMixin, AppChannelWebSocketMixin, ListView):
    """The user's latest notifications, kept live by a socket on the
    ``notifications`` channel (route key and channel from the app label)."""

    template_name = "notifications/list.html"
    context_object_name = "notifications"

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user)[:PAGE_SIZE]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            unread=unread_count(self.request.user),
            notifications_config={
                **context["websocket_config"],
                "notifications": [notification.as_payload() for notification in context["notifications"]],
            },
        )
        return context
