"""Create the benchmark's WebSocket API on the local gateway (run with the bake's venv).

    python provision_api.py http://127.0.0.1:<gateway port> http://127.0.0.1:<clients port>/connect bench

Deploys an API whose only route is ``$connect``, integrated with the clients'
accept-all endpoint (the ``client`` query value mapped through, as AWS needs), on
stage ``bench``; prints ``{"api_id": ...}``. It talks to the gateway's apigatewayv2
control plane with boto3, exactly as provisioning does on AWS.
"""

import json
import sys

import boto3


def main(gateway_url, connect_url, stage):
    client = boto3.client(
        "apigatewayv2",
        endpoint_url=gateway_url,
        region_name="us-east-1",
        aws_access_key_id="bench-key-id",
        aws_secret_access_key="bench-secret-key",  # noqa: S106 - the local gateway accepts any
    )
    api_id = client.create_api(Name="bench", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")[
        "ApiId"
    ]
    integration = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="POST",
        IntegrationUri=connect_url,
        # Like AWS, the gateway passes the client's query value only when it is mapped.
        RequestParameters={
            "integration.request.header.connectionId": "context.connectionId",
            "integration.request.querystring.client": "route.request.querystring.client",
        },
    )
    client.create_route(
        ApiId=api_id,
        RouteKey="$connect",
        Target=f"integrations/{integration['IntegrationId']}",
        RequestParameters={"route.request.querystring.client": {"Required": True}},
    )
    client.create_stage(ApiId=api_id, StageName=stage)
    client.create_deployment(ApiId=api_id, StageName=stage)
    print(json.dumps({"api_id": api_id}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
