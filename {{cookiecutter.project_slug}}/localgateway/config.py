"""The knobs of the local gateway: AWS's limits by default, shorter in tests."""

from dataclasses import dataclass
from pathlib import Path

KIB = 1024


@dataclass
class GatewayConfig:
    """Limits and options of one local gateway.

    The defaults are AWS's published quotas for WebSocket APIs; tests shorten the
    timeouts so that idle and maximum-duration closes happen in a second.
    """

    # AWS: 128 KB per message, 32 KB per frame; bigger closes the socket with 1009.
    max_message_bytes: int = 128 * KIB
    max_frame_bytes: int = 32 * KIB
    # AWS: 10 minutes without a data message in either direction, 2 hours in all.
    idle_timeout_seconds: float = 10 * 60
    max_connection_seconds: float = 2 * 60 * 60
    # Used when an integration has no timeoutInMillis of its own (AWS's default).
    default_integration_timeout_ms: int = 29_000
    # Upper bound for waiting on a $disconnect call (it is best effort anyway).
    disconnect_timeout_seconds: float = 10.0
    # How long a closing handshake may take before the socket is dropped.
    close_timeout_seconds: float = 5.0
    # Region reported when a request's signature names none.
    default_region: str = "us-east-1"
    # Refuse unsigned control-plane and management requests, as AWS does.
    require_signature: bool = True
    # The /@local/faults endpoint (fault injection for tests and benchmarks).
    enable_fault_endpoint: bool = False
    # Largest page the control plane returns for Get* list operations.
    max_page_size: int = 100
    # Persist the control-plane state (APIs, routes, deployments...) to this file.
    state_file: Path | None = None
