"""The apigatewayv2 control plane (REST-JSON under ``/v2``), for WebSocket APIs.

Paths, status codes and member names follow the botocore service model
(``botocore/data/apigatewayv2/2018-11-29/service-2.json``), so boto3's
``apigatewayv2`` client works against it through ``endpoint_url``. Errors are
``BadRequestException`` (400), ``NotFoundException`` (404) and
``ConflictException`` (409) with the ``x-amzn-ErrorType`` header.

What is emulated: APIs, integrations (HTTP_PROXY, HTTP, MOCK), routes, route
responses, stages (with ``autoDeploy``), deployments, custom domain names and API
mappings. Authorizers, models, VPC links and tagging of existing resources are not.
"""

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from .errors import AwsError, bad_request, conflict, not_found
from .runtime import GATEWAY
from .signing import region_of, signed_for
from .state import CALLABLE_INTEGRATION_TYPES, ApiResources, iso8601, random_id, utc_now

logger = logging.getLogger(__name__)

API_KEY_SELECTION_EXPRESSIONS = {"$request.header.x-api-key", "$context.authorizer.usageIdentifierKey"}
STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
MAPPING_KEY = re.compile(r"^[A-Za-z0-9$\-_.+!*'()/]{0,300}$")
REQUEST_PARAMETER_TARGET = re.compile(r"^integration\.request\.(header|querystring|path)\.[A-Za-z0-9._$-]+$")
# The sources AWS documents for WebSocket data mapping.
REQUEST_PARAMETER_SOURCE = re.compile(
    r"^('[^']*'|context\.[A-Za-z0-9._]+|stageVariables\.[A-Za-z0-9_]+"
    r"|route\.request\.(header|querystring|multivalueheader|multivaluequerystring)\.[A-Za-z0-9._$-]+"
    r"|route\.request\.body\.[A-Za-z0-9._$-]+)$"
)
ROUTE_PARAMETER = re.compile(r"^route\.request\.(header|querystring)\.[A-Za-z0-9._$-]+$")

routes = web.RouteTableDef()


# -- plumbing ----------------------------------------------------------------------


