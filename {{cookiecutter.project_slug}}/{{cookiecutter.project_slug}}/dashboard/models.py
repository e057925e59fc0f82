"""The figures the producer measured, kept so a page can draw recent history."""

from django.db import models
from django.utils import timezone


class Sample(models.Model):
    """One measurement: open connections (in all and per channel) and how many
    messages Django received from WebSocket clients per minute since the last one."""

    taken_on = models.DateTimeField(default=timezone.now, db_index=True)
    connections = models.PositiveIntegerField(default=0)
    connections_by_channel = models.JSONField(default=list, blank=True)
    messages_total = models.PositiveBigIntegerField(default=0)
    messages_per_minute = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-taken_on", "-id"]
        get_latest_by = ["taken_on", "id"]
        permissions = [("watch_dashboard", "Can watch the live dashboard")]

    def __str__(self):
        return f"{self.taken_on:%Y-%m-%d %H:%M:%S}: {self.connections} connection(s)"

    def as_payload(self):
        return {
            "id": self.pk,
            "taken_on": self.taken_on.isoformat(),
            "connections": self.connections,
            "channels": self.connections_by_channel,
            "messages_total": self.messages_total,
            "messages_per_minute": round(self.messages_per_minute, 1),
        }
