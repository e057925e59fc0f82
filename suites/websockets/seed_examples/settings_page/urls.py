"""Routes for the Settings page's example views (each under its own prefix)."""

from django.urls import path

from . import (
    gateway_id_views,
    handler_views,
    layered_views,
    permission_views,
    production_views,
    rate_limit_views,
    token_views,
)

urlpatterns = [
    path("token/<slug:route>", token_views.NotificationsWebSocketView.as_view()),
    path("public/<slug:route>", token_views.PublicWebSocketView.as_view()),
    path("rate-limit/<slug:route>", rate_limit_views.NotificationsWebSocketView.as_view()),
    path("chat/<slug:route>", handler_views.ChatWebSocketView.as_view()),
    path("layered/<slug:route>", layered_views.LayeredChatWebSocketView.as_view()),
    path("chat-permission/<slug:route>", permission_views.ChatWebSocketView.as_view()),
    path("moderation/<slug:route>", permission_views.ModerationWebSocketView.as_view()),
    path("gateway-id/<slug:route>", gateway_id_views.ProductionWebSocketView.as_view()),
    path("production/<slug:route>", production_views.ProductionWebSocketView.as_view()),
]
