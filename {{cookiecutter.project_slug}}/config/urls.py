from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from {{ cookiecutter.project_slug }}.views import favicon
from {{ cookiecutter.project_slug }}.websocket import SiteWebSocketView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's).
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("{{ cookiecutter.project_slug }}.users.urls")),
{%- if cookiecutter.use_chat %}
    path("chat/", include("{{ cookiecutter.project_slug }}.chat.urls")),
{%- endif %}
{%- if cookiecutter.use_dashboard %}
    path("dashboard/", include("{{ cookiecutter.project_slug }}.dashboard.urls")),
{%- endif %}
{%- if cookiecutter.use_notifications %}
    path("notifications/", include("{{ cookiecutter.project_slug }}.notifications.urls")),
{%- endif %}
    path("websockets/", include("django_aws_api_gateway_websockets.urls")),
    # API Gateway's integrations call ws/connect, ws/disconnect and ws/default.
    path("ws/<slug:route>", SiteWebSocketView.as_view(), name="websocket"),
]
