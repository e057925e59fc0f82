"""The control-plane model: APIs, integrations, routes, stages, deployments, domains.

Resources are kept as dictionaries in their wire shape (lowerCamelCase members, as
apigatewayv2 answers them), so the control plane returns them almost as they are.
A deployment stores a *snapshot* of the API's routes and integrations: the data
plane only ever reads snapshots, so nothing is live until it is deployed, as on AWS.

All mutation happens on the gateway's event loop; there is no locking.
"""

import json
import logging
import os
import secrets
import string
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger(__name__)

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits

# Integration types the data plane knows how to call. AWS and AWS_PROXY need Lambda.
CALLABLE_INTEGRATION_TYPES = {"HTTP_PROXY", "HTTP", "MOCK"}


def random_id(length, alphabet=_LOWER_ALNUM):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def aws_style_request_id():
    """16 characters of base64 ending in '=', like AWS's connection and request ids.

    Only letters and digits before the '=' so ids never contain '/' or '+'.
    """
    return random_id(15, _ALNUM) + "="


def utc_now():
    return datetime.now(UTC)


def iso8601(moment):
    """``2024-05-01T12:00:00.123Z``: what AWS puts in JSON timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class DeployedIntegration:
    """What the data plane needs to call one integration."""

    integration_id: str
    integration_type: str
    method: str
    uri: str
    request_parameters: dict
    timeout_ms: int

    @classmethod
    def from_wire(cls, integration, default_timeout_ms):
        return cls(
            integration_id=integration["integrationId"],
            integration_type=integration.get("integrationType", "HTTP_PROXY"),
            method=integration.get("integrationMethod", "POST"),
            uri=integration.get("integrationUri", ""),
            request_parameters=dict(integration.get("requestParameters") or {}),
            timeout_ms=int(integration.get("timeoutInMillis") or default_timeout_ms),
        )


@dataclass(frozen=True)
class DeployedRoute:
    route_key: str
    # A two-way route sends the integration's answer back to the client.
    two_way: bool
    integration: DeployedIntegration | None
    # The route request parameters it declares ({"route.request.header.Cookie":
    # {"required": False}, ...}): only those may be mapped into the integration request.
    request_parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """The routes of one API as they were when a deployment was made."""

    api_id: str
    route_selection_expression: str
    routes: dict = field(default_factory=dict)

    def to_json(self):
        return {
            "apiId": self.api_id,
            "routeSelectionExpression": self.route_selection_expression,
            "routes": {
                key: {
                    "twoWay": route.two_way,
                    "integration": route.integration.__dict__ if route.integration else None,
                    "requestParameters": route.request_parameters,
                }
                for key, route in self.routes.items()
            },
        }

    @classmethod
    def from_json(cls, data):
        routes = {}
        for key, route in data.get("routes", {}).items():
            integration = route.get("integration")
            routes[key] = DeployedRoute(
                route_key=key,
                two_way=bool(route.get("twoWay")),
                integration=DeployedIntegration(**integration) if integration else None,
                request_parameters=route.get("requestParameters") or {},
            )
        return cls(api_id=data["apiId"], route_selection_expression=data["routeSelectionExpression"], routes=routes)


class ServedStage(NamedTuple):
    """The deployed API stage a data-plane or management request reaches."""

    api_id: str
    stage: str
    snapshot: Snapshot


@dataclass
class ApiResources:
    """One API and everything that hangs off it."""

    api: dict
    integrations: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)
    # route id -> {route response id -> route response}
    route_responses: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)
    deployments: dict = field(default_factory=dict)
    # deployment id -> Snapshot
    snapshots: dict = field(default_factory=dict)


class GatewayState:
    """Every control-plane resource of the local gateway, optionally saved to a file."""

    def __init__(self, state_file=None):
        self.state_file = Path(state_file) if state_file else None
        self.apis: dict[str, ApiResources] = {}
        self.domains: dict[str, dict] = {}
        # domain name -> {mapping id -> mapping}
        self.api_mappings: dict[str, dict] = {}
        # Route 53: zone id -> {(name, type) -> record set (wire dict)}
        self.hosted_zones: dict[str, dict] = {}
        # Deployments get an increasing number so "most recently deployed" is exact.
        self.deployment_sequence = 0

    # -- lookups -----------------------------------------------------------------

    def api(self, api_id):
        return self.apis.get(api_id)

    def live_snapshot(self, api_id, stage_name):
        """The snapshot deployed to ``stage_name`` of ``api_id``, or None."""
        resources = self.apis.get(api_id)
        if resources is None:
            return None
        stage = resources.stages.get(stage_name)
        if stage is None or not stage.get("deploymentId"):
            return None
        return resources.snapshots.get(stage["deploymentId"])

    def stage_variables(self, api_id, stage_name):
        """The stage's variables as they are now: stage settings, unlike routes, take
        effect without a deployment."""
        resources = self.apis.get(api_id)
        stage = resources.stages.get(stage_name) if resources else None
        return dict((stage or {}).get("stageVariables") or {})

    def live_api_for_stage(self, stage_name):
        """The deployed snapshot serving ``/<stage_name>``.

        Locally every API shares one host, so a stage name alone picks the API. When
        several APIs have a deployed stage of that name, the most recently deployed
        one wins.
        """
        best, best_sequence = None, -1
        for api_id, resources in self.apis.items():
            stage = resources.stages.get(stage_name)
            if not stage or not stage.get("deploymentId"):
                continue
            sequence = stage.get("_deploymentSequence", 0)
            if sequence > best_sequence:
                best, best_sequence = self.live_snapshot(api_id, stage_name), sequence
        return best

    def resolve(self, stage_name, host):
        """The :class:`ServedStage` a request reaches, or None when nothing deployed is there.

        ``/<stage_name>/...`` names the stage (see :meth:`live_api_for_stage`); a path
        without one (``stage_name`` None) is on custom domain ``host`` and reaches the
        stage mapped there with an empty key.
        """
        if stage_name is not None:
            snapshot = self.live_api_for_stage(stage_name)
        else:
            mapping = self.mapping_for_host(host)
            if mapping is None:
                return None
            api_id, stage_name = mapping
            snapshot = self.live_snapshot(api_id, stage_name)
        if snapshot is None:
            return None
        return ServedStage(snapshot.api_id, stage_name, snapshot)

    def mapping_for_host(self, host):
        """(api id, stage) mapped with an empty key on custom domain ``host``, or None."""
        domain = host.split(":", 1)[0].lower()
        for mapping in self.api_mappings.get(domain, {}).values():
            if not mapping.get("apiMappingKey"):
                return mapping["apiId"], mapping["stage"]
        return None

    # -- deployments -------------------------------------------------------------

    def snapshot(self, resources, default_timeout_ms):
        """Freeze the API's current routes and integrations."""
        routes = {}
        for route in resources.routes.values():
            integration = None
            target = route.get("target") or ""
            if target.startswith("integrations/"):
                wire = resources.integrations.get(target.split("/", 1)[1])
                if wire is not None:
                    integration = DeployedIntegration.from_wire(wire, default_timeout_ms)
            routes[route["routeKey"]] = DeployedRoute(
                route_key=route["routeKey"],
                two_way=bool(route.get("routeResponseSelectionExpression")),
                integration=integration,
                request_parameters=dict(route.get("requestParameters") or {}),
            )
        return Snapshot(
            api_id=resources.api["apiId"],
            route_selection_expression=resources.api.get("routeSelectionExpression", "$request.body.action"),
            routes=routes,
        )

    def deploy(self, resources, stage_name, description, default_timeout_ms, auto_deployed=False):
        """Create a deployment (and point ``stage_name`` at it when given)."""
        deployment_id = random_id(6)
        now = iso8601(utc_now())
        deployment = {
            "deploymentId": deployment_id,
            "deploymentStatus": "DEPLOYED",
            "createdDate": now,
            "autoDeployed": auto_deployed,
        }
        if description:
            deployment["description"] = description
        resources.deployments[deployment_id] = deployment
        resources.snapshots[deployment_id] = self.snapshot(resources, default_timeout_ms)
        if stage_name:
            self.point_stage_at(resources, stage_name, deployment_id)
        return deployment

    def point_stage_at(self, resources, stage_name, deployment_id):
        self.deployment_sequence += 1
        stage = resources.stages[stage_name]
        stage["deploymentId"] = deployment_id
        stage["lastUpdatedDate"] = iso8601(utc_now())
        stage["_deploymentSequence"] = self.deployment_sequence

    def auto_deploy(self, resources, default_timeout_ms):
        """Redeploy every ``autoDeploy`` stage after a route or integration change."""
        for stage_name, stage in resources.stages.items():
            if stage.get("autoDeploy"):
                self.deploy(resources, stage_name, "Automatic deployment", default_timeout_ms, auto_deployed=True)

    # -- persistence -------------------------------------------------------------

    def to_json(self):
        return {
            "apis": {
                api_id: {
                    "api": r.api,
                    "integrations": r.integrations,
                    "routes": r.routes,
                    "routeResponses": r.route_responses,
                    "stages": r.stages,
                    "deployments": r.deployments,
                    "snapshots": {dep_id: snap.to_json() for dep_id, snap in r.snapshots.items()},
                }
                for api_id, r in self.apis.items()
            },
            "domains": self.domains,
            "apiMappings": self.api_mappings,
            "hostedZones": {zone: list(records.values()) for zone, records in self.hosted_zones.items()},
            "deploymentSequence": self.deployment_sequence,
        }

    def load_json(self, data):
        self.apis = {
            api_id: ApiResources(
                api=r["api"],
                integrations=r.get("integrations", {}),
                routes=r.get("routes", {}),
                route_responses=r.get("routeResponses", {}),
                stages=r.get("stages", {}),
                deployments=r.get("deployments", {}),
                snapshots={dep_id: Snapshot.from_json(s) for dep_id, s in r.get("snapshots", {}).items()},
            )
            for api_id, r in data.get("apis", {}).items()
        }
        self.domains = data.get("domains", {})
        self.api_mappings = data.get("apiMappings", {})
        self.hosted_zones = {
            zone: {(record["Name"], record["Type"]): record for record in records}
            for zone, records in data.get("hostedZones", {}).items()
        }
        self.deployment_sequence = data.get("deploymentSequence", 0)

    def load(self):
        """Read the state file if there is one; a damaged file is reported and ignored."""
        if not self.state_file or not self.state_file.exists():
            return
        try:
            self.load_json(json.loads(self.state_file.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("Ignoring unreadable local gateway state file %s: %s", self.state_file, exc)
            self.__init__(self.state_file)
        else:
            logger.info("Loaded %d API(s) from %s", len(self.apis), self.state_file)

    def save(self):
        """Write the state file atomically (write a temporary file, then rename)."""
        if not self.state_file:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.state_file.parent, prefix=".localgateway-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_json(), handle, indent=1, sort_keys=True)
        os.replace(temporary, self.state_file)
