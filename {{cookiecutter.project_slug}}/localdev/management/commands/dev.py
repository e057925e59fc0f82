"""``python manage.py dev`` (``make dev``): the whole stack on this machine, no AWS needed.

0. check that DJANGO_PORT and LOCAL_GATEWAY_PORT are free, and stop with the fix
   if not, before anything starts;
1. create the PostgreSQL database if DATABASE_URL names a missing one, then migrate;
2. start the local API Gateway (``manage.py localgateway``) and wait for it;
3. create or update the local ApiGateway record (stage ``local``, calling Django on
   ``http://127.0.0.1:<DJANGO_PORT>/ws/``) and one additional route per route an
   installed app declares (``websocket_routes`` on its AppConfig);
4. provision it through the same code that provisions AWS (a second run changes
   nothing), printing each step once;
5. create the demo users, start ``runserver``, then each background command an
   installed app asks for (``dev_commands`` on its AppConfig, e.g. the dashboard's
   producer) and, with background sends, a Celery worker (its broker checked first),
   and end with a short banner: where everything is, how to stop, and the demo logins
   as its last lines;
6. on Ctrl-C or SIGTERM stop the gateway (open sockets get their ``$disconnect``)
   and then the rest.

Routine logs stay quiet so that the banner stays on screen: runserver's line per
request, the gateway's line per connection and the background commands' output show
only with ``--verbose`` (``make dev VERBOSE=1``). Warnings and errors always show.
"""

import contextlib
import logging
import os
import signal
import subprocess
import threading

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from django_aws_api_gateway_websockets.provisioning import ProvisioningError

from ...database import ensure_database_exists
from ...local_api import LOCAL_STAGE, configure_local_api, ensure_demo_users, provision
from ...ports import busy_port_message, busy_ports
from ...processes import Child, ChildFailed
from ...worker import background_worker_arguments

# The children's routine loggers (config/settings/local.py reads this variable).
ROUTINE_LOG_LEVEL_VARIABLE = "DEV_ROUTINE_LOG_LEVEL"
PROVISIONING_LOGGER = "django_aws_api_gateway_websockets.provisioning"


