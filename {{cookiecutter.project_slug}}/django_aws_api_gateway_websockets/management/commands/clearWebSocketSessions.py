"""``manage.py clearWebSocketSessions``: close stale sessions, delete old ones."""

from django.core.management.base import BaseCommand

from ...cleanup import clear_websocket_sessions
from ...conf import ws_setting


class Command(BaseCommand):
    help = (
        "Mark connected WebSocket sessions disconnected when nothing was heard from them for "
        "MAX_CONNECTION_SECONDS (API Gateway's 2-hour limit), and delete disconnected sessions older "
        "than DISCONNECTED_SESSION_RETENTION_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        result = clear_websocket_sessions(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        mark = "would mark" if dry_run else "marked"
        self.stdout.write(
            f"{verb} {result.deleted} disconnected session(s) older than "
            f"{ws_setting('DISCONNECTED_SESSION_RETENTION_DAYS')} day(s); {mark} {result.marked_disconnected} "
            f"stale connected session(s) disconnected."
        )
