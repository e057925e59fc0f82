"""Read what the local gateway holds, to compare before and after a provisioning run."""

import json


def control_state(gateway):
    """Everything the control plane stores, as a JSON string (equal means unchanged)."""
    return gateway.call(lambda: json.dumps(gateway.gateway.state.to_json(), sort_keys=True))


def routes_by_key(control, api_id):
    pages = control.get_paginator("get_routes").paginate(ApiId=api_id)
    return {route["RouteKey"]: route for page in pages for route in page["Items"]}


def integration_of(control, api_id, route):
    return control.get_integration(ApiId=api_id, IntegrationId=route["Target"].split("/", 1)[1])


def deployments(control, api_id):
    return control.get_deployments(ApiId=api_id)["Items"]
