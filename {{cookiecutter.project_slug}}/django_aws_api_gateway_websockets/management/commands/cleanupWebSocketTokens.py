"""``manage.py cleanupWebSocketTokens [--token-age SECONDS] [--rate-limit-age DAYS]``:
delete spent tokens and old connection attempts (the published package's command)."""

from django.core.management.base import BaseCommand, CommandError

from ...cleanup import (
    DEFAULT_RATE_LIMIT_AGE_DAYS,
    DEFAULT_TOKEN_AGE_SECONDS,
    cleanup_connection_rate_limits,
    cleanup_websocket_tokens,
    rate_limit_age_kept,
    token_age_kept,
)


class Command(BaseCommand):
    help = (
        "Delete WebSocket tokens older than --token-age seconds and connection rate-limit records older than "
        "--rate-limit-age days. A token that is still valid, or that the token rate limit still counts, and an "
        "attempt that a rate limit still counts are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--token-age",
            type=int,
            default=None,
            metavar="SECONDS",
            help=f"delete tokens older than this (default: {DEFAULT_TOKEN_AGE_SECONDS}, or the token lifetime "
            "or token rate-limit window if longer)",
        )
        parser.add_argument(
            "--rate-limit-age",
            type=int,
            default=DEFAULT_RATE_LIMIT_AGE_DAYS,
            metavar="DAYS",
            help=f"delete connection rate-limit records older than this (default: {DEFAULT_RATE_LIMIT_AGE_DAYS})",
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")

    def handle(self, *args, token_age=None, rate_limit_age=DEFAULT_RATE_LIMIT_AGE_DAYS, dry_run=False, **options):
        if token_age is not None and token_age < 0:
            raise CommandError("--token-age must be 0 or more seconds")
        if rate_limit_age < 0:
            raise CommandError("--rate-limit-age must be 0 or more days")
        tokens = cleanup_websocket_tokens(token_age, dry_run=dry_run)
        attempts = cleanup_connection_rate_limits(rate_limit_age, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        token_age, attempt_age = token_age_kept(token_age), rate_limit_age_kept(rate_limit_age)
        self.stdout.write(
            f"{verb} {tokens} WebSocket token(s) older than {int(token_age.total_seconds())}s and {attempts} "
            f"connection rate-limit record(s) older than {int(attempt_age.total_seconds())}s."
        )
