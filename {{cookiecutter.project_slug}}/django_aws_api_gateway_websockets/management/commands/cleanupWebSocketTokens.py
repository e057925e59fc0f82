"""``manage.py cleanupWebSocketTokens``: delete used and expired tokens."""

from django.core.management.base import BaseCommand

from ...cleanup import cleanup_websocket_tokens


class Command(BaseCommand):
    help = (
        "Delete WebSocket tokens that are used or expired, once the token rate limit "
        "(TOKEN_RATE_LIMIT_WINDOW_MINUTES) no longer counts them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, dry_run=False, **options):
        removed = cleanup_websocket_tokens(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} {removed} used or expired WebSocket token(s).")
