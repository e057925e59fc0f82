"""Fault injection: make the gateway slow or failing on purpose (off by default).

Tests and benchmarks use it to see how the app copes with throttling (429), server
errors (500) or a slow management API. Rules are added in-process
(``app[FAULTS].add(FaultRule(...))``) or, when the gateway runs with
``--fault-endpoint``, over HTTP::

    POST   /@local/faults  {"plane": "management", "operation": "PostToConnection",
                            "status": 429, "times": 3, "delay_ms": 0}
    GET    /@local/faults  -> the active rules
    DELETE /@local/faults  -> remove every rule

``plane`` is ``management`` (operations PostToConnection, GetConnection,
DeleteConnection) or ``control`` (apigatewayv2 operation names such as
CreateDeployment). Without ``operation`` a rule matches every operation of its plane;
without ``times`` it never runs out.
"""

import asyncio
from dataclasses import asdict, dataclass

from .errors import aws_error_response

PLANES = {"management", "control"}

# The error type AWS uses for each status, per plane.
ERROR_TYPES = {
    "management": {
        400: "BadRequestException",
        403: "ForbiddenException",
        410: "GoneException",
        413: "PayloadTooLargeException",
        429: "LimitExceededException",
    },
    "control": {
        400: "BadRequestException",
        403: "AccessDeniedException",
        404: "NotFoundException",
        409: "ConflictException",
        429: "TooManyRequestsException",
    },
}


@dataclass
class FaultRule:
    """Delay and/or fail matching requests."""

    plane: str
    operation: str | None = None
    status: int | None = None
    delay_ms: int = 0
    times: int | None = None
    message: str = "Injected fault"

    def __post_init__(self):
        if self.plane not in PLANES:
            raise ValueError(f"plane must be one of {sorted(PLANES)}")
        if self.status is not None and not 400 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.times is not None and int(self.times) < 1:
            raise ValueError("times must be at least 1")
        if int(self.delay_ms) < 0:
            raise ValueError("delay_ms cannot be negative")

    def matches(self, plane, operation):
        return self.plane == plane and self.operation in (None, operation)


class FaultInjector:
    """The active fault rules of one gateway."""

    def __init__(self):
        self.rules: list[FaultRule] = []

    def add(self, rule):
        self.rules.append(rule)
        return rule

    def clear(self):
        self.rules.clear()

    def describe(self):
        return [asdict(rule) for rule in self.rules]

    async def apply(self, plane, operation):
        """Sleep and/or return an error response for the first matching rule."""
        rule = next((r for r in self.rules if r.matches(plane, operation)), None)
        if rule is None:
            return None
        if rule.times is not None:
            rule.times -= 1
            if rule.times <= 0:
                self.rules.remove(rule)
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        if rule.status is None:
            return None
        status = int(rule.status)
        error_type = ERROR_TYPES[plane].get(status, "InternalServerErrorException")
        return aws_error_response(status, error_type, rule.message)
