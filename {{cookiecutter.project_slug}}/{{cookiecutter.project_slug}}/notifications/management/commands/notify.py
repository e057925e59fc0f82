"""``manage.py notify <username> <title> [--body TEXT] [--level info|success|warning|error]``"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...models import Notification
from ...services import notify


class Command(BaseCommand):
    help = "Store a notification for a user and push it to every tab that user has open."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("title")
        parser.add_argument("--body", default="")
        parser.add_argument("--level", choices=Notification.Level.values, default=Notification.Level.INFO)

    def handle(self, *args, username, title, body, level, **options):
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        try:
            _, report = notify(user, title, body, level=level)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        tabs = len(report.delivered)
        self.stdout.write(f"Notified {username}: {tabs} open tab(s) reached.")
