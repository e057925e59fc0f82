"""The ``ApiGateway`` row the tests' API Gateway plays: created and deployed, as after
``createApiGateway``, with the ``wss://<id>.execute-api...`` endpoint AWS gives it."""

from django_aws_api_gateway_websockets.models import ApiGateway

API_ID = "abc123defg"
OTHER_API_ID = "zyx987wvut"


def make_api_gateway(api_id=API_ID, **fields):
    values = {
        "api_name": f"Test API {api_id}",
        "default_channel_name": "lobby",
        "target_base_endpoint": "https://testserver/ws/",
        "api_id": api_id,
        "api_endpoint": f"wss://{api_id}.execute-api.eu-west-1.amazonaws.com",
        "api_created": True,
    }
    return ApiGateway.objects.create(**{**values, **fields})
