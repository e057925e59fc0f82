from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "level", "created_on", "read_on"]
    list_filter = ["level", ("read_on", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
