"""URLs for the WebSocket tests: one test view per prefix, then the project's URLs."""

from django.urls import include, path

from . import views

TEST_VIEWS = {
    "handlers": views.HandlerView,
    "child": views.ChildHandlerView,
    "allowed": views.AllowedHandlersView,
    "additional": views.AdditionalHandlersView,
    "default-only": views.DefaultOnlyView,
    "public": views.PublicView,
    "any-permission": views.AnyPermissionView,
    "all-permissions": views.AllPermissionsView,
    "anonymous-permission": views.AnonymousPermissionView,
    "pinned": views.PinnedApiView,
    "strict": views.StrictHeadersView,
    "no-connection-headers": views.NoConnectionHeadersView,
    "tight": views.TightLimitView,
    "tight-token": views.TightTokenLimitView,
    "hooks": views.HooksView,
    "custom-heartbeat": views.CustomHeartbeatView,
}

urlpatterns = [
    *(path(f"t/{prefix}/<slug:route>", view.as_view()) for prefix, view in TEST_VIEWS.items()),
    path("t/notifications/", views.NotificationsRouteView.as_view()),
    path("", include("config.urls")),
]
