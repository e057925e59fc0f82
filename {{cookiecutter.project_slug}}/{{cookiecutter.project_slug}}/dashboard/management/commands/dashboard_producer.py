"""``manage.py dashboard_producer [--every SECONDS] [--times N]``: push the live
dashboard's figures once, or every SECONDS until Ctrl-C / SIGTERM."""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from ...producer import run_producer


def positive_number(text):
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def positive_integer(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Push the live dashboard's figures to every open dashboard: once, or every --every seconds until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=positive_number, default=None, metavar="SECONDS", help="push again every SECONDS"
        )
        parser.add_argument(
            "--times", type=positive_integer, default=None, metavar="N", help="with --every: stop after N pushes"
        )

    def handle(self, *args, every=None, times=None, **options):
        if times is not None and every is None:
            raise CommandError("--times goes with --every (without it the figures are pushed once).")
        stop = threading.Event()
        restore = self._stop_on_signals(stop) if every is not None else {}
        try:
            if every is not None:
                self.stdout.write(f"Pushing the dashboard figures every {every:g} s; Ctrl-C stops.")
            run_producer(stop, every=every, times=times, on_push=self._report)
        finally:
            for signum, handler in restore.items():
                signal.signal(signum, handler)

    def _report(self, sample, report):
        failed = f", {len(report.failed)} failed" if report.failed else ""
        self.stdout.write(
            f"{sample.taken_on:%H:%M:%S} {sample.connections} connection(s), "
            f"{sample.messages_per_minute:.1f} message(s)/min -> {len(report.delivered)} dashboard(s){failed}"
        )
        self.stdout.flush()

    def _stop_on_signals(self, stop):
        """Ctrl-C and SIGTERM end the loop after the current push (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_stop(signum, frame):
            stop.set()

        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, request_stop)
        return previous
