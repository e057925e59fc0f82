from django.contrib import admin

from .models import Sample


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = ["taken_on", "connections", "messages_per_minute"]
    date_hierarchy = "taken_on"
    readonly_fields = ["taken_on", "connections", "connections_by_channel", "messages_total", "messages_per_minute"]
