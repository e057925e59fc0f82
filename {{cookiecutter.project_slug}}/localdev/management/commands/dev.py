"""``python manage.py dev`` (``make dev``): the whole stack on this machine, no AWS needed.

1. create the PostgreSQL database if DATABASE_URL names a missing one, then migrate;
2. start the local API Gateway (``manage.py localgateway``) and wait for it;
3. create or update the local ApiGateway record (stage ``local``, calling Django on
   ``http://127.0.0.1:<DJANGO_PORT>/ws/``) and one additional route per route an
   installed app declares (``websocket_routes`` on its AppConfig);
4. provision it through the same code that provisions AWS (a second run changes
   nothing);
5. create the demo users, start ``runserver``, then each background command an
   installed app asks for (``dev_commands`` on its AppConfig, e.g. the dashboard's
   producer) and, with background sends, a Celery worker (its broker checked first),
   and print where everything is;
6. on Ctrl-C or SIGTERM stop the gateway (open sockets get their ``$disconnect``)
   and then the rest.
"""

import os
import signal
import threading

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from django_aws_api_gateway_websockets.provisioning import ProvisioningError

from ...database import ensure_database_exists
from ...local_api import LOCAL_STAGE, configure_local_api, ensure_demo_users, provision
from ...processes import Child, ChildFailed
from ...worker import background_worker_arguments


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

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "manage.py dev is for local development only: it needs DEBUG on (config.settings.local)."
            )
        django_port = int(getattr(settings, "DJANGO_PORT", 8000))
        gateway_port = int(getattr(settings, "LOCAL_GATEWAY_PORT", 8001))
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
            self._run(django_port, gateway_port, state_file, children, stopping)
        except KeyboardInterrupt:
            pass
        except ChildFailed as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop(children)

    def _run(self, django_port, gateway_port, state_file, children, stopping):
        manage = str(settings.BASE_DIR / "manage.py")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        }

        # Checked before anything starts: a missing broker is named, not a crashed worker.
        worker = background_worker_arguments()
        note = ensure_database_exists()
        if note:
            self.stdout.write(note)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")

        gateway = Child(
            "The local API Gateway",
            [manage, "localgateway", "--port", str(gateway_port), "--state-file", state_file],
            env=env,
        )
        children.append(gateway)
        gateway.wait_until_answering(f"http://127.0.0.1:{gateway_port}/@local/health")

        record, notes = configure_local_api(django_port)
        for line in notes:
            self.stdout.write(line)
        try:
            report = provision(record)
        except ProvisioningError as exc:
            raise CommandError(f"Provisioning the local API failed: {exc}") from exc
        self.stdout.write(f"Local API {record.api_name!r}: {report.summary()}")
        users = ensure_demo_users()

        django = Child("Django's runserver", [manage, "runserver", f"127.0.0.1:{django_port}"], env=env)
        children.append(django)
        django.wait_until_answering(f"http://127.0.0.1:{django_port}/")
        for config in apps.get_app_configs():
            for arguments in getattr(config, "dev_commands", None) or ():
                name = f"{config.label}: manage.py {' '.join(arguments)}"
                children.append(Child(name, [manage, *arguments], env=env))
        if worker:
            children.append(Child("The Celery worker (background sends)", worker, env=env))

        record.refresh_from_db()
        self._announce(record, django_port, gateway_port, users, children)
        while not stopping.is_set():
            for child in children:
                if not child.running():
                    raise ChildFailed(f"{child.name} stopped unexpectedly (status {child.process.returncode})")
            stopping.wait(0.5)

    def _announce(self, record, django_port, gateway_port, users, children):
        gateway = f"127.0.0.1:{gateway_port}"
        lines = [
            "",
            "Local development is running:",
            f"  Site:            http://127.0.0.1:{django_port}/",
            f"  Admin:           http://127.0.0.1:{django_port}/admin/",
            f"  WebSocket:       ws://{gateway}/{LOCAL_STAGE}",
            f"  Management API:  http://{gateway}/{LOCAL_STAGE}/@connections/<connection id>",
            f"  Control plane:   http://{gateway}/v2/apis (API {record.api_id})",
        ]
        for username, password, staff in users:
            role = "staff user (admin, staff pages)" if staff else "demo user"
            lines.append(f"  Log in as:       {username} / {password}  ({role})")
        lines.append(f"  Processes:       gateway pid {children[0].pid}, runserver pid {children[1].pid}")
        for child in children[2:]:
            lines.append(f"                   {child.name}, pid {child.pid}")
        lines.append("Press Ctrl-C to stop everything.")
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _stop(self, children):
        # The gateway first: its open sockets then get $disconnect while Django still runs.
        for child in children:
            if child.running():
                self.stdout.write(f"Stopping {child.name} (pid {child.pid})...")
                child.stop()
        if children:
            self.stdout.write("Stopped.")