class Command(BaseCommand):
    help = "Run Django and a local API Gateway together for development (ports DJANGO_PORT, LOCAL_GATEWAY_PORT)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--state-file",
            default=None,
            help="Where the local gateway keeps its APIs between runs "
            "(default: LOCAL_GATEWAY_STATE_FILE, else .localgateway-state.json next to manage.py).",
        )
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="Also show every request runserver answers, every connection of the local gateway and "
            "the background commands' output (make dev VERBOSE=1). Without it only warnings and errors "
            "show after the banner.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "manage.py dev is for local development only: it needs DEBUG on (config.settings.local)."
            )
        django_port = int(getattr(settings, "DJANGO_PORT", 8000))
        gateway_port = int(getattr(settings, "LOCAL_GATEWAY_PORT", 8001))
        self._check_ports(django_port, gateway_port)
        state_file = (
            options["state_file"]
            or getattr(settings, "LOCAL_GATEWAY_STATE_FILE", None)
            or str(settings.BASE_DIR / ".localgateway-state.json")
        )
        # The provisioning code in this process must talk to the gateway started below.
        settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = f"http://127.0.0.1:{gateway_port}"
        settings.AWS_ENDPOINT_URL_ROUTE53 = f"http://127.0.0.1:{gateway_port}"

        stopping = threading.Event()
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def stop_requested(signum, frame):
            stopping.set()
            raise KeyboardInterrupt

        for sig in previous:
            signal.signal(sig, stop_requested)
        children = []
        try:
            self._run(django_port, gateway_port, state_file, children, stopping, options["verbose"])
        except KeyboardInterrupt:
            pass
        except ChildFailed as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop(children)

    def _check_ports(self, django_port, gateway_port):
        if django_port == gateway_port:
            raise CommandError(
                f"DJANGO_PORT and LOCAL_GATEWAY_PORT are both {django_port}: give them two different ports, "
                f"e.g. DJANGO_PORT={django_port} LOCAL_GATEWAY_PORT={django_port + 1} make dev."
            )
        try:
            busy = busy_ports({"DJANGO_PORT": django_port, "LOCAL_GATEWAY_PORT": gateway_port})
        except OSError as exc:
            raise CommandError(f"Cannot check ports {django_port} and {gateway_port}: {exc.strerror or exc}") from exc
        if busy:
            raise CommandError(busy_port_message(busy, django_port))

    def _run(self, django_port, gateway_port, state_file, children, stopping, verbose):
        manage = str(settings.BASE_DIR / "manage.py")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
            ROUTINE_LOG_LEVEL_VARIABLE: "INFO" if verbose else "WARNING",
        }
        # Quiet: the children print no banner and no routine line (warnings and errors
        # still reach the terminal through their stderr).
        quiet = [] if verbose else ["--verbosity", "0"]
        routine_output = None if verbose else subprocess.DEVNULL

        # Checked before anything starts: a missing broker is named, not a crashed worker.
        worker = background_worker_arguments(verbose)
        note = ensure_database_exists()
        if note:
            self.stdout.write(note)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")

        gateway = self._start(
            children,
            "the local API Gateway",
            [manage, "localgateway", "--port", str(gateway_port), "--state-file", state_file, *quiet],
            env,
        )
        gateway.wait_until_answering(f"http://127.0.0.1:{gateway_port}/@local/health")

        record, notes = configure_local_api(django_port)
        try:
            with _quiet_logger(PROVISIONING_LOGGER):
                report = provision(record)
        except ProvisioningError as exc:
            raise CommandError(f"Provisioning the local API failed: {exc}") from exc
        record.refresh_from_db()
        steps = [*notes, *report.actions] or ["already up to date, nothing changed"]
        self.stdout.write(f"Local API {record.api_name!r} (API {record.api_id}, stage {LOCAL_STAGE}):")
        for step in steps:
            self.stdout.write(f"  {step}")
        users = ensure_demo_users()

        django = self._start(
            children,
            "Django's runserver",
            [manage, "runserver", f"127.0.0.1:{django_port}"],
            env,
            stdout=routine_output,
        )
        django.wait_until_answering(f"http://127.0.0.1:{django_port}/")
        for config in apps.get_app_configs():
            for arguments in getattr(config, "dev_commands", None) or ():
                name = f"manage.py {' '.join(arguments)} ({config.verbose_name})"
                self._start(children, name, [manage, *arguments, *quiet], env)
        if worker:
            self._start(children, "the Celery worker (background sends)", worker, env)

        self._announce(django_port, gateway_port, users, verbose)
        while not stopping.is_set():
            for child in children:
                if not child.running():
                    raise ChildFailed(f"{child.title} stopped unexpectedly (status {child.process.returncode})")
            stopping.wait(0.5)

    def _start(self, children, name, arguments, env, stdout=None):
        child = Child(name, arguments, env=env, stdout=stdout)
        children.append(child)
        self.stdout.write(f"Started {child.name}, pid {child.pid}.")
        return child

    def _announce(self, django_port, gateway_port, users, verbose):
        """The banner: where everything is and how to stop, then the logins, last, so that
        they are what stays on screen."""
        logs = (
            "every request and connection is logged"
            if verbose
            else "only warnings and errors show; make dev VERBOSE=1 shows every request"
        )
        lines = [
            "",
            "Local development is running. Press Ctrl-C to stop everything.",
            f"  Site:       http://127.0.0.1:{django_port}/",
            f"  Admin:      http://127.0.0.1:{django_port}/admin/",
            f"  WebSocket:  ws://127.0.0.1:{gateway_port}/{LOCAL_STAGE} (the local API Gateway)",
            f"  Logs:       {logs}",
            "Log in as:",
        ]
        width = max(len(f"{username} / {password}") for username, password, _ in users)
        for username, password, staff in users:
            role = "staff: the admin site and staff-only pages" if staff else "a demo user"
            lines.append(f"  {f'{username} / {password}':<{width}}  ({role})")
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _stop(self, children):
        # The gateway first: its open sockets then get $disconnect while Django still runs.
        for child in children:
            if child.running():
                self.stdout.write(f"Stopping {child.name}, pid {child.pid}...")
                child.stop()
        if children:
            self.stdout.write("Stopped.")


@contextlib.contextmanager
def _quiet_logger(name):
    """Raise a logger to WARNING for a while: the command prints those steps itself."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)
