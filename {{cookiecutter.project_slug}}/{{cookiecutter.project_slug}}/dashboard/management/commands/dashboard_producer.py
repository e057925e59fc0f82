"""``manage.py dashboard_producer [--every SECONDS] [--times N]``: push the live
dashboard's figures once, or every SECONDS until Ctrl-C."""

import contextlib
import threading

from django.core.management.base import BaseCommand, CommandError

from ...producer import run_producer


class Command(BaseCommand):
    help = "Push the live dashboard's figures to every open dashboard: once, or every --every seconds until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, metavar="SECONDS", help="push again every SECONDS")
        parser.add_argument("--times", type=int, metavar="N", help="with --every: stop after N pushes")

    def handle(self, *args, every=None, times=None, verbosity=1, **options):
        if every is not None and every <= 0:
            raise CommandError("--every takes a number of seconds above 0.")
        if times is not None and (every is None or times < 1):
            raise CommandError("--times takes a count of 1 or more, and goes with --every.")
        # --verbosity 0 (make dev without VERBOSE): nothing on a successful push; a failed
        # one is still logged.
        if every is not None and verbosity >= 1:
            self.stdout.write(f"Pushing the dashboard figures every {every:g} s; Ctrl-C stops.")
        # Ctrl-C ends the loop; make dev stops it with SIGTERM, which needs no handling.
        with contextlib.suppress(KeyboardInterrupt):
            run_producer(threading.Event(), every=every, times=times, on_push=self._report if verbosity >= 1 else None)
{%- if cookiecutter.background_sends == "celery" %}

    def _report(self, sample, send):
        self.stdout.write(
            f"{sample.taken_on:%H:%M:%S} {sample.connections} connection(s), "
            f"{sample.messages_per_minute:.1f} message(s)/min -> the workers (background send {send.pk})"
        )
{%- else %}

    def _report(self, sample, report):
        failed = f", {len(report.failed)} failed" if report.failed else ""
        self.stdout.write(
            f"{sample.taken_on:%H:%M:%S} {sample.connections} connection(s), "
            f"{sample.messages_per_minute:.1f} message(s)/min -> {len(report.delivered)} dashboard(s){failed}"
        )
{%- endif %}
        self.stdout.flush()
