"""``manage.py cleanupconnectionratelimits``: delete old connection attempts."""

from django.core.management.base import BaseCommand

from ...cleanup import cleanup_connection_rate_limits
from ...conf import ws_setting


class Command(BaseCommand):
    help = (
        "Delete connection attempts older than RATE_LIMIT_RETENTION_HOURS; attempts still inside "
        "any view's rate-limit window are always kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, dry_run=False, **options):
        removed = cleanup_connection_rate_limits(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} {removed} connection attempt record(s) older than "
            f"{ws_setting('RATE_LIMIT_RETENTION_HOURS')} hour(s)."
        )
