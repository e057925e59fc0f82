"""``manage.py clearWebSocketSessions``: delete disconnected sessions (the published
package's command), and mark connected ones that outlived API Gateway's two hours."""

from django.core.management.base import BaseCommand, CommandError

from ...cleanup import clear_websocket_sessions
from ...conf import ws_setting


class Command(BaseCommand):
    help = (
        "Delete disconnected WebSocket sessions (all of them, or with --older-than-days only those last updated "
        "earlier), then mark connected sessions disconnected when nothing was heard from them for "
        "MAX_CONNECTION_SECONDS (API Gateway's 2-hour limit: their $disconnect was lost)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=float,
            default=0,
            metavar="DAYS",
            help="keep disconnected sessions updated in the last DAYS days (default: 0, delete them all)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")

    def handle(self, *args, older_than_days=0, dry_run=False, **options):
        if older_than_days < 0:
            raise CommandError("--older-than-days must be 0 or more")
        result = clear_websocket_sessions(older_than_days, dry_run=dry_run)
        verb, mark = ("Would delete", "would mark") if dry_run else ("Deleted", "marked")
        self.stdout.write(
            f"{verb} {result.deleted} disconnected WebSocket session(s); {mark} {result.marked_disconnected} "
            f"connected session(s) silent for over {ws_setting('MAX_CONNECTION_SECONDS')}s disconnected."
        )
        if result.background_sends_deleted:
            self.stdout.write(f"{verb} {result.background_sends_deleted} finished background send(s).")
