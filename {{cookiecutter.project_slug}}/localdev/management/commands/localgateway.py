"""``python manage.py localgateway``: run the local API Gateway (development only)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from localgateway.config import GatewayConfig
from localgateway.server import run


class Command(BaseCommand):
    help = (
        "Run a local stand-in for AWS API Gateway: WebSocket clients at ws://HOST:PORT/<stage>, "
        "the management API at /<stage>/@connections/<id> and the apigatewayv2 control plane at /v2. "
        "For development and tests only."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        defaults = GatewayConfig()
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8001, help="Port to listen on (default 8001).")
        parser.add_argument("--state-file", type=Path, help="Keep APIs, routes and deployments in this JSON file.")
        parser.add_argument(
            "--idle-timeout", type=float, default=defaults.idle_timeout_seconds, help="Seconds (AWS: 600)."
        )
        parser.add_argument(
            "--max-connection-time",
            type=float,
            default=defaults.max_connection_seconds,
            help="Seconds a connection may last (AWS: 7200).",
        )
        parser.add_argument(
            "--max-message-bytes", type=int, default=defaults.max_message_bytes, help="AWS: 131072 (128 KB)."
        )
        parser.add_argument("--max-frame-bytes", type=int, default=defaults.max_frame_bytes, help="AWS: 32768 (32 KB).")
        parser.add_argument("--region", default=defaults.default_region, help="Region when a request names none.")
        parser.add_argument(
            "--no-signature-check",
            action="store_true",
            help="Accept unsigned control-plane and management requests (handy with curl).",
        )
        parser.add_argument(
            "--fault-endpoint", action="store_true", help="Enable /@local/faults (fault injection for testing)."
        )

    def handle(self, *args, **options):
        if options["port"] < 0 or options["port"] > 65535:
            raise CommandError("--port must be between 0 and 65535")
        for limit in ("idle_timeout", "max_connection_time", "max_message_bytes", "max_frame_bytes"):
            if options[limit] <= 0:
                raise CommandError(f"--{limit.replace('_', '-')} must be positive")
        if options["host"] not in ("127.0.0.1", "localhost", "::1"):
            self.stderr.write(
                self.style.WARNING("The local gateway accepts any credentials: do not expose it beyond this machine.")
            )
        config = GatewayConfig(
            idle_timeout_seconds=options["idle_timeout"],
            max_connection_seconds=options["max_connection_time"],
            max_message_bytes=options["max_message_bytes"],
            max_frame_bytes=options["max_frame_bytes"],
            default_region=options["region"],
            require_signature=not options["no_signature_check"],
            enable_fault_endpoint=options["fault_endpoint"],
            state_file=options["state_file"],
        )
        # --verbosity 0 (make dev without VERBOSE) leaves out the banner.
        banner = self.stdout.write if options["verbosity"] >= 1 else (lambda text: None)
        try:
            run(config, host=options["host"], port=options["port"], banner=banner)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}") from exc
