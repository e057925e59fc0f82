"""The sender signs exactly as botocore would, for the path it really sends."""

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from django_aws_api_gateway_websockets.sending.signing import RequestSigner, payload_sha256
from django_aws_api_gateway_websockets.sending.transport import _Endpoint

NOW = datetime(2026, 11, 21, 12, 34, 56, tzinfo=UTC)


def botocore_authorization(credentials, region, url, body):
    request = AWSRequest(method="POST", url=url, data=body)
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    signer = SigV4Auth(credentials, "execute-api", region)
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    if credentials.token:
        request.headers["X-Amz-Security-Token"] = credentials.token
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    return f"Credential={credentials.access_key}/{signer.credential_scope(request)}", signature


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://abc123.execute-api.eu-west-1.amazonaws.com/production",
        "https://ws.example.com",
        "http://127.0.0.1:8001/local",
    ],
)
@pytest.mark.parametrize("connection_id", ["R1kmxc2VNjMCFIA=", "a+b/c==", "plain"])
@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
def test_signature_matches_botocore(endpoint, connection_id, token):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    body = b'{"type":"reply","message":"h\xc3\xa9llo"}'
    target = _Endpoint(endpoint)
    path, canonical_uri = target.path_and_canonical_uri(connection_id)
    url = f"{target.scheme}://{target.host}{path}"

    headers = RequestSigner(credentials.get_frozen_credentials(), "eu-west-1").headers_for(
        "POST", target.host, canonical_uri, "", payload_sha256(body), now=NOW
    )

    credential, signature = botocore_authorization(credentials, "eu-west-1", url, body)
    assert credential in headers["Authorization"]
    assert headers["Authorization"].endswith(f"Signature={signature}")
    assert headers["X-Amz-Date"] == "20261121T123456Z"
    assert headers.get("X-Amz-Security-Token") == token


def test_connection_id_is_percent_encoded_in_the_path():
    path, _ = _Endpoint("https://h/production/").path_and_canonical_uri("R1k/mx+c=")
    assert path == "/production/@connections/R1k%2Fmx%2Bc%3D"
