"""Admin for every model. Tokens and connection attempts are read-only records."""

from django.contrib import admin, messages

from . import provisioning
from .models import ApiGateway, ApiGatewayAdditionalRoute, ConnectionRateLimit, WebSocketSession, WebSocketToken


class ApiGatewayAdditionalRouteInline(admin.TabularInline):
    model = ApiGatewayAdditionalRoute
    extra = 0
    fields = ["name", "route_key", "integration_url", "deployed"]
    readonly_fields = ["deployed"]


@admin.register(ApiGateway)
class ApiGatewayAdmin(admin.ModelAdmin):
    list_display = ["api_name", "api_id", "stage_name", "domain_name", "api_created", "custom_domain_created"]
    search_fields = ["api_name", "api_id", "domain_name"]
    readonly_fields = [
        "api_id",
        "api_endpoint",
        "api_gateway_domain_name",
        "api_mapping_id",
        "api_created",
        "custom_domain_created",
        "created_on",
        "updated_on",
    ]
    inlines = [ApiGatewayAdditionalRouteInline]
    actions = ["create_api_gateway", "create_custom_domain", "sync_api_gateway"]

    @admin.action(description="Create API Gateway", permissions=["change"])
    def create_api_gateway(self, request, queryset):
        self._provision_each(request, queryset, provisioning.create_api)

    @admin.action(description="Create Custom Domain record for the API", permissions=["change"])
    def create_custom_domain(self, request, queryset):
        self._provision_each(request, queryset, provisioning.create_custom_domain)

    @admin.action(description="Sync API Gateway with AWS", permissions=["change"])
    def sync_api_gateway(self, request, queryset):
        self._provision_each(request, queryset, provisioning.sync)

    def _provision_each(self, request, queryset, provision):
        """Run ``provision`` per record; report each outcome as one admin message."""
        for api_gateway in queryset.order_by("pk"):
            try:
                report = provision(api_gateway)
            except provisioning.ProvisioningError as exc:
                self.message_user(request, f"{api_gateway}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{api_gateway}: {report.summary()}", messages.SUCCESS)


@admin.register(ApiGatewayAdditionalRoute)
class ApiGatewayAdditionalRouteAdmin(admin.ModelAdmin):
    list_display = ["route_key", "name", "api_gateway", "integration_url", "deployed"]
    list_filter = ["api_gateway", "deployed"]
    readonly_fields = ["deployed", "created_on", "updated_on"]


@admin.register(WebSocketSession)
class WebSocketSessionAdmin(admin.ModelAdmin):
    list_display = ["connection_id", "channel_name", "user", "connected", "request_count", "created_on", "updated_on"]
    list_filter = ["connected", "api_gateway"]
    search_fields = ["connection_id", "channel_name"]
    raw_id_fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebSocketToken)
class WebSocketTokenAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "used"]
    list_filter = ["used"]
    exclude = ["token", "session_key"]


@admin.register(ConnectionRateLimit)
class ConnectionRateLimitAdmin(ReadOnlyAdmin):
    list_display = ["ip_address", "user", "attempt_time", "successful"]
    list_filter = ["successful"]
    search_fields = ["ip_address"]
