"""Notifications for one user, read or unread."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

MAX_BODY_LENGTH = 2000


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_on__isnull=True)

    def mark_read(self, now=None):
        """Mark the unread ones read; returns the ids that changed."""
        ids = list(self.unread().values_list("pk", flat=True))
        if ids:
            self.model.objects.filter(pk__in=ids, read_on__isnull=True).update(read_on=now or timezone.now())
        return ids


class Notification(models.Model):
    class Level(models.TextChoices):
        INFO = "info", "Info"
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(
        blank=True, default="", max_length=MAX_BODY_LENGTH, validators=[MaxLengthValidator(MAX_BODY_LENGTH)]
    )
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    created_on = models.DateTimeField(default=timezone.now)
    read_on = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_on", "-id"]
        indexes = [models.Index(fields=["user", "read_on"], name="notification_unread_idx")]

    def __str__(self):
        return f"{self.title} (for {self.user})"

    @property
    def is_read(self):
        return self.read_on is not None

    def as_payload(self):
        return {
            "id": self.pk,
            "title": self.title,
            "body": self.body,
            "level": self.level,
            "created_on": self.created_on.isoformat(),
            "read": self.is_read,
        }
