"""The WebSocket API of an :class:`~..models.ApiGateway` record, its routes and stage.

* :func:`create_api` - create the WebSocket API if the record has none yet, then
  :func:`sync` it. Safe to run again after any failure: the API id is saved the
  moment AWS returns it, so a re-run continues instead of creating a second API.
* :func:`sync` - make AWS match the record: one HTTP_PROXY integration and route per
  route key (``$connect``, ``$disconnect``, ``$default`` and each
  :class:`~..models.ApiGatewayAdditionalRoute`), the stage, and one deployment when
  something changed. Running it twice changes nothing the second time.

Every failure is raised as :class:`ProvisioningError` with one readable line (the
AWS error code and message); nothing is marked created or deployed that was not.

How ``sync`` knows whether the stage is up to date: each deployment it makes is
described with a fingerprint of the routes it deploys. When the stage's current
deployment carries the fingerprint of what the record wants, and nothing had to be
changed, no deployment is made. A run that changed routes but failed to deploy is
therefore completed by the next run.
"""

import hashlib
import json
from dataclasses import dataclass

from ..conf import gateway_secret, ws_setting
from .client import AwsService, ProvisioningError, ProvisioningReport, save_fields
from .mappings import SECRET_STAGE_VARIABLE, integration_request_parameters, route_request_parameters

INTEGRATION_TIMEOUT_MS = 29_000
# Routes whose integration answer goes back to the client (two-way routes).
TWO_WAY_EXPRESSION = "$default"
DEPLOYMENT_MARK = "django_aws_api_gateway_websockets sync"
BUILT_IN_ROUTES = (("$connect", "connect", False), ("$disconnect", "disconnect", False), ("$default", "default", True))


@dataclass(frozen=True)
class DesiredRoute:
    """A route as the record wants it in AWS."""

    route_key: str
    integration_uri: str
    two_way: bool

    def integration_parameters(self):
        return {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationMethod": "POST",
            "IntegrationUri": self.integration_uri,
            "RequestParameters": integration_request_parameters(self.route_key),
            "TimeoutInMillis": INTEGRATION_TIMEOUT_MS,
        }

    def route_parameters(self):
        return route_request_parameters(self.route_key)


def desired_routes(api_gateway):
    """Route key -> :class:`DesiredRoute` for the record and its additional routes."""
    wanted = {
        key: DesiredRoute(key, api_gateway.integration_url_for(suffix), two_way)
        for key, suffix, two_way in BUILT_IN_ROUTES
    }
    for route in api_gateway.additional_routes.order_by("route_key"):
        wanted[route.route_key] = DesiredRoute(route.route_key, route.integration_url, True)
    return wanted


def fingerprint(api_gateway, routes):
    """A short digest of everything a deployment of this record contains."""
    material = {
        "routeSelectionExpression": api_gateway.route_selection_expression,
        "routes": {
            key: [route.integration_parameters(), route.route_parameters(), route.two_way]
            for key, route in sorted(routes.items())
        },
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:20]


# -- create and sync ------------------------------------------------------------------


def create_api(api_gateway):
    """Create the WebSocket API for ``api_gateway`` if needed, then sync and deploy it."""
    api_gateway.refresh_from_db()
    report = ProvisioningReport(str(api_gateway))
    apigateway = AwsService("apigatewayv2")
    if api_gateway.api_id and apigateway.call("GetApi", missing_ok=True, ApiId=api_gateway.api_id) is None:
        report.add(f"API {api_gateway.api_id} no longer exists in AWS; creating a new one")
        save_fields(api_gateway, api_id="", api_endpoint="", api_created=False)
        api_gateway.additional_routes.update(deployed=False)
    if not api_gateway.api_id:
        params = {
            "Name": api_gateway.api_name,
            "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": api_gateway.route_selection_expression,
            "ApiKeySelectionExpression": api_gateway.api_key_selection_expression,
        }
        if api_gateway.api_description:
            params["Description"] = api_gateway.api_description
        if isinstance(api_gateway.tags, dict) and api_gateway.tags:
            params["Tags"] = {str(k): str(v) for k, v in api_gateway.tags.items()}
        api = apigateway.call("CreateApi", **params)
        # Saved at once: a failure further down must never lead to a second API.
        save_fields(api_gateway, api_id=api["ApiId"], api_endpoint=api["ApiEndpoint"])
        report.add(f"created API {api['ApiId']} ({api['ApiEndpoint']})")
    _sync(api_gateway, apigateway, report)
    return report


def sync(api_gateway):
    """Bring AWS in line with the record and its additional routes (idempotent)."""
    api_gateway.refresh_from_db()
    if not api_gateway.api_id:
        raise ProvisioningError(f"{api_gateway} has no API in AWS yet: run 'Create API Gateway' first")
    report = ProvisioningReport(str(api_gateway))
    _sync(api_gateway, AwsService("apigatewayv2"), report)
    return report