def operation(name, mutates=False, redeploys=False):
    """Wrap a handler: signature check, injected faults, JSON body, AWS errors, saving."""

    def decorator(handler):
        @functools.wraps(handler)
        async def wrapper(request):
            gateway = request.app[GATEWAY]
            if gateway.config.require_signature and not signed_for(request, "apigateway"):
                return web.json_response(
                    {"message": "Missing Authentication Token"},
                    status=403,
                    headers={"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
                )
            injected = await gateway.faults.apply("control", name)
            if injected is not None:
                return injected
            try:
                body = await _json_body(request) if request.method in ("POST", "PATCH") else {}
                status, payload = handler(request, gateway, body)
            except AwsError as error:
                logger.info("Control plane: %s refused: %s %s", name, error.error_type, error.message)
                return error.to_response()
            if mutates:
                api_id = request.match_info.get("apiId")
                if redeploys and api_id in gateway.state.apis:
                    _auto_deploy(gateway, gateway.state.apis[api_id])
                gateway.state.save()
            if payload is None:
                return web.Response(status=status)
            return web.json_response(payload, status=status)

        return wrapper

    return decorator


async def _json_body(request):
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("Invalid request body: not JSON") from None
    if not isinstance(body, dict):
        raise bad_request("Invalid request body: expected a JSON object")
    return body


def _text(body, member, required=False, default=None):
    value = body.get(member, default)
    if value is None:
        if required:
            raise bad_request(f"{member} is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{member} must be a string")
    if required and not value:
        raise bad_request(f"{member} must not be empty")
    return value


def _flag(body, member):
    value = body.get(member)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{member} must be a boolean")
    return value


def _string_map(body, member):
    value = body.get(member)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise bad_request(f"{member} must be a map of strings")
    return value


def _paginate(request, gateway, items):
    """One page of ``items`` as ``{"items": [...], "nextToken": ...}``."""
    limit = gateway.config.max_page_size
    if "maxResults" in request.query:
        try:
            limit = min(limit, max(1, int(request.query["maxResults"])))
        except ValueError:
            raise bad_request("maxResults must be a number") from None
    start = 0
    if request.query.get("nextToken"):
        try:
            start = int(request.query["nextToken"])
        except ValueError:
            raise bad_request("Invalid nextToken") from None
        if start < 0 or start > len(items):
            raise bad_request("Invalid nextToken")
    page = {"items": items[start : start + limit]}
    if start + limit < len(items):
        page["nextToken"] = str(start + limit)
    return page


def _public(resource):
    """A resource without its private bookkeeping members (those starting with '_')."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def _resources(gateway, request):
    api_id = request.match_info["apiId"]
    resources = gateway.state.api(api_id)
    if resources is None:
        raise not_found(f"Invalid API identifier specified {api_id}", "Api")
    return resources


def _api_child(gateway, request, collection, id_parameter, described_as, resource_type):
    """(resources, item) for the API child named in the URL, or AWS's NotFoundException."""
    resources = _resources(gateway, request)
    identifier = request.match_info[id_parameter]
    item = getattr(resources, collection).get(identifier)
    if item is None:
        raise not_found(f"Invalid {described_as} identifier specified {identifier}", resource_type)
    return resources, item


def _auto_deploy(gateway, resources):
    if any(stage.get("autoDeploy") for stage in resources.stages.values()) and _deploy_problem(resources) is None:
        gateway.state.auto_deploy(resources, gateway.config.default_integration_timeout_ms)


def _deploy_problem(resources):
    if not resources.routes:
        return "At least one route is required before deploying the Api."
    for route in resources.routes.values():
        target = route.get("target") or ""
        if not target.startswith("integrations/") or target.split("/", 1)[1] not in resources.integrations:
            return f"Route {route['routeKey']} has no integration target; add one before deploying."
    return None


# -- APIs ----------------------------------------------------------------------------


def _api_view(request, api):
    view = _public(api)
    # Like AWS's wss://<id>.execute-api..., but the host the caller used to reach us.
    view["apiEndpoint"] = f"ws://{request.host}"
    return view


def _check_api_expressions(body):
    expression = _text(body, "routeSelectionExpression")
    if expression is not None and not (
        expression.startswith("$request.") or "${request." in expression or expression == "\\$default"
    ):
        raise bad_request("The routeSelectionExpression must use $request.body (e.g. $request.body.action)")
    key_expression = _text(body, "apiKeySelectionExpression")
    if key_expression is not None and key_expression not in API_KEY_SELECTION_EXPRESSIONS:
        raise bad_request(f"apiKeySelectionExpression must be one of {sorted(API_KEY_SELECTION_EXPRESSIONS)}")


@routes.post("/v2/apis")
@operation("CreateApi", mutates=True)
def create_api(request, gateway, body):
    name = _text(body, "name", required=True)
    protocol = _text(body, "protocolType", required=True)
    if protocol != "WEBSOCKET":
        raise bad_request("The local gateway emulates WEBSOCKET APIs only")
    _text(body, "routeSelectionExpression", required=True)
    _check_api_expressions(body)
    tags = _string_map(body, "tags") or {}
    api_id = random_id(10)
    api = {
        "apiId": api_id,
        "name": name,
        "protocolType": protocol,
        "routeSelectionExpression": body["routeSelectionExpression"],
        "apiKeySelectionExpression": body.get("apiKeySelectionExpression", "$request.header.x-api-key"),
        "createdDate": iso8601(utc_now()),
        "disableExecuteApiEndpoint": bool(_flag(body, "disableExecuteApiEndpoint")),
        "disableSchemaValidation": bool(_flag(body, "disableSchemaValidation")),
        "ipAddressType": "ipv4",
        "tags": tags,
    }
    for member in ("description", "version"):
        if _text(body, member):
            api[member] = body[member]
    gateway.state.apis[api_id] = ApiResources(api=api)
    logger.info("Control plane: created API %s (%s)", api_id, name)
    return 201, _api_view(request, api)


@routes.get("/v2/apis")
@operation("GetApis")
def get_apis(request, gateway, body):
    items = [_api_view(request, r.api) for r in gateway.state.apis.values()]
    return 200, _paginate(request, gateway, items)


@routes.get("/v2/apis/{apiId}")
@operation("GetApi")
def get_api(request, gateway, body):
    return 200, _api_view(request, _resources(gateway, request).api)


@routes.patch("/v2/apis/{apiId}")
@operation("UpdateApi", mutates=True, redeploys=True)
def update_api(request, gateway, body):
    resources = _resources(gateway, request)
    _check_api_expressions(body)
    for member in ("name", "description", "routeSelectionExpression", "apiKeySelectionExpression", "version"):
        value = _text(body, member)
        if value is not None:
            if member == "name" and not value:
                raise bad_request("name must not be empty")
            resources.api[member] = value
    for member in ("disableExecuteApiEndpoint", "disableSchemaValidation"):
        if _flag(body, member) is not None:
            resources.api[member] = body[member]
    return 200, _api_view(request, resources.api)


@routes.delete("/v2/apis/{apiId}")
@operation("DeleteApi", mutates=True)
def delete_api(request, gateway, body):
    resources = _resources(gateway, request)
    api_id = resources.api["apiId"]
    del gateway.state.apis[api_id]
    for mappings in gateway.state.api_mappings.values():
        for mapping_id in [m for m, mapping in mappings.items() if mapping["apiId"] == api_id]:
            del mappings[mapping_id]
    for connection in gateway.connections.all():
        if connection.api_id == api_id:
            gateway.close_soon(connection, 1001, "Going away")
    return 204, None


# -- integrations ----------------------------------------------------------------------

INTEGRATION_TEXT_MEMBERS = (
    "integrationType",
    "integrationMethod",
    "integrationUri",
    "connectionType",
    "connectionId",
    "contentHandlingStrategy",
    "credentialsArn",
    "description",
    "passthroughBehavior",
    "payloadFormatVersion",
    "templateSelectionExpression",
)


def _apply_integration_members(integration, body):
    for member in INTEGRATION_TEXT_MEMBERS:
        value = _text(body, member)
        if value is not None:
            integration[member] = value
    if "timeoutInMillis" in body:
        timeout = body["timeoutInMillis"]
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 50 <= timeout <= 29000:
            raise bad_request("timeoutInMillis must be between 50 and 29000 for WebSocket APIs")
        integration["timeoutInMillis"] = timeout
    parameters = _string_map(body, "requestParameters")
    if parameters is not None:
        for target, source in parameters.items():
            if not REQUEST_PARAMETER_TARGET.match(target):
                raise bad_request(f"Invalid mapping expression specified: {target}")
            if not REQUEST_PARAMETER_SOURCE.match(source):
                raise bad_request(f"Invalid mapping expression specified: {target} = {source}")
        integration["requestParameters"] = parameters
    templates = _string_map(body, "requestTemplates")
    if templates is not None:
        integration["requestTemplates"] = templates


def _check_integration(integration):
    integration_type = integration.get("integrationType")
    if integration_type not in CALLABLE_INTEGRATION_TYPES:
        raise bad_request(
            f"integrationType {integration_type!r} is not emulated; use one of {sorted(CALLABLE_INTEGRATION_TYPES)}"
        )
    if integration_type != "MOCK":
        uri = integration.get("integrationUri", "")
        if not re.match(r"^https?://[^/\s]+", uri):
            raise bad_request("integrationUri must be an http(s) URL for HTTP integrations")
        if not integration.get("integrationMethod"):
            raise bad_request("integrationMethod is required for HTTP integrations")


@routes.post("/v2/apis/{apiId}/integrations")
@operation("CreateIntegration", mutates=True, redeploys=True)
def create_integration(request, gateway, body):
    resources = _resources(gateway, request)
    _text(body, "integrationType", required=True)
    integration = {
        "integrationId": random_id(7),
        "connectionType": "INTERNET",
        "payloadFormatVersion": "1.0",
        "timeoutInMillis": gateway.config.default_integration_timeout_ms,
    }
    _apply_integration_members(integration, body)
    _check_integration(integration)
    resources.integrations[integration["integrationId"]] = integration
    return 201, integration


def _update_integration(resources, integration, body, gateway):
    updated = dict(integration)
    _apply_integration_members(updated, body)
    _check_integration(updated)
    integration.update(updated)


def _delete_integration(resources, integration, gateway):
    target = f"integrations/{integration['integrationId']}"
    users = [r["routeKey"] for r in resources.routes.values() if r.get("target") == target]
    if users:
        raise conflict(f"Integration is still the target of route(s) {', '.join(sorted(users))}")
    del resources.integrations[integration["integrationId"]]


# -- routes and route responses --------------------------------------------------------


def _apply_route_members(resources, route, body):
    route_key = _text(body, "routeKey")
    if route_key is not None:
        if not route_key or len(route_key) > 128:
            raise bad_request("routeKey must be 1 to 128 characters")
        clash = resources.routes and any(
            r["routeKey"] == route_key and r["routeId"] != route.get("routeId") for r in resources.routes.values()
        )
        if clash:
            raise conflict(f"Unable to create Route: a route with key {route_key} already exists")
        route["routeKey"] = route_key
    target = _text(body, "target")
    if target is not None:
        if target == "":
            route.pop("target", None)
        elif not target.startswith("integrations/") or target.split("/", 1)[1] not in resources.integrations:
            raise bad_request(f"Invalid target {target}: expected integrations/<an existing integration id>")
        else:
            route["target"] = target
    expression = _text(body, "routeResponseSelectionExpression")
    if expression is not None:
        if expression == "":
            route.pop("routeResponseSelectionExpression", None)
        elif expression != "$default":
            raise bad_request("routeResponseSelectionExpression must be $default for WebSocket APIs")
        else:
            route["routeResponseSelectionExpression"] = expression
    for member in ("authorizationType", "authorizerId", "modelSelectionExpression", "operationName"):
        if _text(body, member) is not None:
            route[member] = body[member]
    if _flag(body, "apiKeyRequired") is not None:
        route["apiKeyRequired"] = body["apiKeyRequired"]
    if "requestParameters" in body:
        parameters = body["requestParameters"]
        if not isinstance(parameters, dict) or not all(
            ROUTE_PARAMETER.match(key) and isinstance(value, dict) for key, value in parameters.items()
        ):
            raise bad_request("requestParameters must map route.request.header|querystring.<name> to {required}")
        route["requestParameters"] = parameters
    if route.get("requestParameters") and route.get("routeKey") != "$connect":
        raise bad_request("Route request parameters are supported only for the $connect route")


@routes.post("/v2/apis/{apiId}/routes")
@operation("CreateRoute", mutates=True, redeploys=True)
def create_route(request, gateway, body):
    resources = _resources(gateway, request)
    _text(body, "routeKey", required=True)
    route = {"routeId": random_id(7), "apiKeyRequired": False, "authorizationType": "NONE"}
    _apply_route_members(resources, route, body)
    resources.routes[route["routeId"]] = route
    return 201, route


def _update_route(resources, route, body, gateway):
    updated = dict(route)
    _apply_route_members(resources, updated, body)
    route.clear()
    route.update(updated)


def _delete_route(resources, route, gateway):
    del resources.routes[route["routeId"]]
    resources.route_responses.pop(route["routeId"], None)


def _route(gateway, request):
    return API_CHILDREN["routes"].find(gateway, request)


@routes.post("/v2/apis/{apiId}/routes/{routeId}/routeresponses")
@operation("CreateRouteResponse", mutates=True, redeploys=True)
def create_route_response(request, gateway, body):
    resources, route = _route(gateway, request)
    key = _text(body, "routeResponseKey", required=True)
    if key != "$default":
        raise bad_request("routeResponseKey must be $default for WebSocket APIs")
    responses = resources.route_responses.setdefault(route["routeId"], {})
    if any(r["routeResponseKey"] == key for r in responses.values()):
        raise conflict(f"A route response with key {key} already exists for this route")
    response = {"routeResponseId": random_id(6), "routeResponseKey": key}
    if _text(body, "modelSelectionExpression"):
        response["modelSelectionExpression"] = body["modelSelectionExpression"]
    for member in ("responseModels", "responseParameters"):
        if isinstance(body.get(member), dict):
            response[member] = body[member]
    responses[response["routeResponseId"]] = response
    return 201, response


@routes.get("/v2/apis/{apiId}/routes/{routeId}/routeresponses")
@operation("GetRouteResponses")
def get_route_responses(request, gateway, body):
    resources, route = _route(gateway, request)
    items = list(resources.route_responses.get(route["routeId"], {}).values())
    return 200, _paginate(request, gateway, items)


def _route_response(gateway, request):
    resources, route = _route(gateway, request)
    response_id = request.match_info["routeResponseId"]
    response = resources.route_responses.get(route["routeId"], {}).get(response_id)
    if response is None:
        raise not_found(f"Invalid RouteResponse identifier specified {response_id}", "RouteResponse")
    return resources, route, response


@routes.get("/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}")
@operation("GetRouteResponse")
def get_route_response(request, gateway, body):
    return 200, _route_response(gateway, request)[2]


@routes.delete("/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}")
@operation("DeleteRouteResponse", mutates=True, redeploys=True)
def delete_route_response(request, gateway, body):
    resources, route, response = _route_response(gateway, request)
    del resources.route_responses[route["routeId"]][response["routeResponseId"]]
    return 204, None


# -- stages and deployments --------------------------------------------------------------


def _apply_stage_members(resources, stage, body):
    description = _text(body, "description")
    if description is not None:
        stage["description"] = description
    if _flag(body, "autoDeploy") is not None:
        stage["autoDeploy"] = body["autoDeploy"]
    variables = _string_map(body, "stageVariables")
    if variables is not None:
        stage["stageVariables"] = variables
    for member in ("defaultRouteSettings", "routeSettings", "accessLogSettings"):
        if member in body:
            if not isinstance(body[member], dict):
                raise bad_request(f"{member} must be an object")
            stage[member] = body[member]
    deployment_id = _text(body, "deploymentId")
    if deployment_id:
        if deployment_id not in resources.deployments:
            raise not_found(f"Invalid Deployment identifier specified {deployment_id}", "Deployment")
        return deployment_id
    return None


@routes.post("/v2/apis/{apiId}/stages")
@operation("CreateStage", mutates=True)
def create_stage(request, gateway, body):
    resources = _resources(gateway, request)
    name = _text(body, "stageName", required=True)
    if not STAGE_NAME.match(name):
        raise bad_request("Stage name may contain only letters, digits, '-' and '_' ($default is not allowed)")
    if name in resources.stages:
        raise conflict(f"Stage already exists: {name}")
    now = iso8601(utc_now())
    stage = {
        "stageName": name,
        "createdDate": now,
        "lastUpdatedDate": now,
        "autoDeploy": False,
        "defaultRouteSettings": {"dataTraceEnabled": False, "detailedMetricsEnabled": False},
        "routeSettings": {},
        "stageVariables": {},
        "tags": _string_map(body, "tags") or {},
    }
    deployment_id = _apply_stage_members(resources, stage, body)
    resources.stages[name] = stage
    if deployment_id:
        gateway.state.point_stage_at(resources, name, deployment_id)
    elif stage["autoDeploy"] and _deploy_problem(resources) is None:
        gateway.state.deploy(
            resources, name, "Automatic deployment", gateway.config.default_integration_timeout_ms, auto_deployed=True
        )
    return 201, _public(stage)


def _update_stage(resources, stage, body, gateway):
    updated = dict(stage)
    deployment_id = _apply_stage_members(resources, updated, body)
    updated["lastUpdatedDate"] = iso8601(utc_now())
    stage.update(updated)
    if deployment_id and deployment_id != stage.get("deploymentId"):
        gateway.state.point_stage_at(resources, stage["stageName"], deployment_id)


def _delete_stage(resources, stage, gateway):
    del resources.stages[stage["stageName"]]
    for connection in gateway.connections.open_on(resources.api["apiId"], stage["stageName"]):
        gateway.close_soon(connection, 1001, "Going away")


@routes.post("/v2/apis/{apiId}/deployments")
@operation("CreateDeployment", mutates=True)
def create_deployment(request, gateway, body):
    resources = _resources(gateway, request)
    stage_name = _text(body, "stageName")
    if stage_name and stage_name not in resources.stages:
        raise not_found(f"Invalid stage identifier specified {stage_name}", "Stage")
    problem = _deploy_problem(resources)
    if problem:
        raise bad_request(problem)
    deployment = gateway.state.deploy(
        resources, stage_name, _text(body, "description"), gateway.config.default_integration_timeout_ms
    )
    logger.info(
        "Control plane: deployed API %s as %s%s",
        resources.api["apiId"],
        deployment["deploymentId"],
        f" to stage {stage_name}" if stage_name else "",
    )
    return 201, deployment


def _delete_deployment(resources, deployment, gateway):
    deployment_id = deployment["deploymentId"]
    if any(stage.get("deploymentId") == deployment_id for stage in resources.stages.values()):
        raise bad_request("Active stages pointing to this deployment must be moved or deleted")
    del resources.deployments[deployment_id]
    resources.snapshots.pop(deployment_id, None)


# -- what every kind of API child shares: list, get, update, delete -------------------


@dataclass(frozen=True)
class ApiChildren:
    """One kind of resource under ``/v2/apis/{apiId}/<path>``, kept in the API's
    ``ApiResources.<path>`` by its id: its Get<Plural>, Get, Update and Delete
    operations are the generic handlers below. ``update`` and ``delete`` do what is
    particular to the kind (validation, what else goes with it); an operation the kind
    lacks (UpdateDeployment is not emulated) is left out with ``update=None``."""

    path: str
    singular: str
    id_parameter: str
    described_as: str
    delete: Callable
    update: Callable | None = None
    # Only some kinds change what a deployment snapshots (autoDeploy stages redeploy).
    redeploys: bool = False
    view: Callable = dict

    def find(self, gateway, request):
        """(resources, item) named in the URL, or AWS's NotFoundException."""
        return _api_child(gateway, request, self.path, self.id_parameter, self.described_as, self.singular)


def _list_children(kind, request, gateway, body):
    items = [kind.view(item) for item in getattr(_resources(gateway, request), kind.path).values()]
    return 200, _paginate(request, gateway, items)


def _get_child(kind, request, gateway, body):
    return 200, kind.view(kind.find(gateway, request)[1])


def _update_child(kind, request, gateway, body):
    resources, item = kind.find(gateway, request)
    kind.update(resources, item, body, gateway)
    return 200, kind.view(item)


def _delete_child(kind, request, gateway, body):
    resources, item = kind.find(gateway, request)
    kind.delete(resources, item, gateway)
    return 204, None


API_CHILDREN = {
    kind.path: kind
    for kind in (
        ApiChildren(
            "integrations",
            "Integration",
            "integrationId",
            "Integration",
            _delete_integration,
            _update_integration,
            redeploys=True,
        ),
        ApiChildren("routes", "Route", "routeId", "Route", _delete_route, _update_route, redeploys=True),
        ApiChildren("stages", "Stage", "stageName", "stage", _delete_stage, _update_stage, view=_public),
        ApiChildren("deployments", "Deployment", "deploymentId", "Deployment", _delete_deployment),
    )
}

for _kind in API_CHILDREN.values():
    _collection = f"/v2/apis/{{apiId}}/{_kind.path}"
    _item = f"{_collection}/{{{_kind.id_parameter}}}"
    _mutation = {"mutates": True, "redeploys": _kind.redeploys}
    routes.get(_collection)(operation(f"Get{_kind.singular}s")(functools.partial(_list_children, _kind)))
    routes.get(_item)(operation(f"Get{_kind.singular}")(functools.partial(_get_child, _kind)))
    if _kind.update is not None:
        routes.patch(_item)(operation(f"Update{_kind.singular}", **_mutation)(functools.partial(_update_child, _kind)))
    routes.delete(_item)(operation(f"Delete{_kind.singular}", **_mutation)(functools.partial(_delete_child, _kind)))


# -- custom domain names and API mappings -------------------------------------------------


def api_gateway_hosted_zone(region):
    """A stable, made-up Route 53 zone id standing for API Gateway's zone in ``region``."""
    return "Z" + hashlib.sha256(f"apigateway:{region}".encode()).hexdigest()[:13].upper()


def _domain(gateway, request):
    name = request.match_info["domainName"].lower()
    domain = gateway.state.domains.get(name)
    if domain is None:
        raise not_found(f"Invalid domain name identifier specified {name}", "DomainName")
    return domain


@routes.post("/v2/domainnames")
@operation("CreateDomainName", mutates=True)
def create_domain_name(request, gateway, body):
    name = _text(body, "domainName", required=True).lower()
    if not DOMAIN_NAME.match(name):
        raise bad_request(f"Invalid domain name: {name}")
    if name in gateway.state.domains:
        raise conflict(f"The domain name you provided already exists: {name}")
    configurations = body.get("domainNameConfigurations") or []
    if not isinstance(configurations, list) or len(configurations) != 1 or not isinstance(configurations[0], dict):
        raise bad_request("domainNameConfigurations must hold exactly one configuration")
    requested = configurations[0]
    certificate_arn = _text(requested, "certificateArn", required=True)
    if not certificate_arn.startswith("arn:aws:acm:"):
        raise bad_request("certificateArn must be an ACM certificate ARN (arn:aws:acm:...)")
    endpoint_type = requested.get("endpointType", "REGIONAL")
    if endpoint_type not in ("REGIONAL", "EDGE"):
        raise bad_request("endpointType must be REGIONAL or EDGE")
    policy = requested.get("securityPolicy", "TLS_1_2")
    if policy not in ("TLS_1_0", "TLS_1_2"):
        raise bad_request("securityPolicy must be TLS_1_0 or TLS_1_2")
    region = certificate_arn.split(":")[3] or region_of(request, gateway.config.default_region)
    configuration = {
        "apiGatewayDomainName": f"d-{random_id(10)}.execute-api.{region}.amazonaws.com",
        "certificateArn": certificate_arn,
        "domainNameStatus": "AVAILABLE",
        "endpointType": endpoint_type,
        "hostedZoneId": api_gateway_hosted_zone(region),
        "securityPolicy": policy,
        "ipAddressType": "ipv4",
    }
    domain = {
        "domainName": name,
        "domainNameArn": f"arn:aws:apigateway:{region}::/domainnames/{name}",
        "apiMappingSelectionExpression": "$request.basepath",
        "domainNameConfigurations": [configuration],
        "tags": _string_map(body, "tags") or {},
    }
    gateway.state.domains[name] = domain
    gateway.state.api_mappings.setdefault(name, {})
    return 201, domain


@routes.get("/v2/domainnames")
@operation("GetDomainNames")
def get_domain_names(request, gateway, body):
    return 200, _paginate(request, gateway, list(gateway.state.domains.values()))


@routes.get("/v2/domainnames/{domainName}")
@operation("GetDomainName")
def get_domain_name(request, gateway, body):
    return 200, _domain(gateway, request)


@routes.delete("/v2/domainnames/{domainName}")
@operation("DeleteDomainName", mutates=True)
def delete_domain_name(request, gateway, body):
    domain = _domain(gateway, request)
    del gateway.state.domains[domain["domainName"]]
    gateway.state.api_mappings.pop(domain["domainName"], None)
    return 204, None


def _mapping_view(mapping):
    return {k: v for k, v in mapping.items() if not (k == "apiMappingKey" and v == "")}


@routes.post("/v2/domainnames/{domainName}/apimappings")
@operation("CreateApiMapping", mutates=True)
def create_api_mapping(request, gateway, body):
    domain = _domain(gateway, request)
    api_id = _text(body, "apiId", required=True)
    stage = _text(body, "stage", required=True)
    key = _text(body, "apiMappingKey") or ""
    if not MAPPING_KEY.match(key):
        raise bad_request("Invalid apiMappingKey")
    resources = gateway.state.api(api_id)
    if resources is None:
        raise not_found(f"Invalid API identifier specified {api_id}", "Api")
    if stage not in resources.stages:
        raise bad_request(f"Invalid stage identifier specified {stage}")
    mappings = gateway.state.api_mappings.setdefault(domain["domainName"], {})
    if any(m["apiMappingKey"] == key for m in mappings.values()):
        raise conflict("ApiMapping key already exists for this domain name")
    mapping = {"apiId": api_id, "apiMappingId": random_id(6), "apiMappingKey": key, "stage": stage}
    mappings[mapping["apiMappingId"]] = mapping
    return 201, _mapping_view(mapping)


@routes.get("/v2/domainnames/{domainName}/apimappings")
@operation("GetApiMappings")
def get_api_mappings(request, gateway, body):
    domain = _domain(gateway, request)
    items = [_mapping_view(m) for m in gateway.state.api_mappings.get(domain["domainName"], {}).values()]
    return 200, _paginate(request, gateway, items)


def _mapping(gateway, request):
    domain = _domain(gateway, request)
    mapping_id = request.match_info["apiMappingId"]
    mapping = gateway.state.api_mappings.get(domain["domainName"], {}).get(mapping_id)
    if mapping is None:
        raise not_found(f"Invalid ApiMapping identifier specified {mapping_id}", "ApiMapping")
    return domain, mapping


@routes.get("/v2/domainnames/{domainName}/apimappings/{apiMappingId}")
@operation("GetApiMapping")
def get_api_mapping(request, gateway, body):
    return 200, _mapping_view(_mapping(gateway, request)[1])


@routes.delete("/v2/domainnames/{domainName}/apimappings/{apiMappingId}")
@operation("DeleteApiMapping", mutates=True)
def delete_api_mapping(request, gateway, body):
    domain, mapping = _mapping(gateway, request)
    del gateway.state.api_mappings[domain["domainName"]][mapping["apiMappingId"]]
    return 204, None


@routes.route("*", "/v2/{tail:.*}")
async def unknown_operation(request):
    logger.info("Control plane: no emulated operation for %s %s", request.method, request.path)
    return web.json_response(
        {"message": f"The local gateway does not emulate {request.method} {request.path}"},
        status=404,
        headers={"x-amzn-ErrorType": "NotFoundException"},
    )