def _sync(api_gateway, apigateway, report):
    api_id = api_gateway.api_id
    api = apigateway.call("GetApi", missing_ok=True, ApiId=api_id)
    if api is None:
        raise ProvisioningError(f"API {api_id} no longer exists in AWS: run 'Create API Gateway' to create a new one")
    _sync_api_settings(api_gateway, apigateway, api, report)
    wanted = desired_routes(api_gateway)
    routes_changed = _sync_routes(api_gateway, apigateway, wanted, report)
    stage = _sync_stage(api_gateway, apigateway, report)

    mark = f"{DEPLOYMENT_MARK} {fingerprint(api_gateway, wanted)}"
    deployed_mark = ""
    if stage.get("DeploymentId"):
        current = apigateway.call("GetDeployment", missing_ok=True, ApiId=api_id, DeploymentId=stage["DeploymentId"])
        deployed_mark = (current or {}).get("Description", "")
    if routes_changed or deployed_mark != mark:
        deployment = apigateway.call(
            "CreateDeployment", ApiId=api_id, StageName=api_gateway.stage_name, Description=mark
        )
        report.deployment_id = deployment["DeploymentId"]
        report.add(f"deployed to stage {api_gateway.stage_name} ({deployment['DeploymentId']})")
    # Only now is everything live: mark it so.
    api_gateway.additional_routes.filter(route_key__in=list(wanted), deployed=False).update(deployed=True)
    if not api_gateway.api_created:
        save_fields(api_gateway, api_created=True)


def _sync_api_settings(api_gateway, apigateway, api, report):
    if api.get("ApiEndpoint") and api["ApiEndpoint"] != api_gateway.api_endpoint:
        save_fields(api_gateway, api_endpoint=api["ApiEndpoint"])
    wanted = {
        "Name": api_gateway.api_name,
        "Description": api_gateway.api_description,
        "RouteSelectionExpression": api_gateway.route_selection_expression,
        "ApiKeySelectionExpression": api_gateway.api_key_selection_expression,
    }
    changes = {member: value for member, value in wanted.items() if api.get(member, "") != value}
    if changes:
        apigateway.call("UpdateApi", ApiId=api_gateway.api_id, **changes)
        report.add(f"updated API settings ({', '.join(sorted(changes))})")


def _integration_differs(integration, desired):
    """True when the integration lacks something the record wants. Request parameters
    are compared as "all the wanted ones are there": whether UpdateIntegration
    replaces the map or merges into it, a sync must not loop on an extra key."""
    for member, value in desired.integration_parameters().items():
        actual = integration.get(member)
        if member == "RequestParameters":
            if any((actual or {}).get(key) != source for key, source in value.items()):
                return True
        elif actual != value:
            return True
    return False


def _route_parameters_differ(route, desired):
    actual = route.get("RequestParameters") or {}
    return any(
        bool((actual.get(key) or {}).get("Required")) != constraint["Required"] or key not in actual
        for key, constraint in desired.route_parameters().items()
    )


def _sync_routes(api_gateway, apigateway, wanted, report):
    """Create, update and delete routes and integrations; True if anything changed."""
    api_id = api_gateway.api_id
    existing_routes = {route["RouteKey"]: route for route in apigateway.everything("GetRoutes", ApiId=api_id)}
    integrations = {i["IntegrationId"]: i for i in apigateway.everything("GetIntegrations", ApiId=api_id)}
    changes_before = len(report.actions)

    def targets():
        return [route.get("Target", "") for route in existing_routes.values()]

    for key, desired in wanted.items():
        route = existing_routes.get(key)
        if route is None:
            integration = apigateway.call("CreateIntegration", ApiId=api_id, **desired.integration_parameters())
            integrations[integration["IntegrationId"]] = integration
            params = {"RouteKey": key, "Target": f"integrations/{integration['IntegrationId']}"}
            if desired.two_way:
                params["RouteResponseSelectionExpression"] = TWO_WAY_EXPRESSION
            if desired.route_parameters():
                params["RequestParameters"] = desired.route_parameters()
            route = apigateway.call("CreateRoute", ApiId=api_id, **params)
            existing_routes[key] = route
            report.add(f"created route {key} -> {desired.integration_uri}")
        else:
            _repair_route(apigateway, api_id, route, desired, integrations, targets(), report)
        if desired.two_way:
            _ensure_route_response(apigateway, api_id, route, report)

    for key, route in list(existing_routes.items()):
        if key.startswith("$") or key in wanted:
            continue
        apigateway.call("DeleteRoute", ApiId=api_id, RouteId=route["RouteId"])
        del existing_routes[key]
        report.add(f"deleted route {key}")
        target = route.get("Target", "")
        if target.startswith("integrations/") and target not in targets():
            integration_id = target.split("/", 1)[1]
            if integration_id in integrations:
                apigateway.call("DeleteIntegration", ApiId=api_id, IntegrationId=integration_id)
                report.add(f"deleted the integration of route {key}")
    return len(report.actions) > changes_before


def _repair_route(apigateway, api_id, route, desired, integrations, all_targets, report):
    key = desired.route_key
    target = route.get("Target", "")
    integration_id = target.split("/", 1)[1] if target.startswith("integrations/") else ""
    integration = integrations.get(integration_id)
    updates = {}
    if integration is None or (_integration_differs(integration, desired) and all_targets.count(target) > 1):
        # No usable integration, or one shared with other routes: give this route its own.
        integration = apigateway.call("CreateIntegration", ApiId=api_id, **desired.integration_parameters())
        integrations[integration["IntegrationId"]] = integration
        updates["Target"] = f"integrations/{integration['IntegrationId']}"
        report.add(f"gave route {key} a new integration -> {desired.integration_uri}")
    elif _integration_differs(integration, desired):
        updated = apigateway.call(
            "UpdateIntegration", ApiId=api_id, IntegrationId=integration_id, **desired.integration_parameters()
        )
        integrations[integration_id] = updated
        report.add(f"updated the integration of route {key} -> {desired.integration_uri}")
    if desired.two_way and route.get("RouteResponseSelectionExpression") != TWO_WAY_EXPRESSION:
        updates["RouteResponseSelectionExpression"] = TWO_WAY_EXPRESSION
    if _route_parameters_differ(route, desired):
        updates["RequestParameters"] = desired.route_parameters()
    if updates:
        route.update(apigateway.call("UpdateRoute", ApiId=api_id, RouteId=route["RouteId"], **updates))
        if "RouteResponseSelectionExpression" in updates:
            report.add(f"made route {key} two-way")
        if "RequestParameters" in updates:
            report.add(f"declared the request parameters of route {key}")


def _ensure_route_response(apigateway, api_id, route, report):
    responses = apigateway.everything("GetRouteResponses", ApiId=api_id, RouteId=route["RouteId"])
    if not any(response.get("RouteResponseKey") == "$default" for response in responses):
        apigateway.call("CreateRouteResponse", ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
        report.add(f"added the $default route response of {route['RouteKey']}")


def desired_stage_settings():
    """Stage members the record's settings want: the gateway secret as a stage
    variable, and the default route throttling when the settings give one."""
    secret = gateway_secret()
    if not secret:
        raise ProvisioningError(
            "the WEBSOCKET_GATEWAY_SECRET setting is empty: API Gateway would have no secret to send "
            "(set it in the environment)"
        )
    throttling = {}
    if ws_setting("STAGE_THROTTLING_RATE_LIMIT") is not None:
        throttling["ThrottlingRateLimit"] = float(ws_setting("STAGE_THROTTLING_RATE_LIMIT"))
    if ws_setting("STAGE_THROTTLING_BURST_LIMIT") is not None:
        throttling["ThrottlingBurstLimit"] = int(ws_setting("STAGE_THROTTLING_BURST_LIMIT"))
    return {SECRET_STAGE_VARIABLE: secret}, throttling


def _sync_stage(api_gateway, apigateway, report):
    api_id, name = api_gateway.api_id, api_gateway.stage_name
    variables, throttling = desired_stage_settings()
    stages = {stage["StageName"]: stage for stage in apigateway.everything("GetStages", ApiId=api_id)}
    stage = stages.get(name)
    if stage is None:
        params = {"ApiId": api_id, "StageName": name, "StageVariables": variables}
        if api_gateway.stage_description:
            params["Description"] = api_gateway.stage_description
        if throttling:
            params["DefaultRouteSettings"] = throttling
        stage = apigateway.call("CreateStage", **params)
        report.add(f"created stage {name}")
        return stage
    updates = {}
    if stage.get("Description", "") != api_gateway.stage_description:
        updates["Description"] = api_gateway.stage_description
    current_variables = stage.get("StageVariables") or {}
    if any(current_variables.get(key) != value for key, value in variables.items()):
        # The other variables stay: whether UpdateStage replaces or merges, the same result.
        updates["StageVariables"] = {**current_variables, **variables}
    current_route_settings = stage.get("DefaultRouteSettings") or {}
    if any(current_route_settings.get(key) != value for key, value in throttling.items()):
        updates["DefaultRouteSettings"] = {**current_route_settings, **throttling}
    if updates:
        stage = apigateway.call("UpdateStage", ApiId=api_id, StageName=name, **updates)
        # Never the secret itself in a report: it is printed and logged.
        described = {"Description": "description", "StageVariables": "gateway secret"}
        described["DefaultRouteSettings"] = "throttling"
        report.add(f"updated the {', '.join(described[member] for member in updates)} of stage {name}")
    return stage
