"""TLS with the CA bundle boto3 would use, HTTPS_PROXY / NO_PROXY, and signatures
that match botocore's for the exact path and Host each sender puts on the wire."""

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from django_aws_api_gateway_websockets.sending.signing import RequestSigner

from .conftest import OK


def ok_script():
    async def script(request, writer):
        writer.write(OK)
        return "keep"

    return script


def test_https_uses_the_aws_ca_bundle(sender, raw_server, signer, tls, monkeypatch):
    trusted_server = raw_server(ok_script(), ssl_context=tls)
    trusted = sender.send(trusted_server.endpoint(), ["y="], signer)
    monkeypatch.delenv("AWS_CA_BUNDLE")
    untrusted_server = raw_server(ok_script(), ssl_context=tls)
    untrusted = sender.send(untrusted_server.endpoint(), ["x="], signer)

    assert trusted.delivered == ["y="]
    assert list(untrusted.failed) == ["x="]
    assert len(untrusted_server.requests) == 0


def test_https_proxy_is_used_through_a_connect_tunnel(sender, raw_server, signer, tls, connect_proxy, monkeypatch):
    server = raw_server(ok_script(), ssl_context=tls)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{connect_proxy.port}")

    report = sender.send(server.endpoint(), ["a=", "b=", "c="], signer, concurrency=2)

    assert sorted(report.delivered) == ["a=", "b=", "c="], report.failed
    assert connect_proxy.tunnels and set(connect_proxy.tunnels) == {f"127.0.0.1:{server.port}"}
    # Inside the tunnel it is still TLS to the endpoint and its path.
    assert sorted(r.path for r in server.requests) == [f"/production/@connections/{c}%3D" for c in "abc"]


def test_proxy_credentials_go_to_the_proxy(sender, raw_server, signer, tls, connect_proxy, monkeypatch):
    server = raw_server(ok_script(), ssl_context=tls)
    monkeypatch.setenv("https_proxy", f"http://user:p%40ss@127.0.0.1:{connect_proxy.port}")

    report = sender.send(server.endpoint(), ["a="], signer)

    assert report.delivered == ["a="], report.failed
    assert b"\r\nProxy-Authorization: Basic dXNlcjpwQHNz\r\n" in connect_proxy.heads[0]
    assert all(request.header("Proxy-Authorization") is None for request in server.requests)


def test_http_proxy_gets_absolute_form_requests_for_an_http_endpoint(sender, raw_server, signer, monkeypatch):
    endpoint_server = raw_server(ok_script())
    proxy = raw_server(ok_script())  # stands for a forwarding proxy: answers what it is sent
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")

    report = sender.send(endpoint_server.endpoint(), ["a="], signer)

    assert report.delivered == ["a="]
    assert endpoint_server.requests == []
    [request] = proxy.requests
    assert request.head.startswith(
        f"POST http://127.0.0.1:{endpoint_server.port}/production/@connections/a%3D ".encode()
    )
    assert request.header("Host") == f"127.0.0.1:{endpoint_server.port}"


def test_no_proxy_bypasses_the_proxy(sender, raw_server, signer, tls, connect_proxy, monkeypatch):
    server = raw_server(ok_script(), ssl_context=tls)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{connect_proxy.port}")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")

    report = sender.send(server.endpoint(), ["a="], signer)

    assert report.delivered == ["a="]
    assert connect_proxy.tunnels == []


def test_a_proxy_that_refuses_the_tunnel_is_a_reported_failure(sender, raw_server, signer, tls, monkeypatch):
    async def proxy_script(request, writer):
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        return "close"

    proxy = raw_server(proxy_script)
    server = raw_server(ok_script(), ssl_context=tls)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")

    report = sender.send(server.endpoint(), ["a="], signer)

    assert "407" in report.failed["a="]
    assert server.requests == []


def botocore_signature(credentials, url, body, amz_date):
    request = AWSRequest(method="POST", url=url, data=body)
    request.context["timestamp"] = amz_date
    request.headers["X-Amz-Date"] = amz_date
    if credentials.token:
        request.headers["X-Amz-Security-Token"] = credentials.token
    auth = SigV4Auth(credentials, "execute-api", "eu-west-1")
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request), auth.credential_scope(request)


@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_signatures_match_botocore_for_the_path_sent(sender, raw_server, tls, token, scheme):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    signer = RequestSigner(credentials.get_frozen_credentials(), "eu-west-1")
    server = raw_server(ok_script(), ssl_context=tls if scheme == "https" else None)
    ids = ["R1kmxc2VNjMCFIA=", "a+b/c==", "plain", "sp ace~"]
    body = '{"type":"reply","message":"h\u00e9llo"}'.encode()

    report = sender.module.post_to_connections(server.endpoint("prod"), ids, body, signer, sender.options())

    assert report.delivered == ids
    sent_paths = [request.path for request in server.requests]
    assert sent_paths == [
        "/prod/@connections/R1kmxc2VNjMCFIA%3D",
        "/prod/@connections/a%2Bb%2Fc%3D%3D",
        "/prod/@connections/plain",
        "/prod/@connections/sp%20ace~",
    ]
    for request in server.requests:
        assert request.header("Host") == f"127.0.0.1:{server.port}"
        assert request.body == body
        assert request.header("X-Amz-Security-Token") == token
        url = f"{scheme}://127.0.0.1:{server.port}{request.path}"
        signature, scope = botocore_signature(credentials, url, body, request.header("X-Amz-Date"))
        authorization = request.header("Authorization")
        assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, ")
        assert authorization.endswith(f"Signature={signature}")


def test_the_host_signed_leaves_out_a_default_port(sender):
    # botocore sends "Host: h" for https://h:443; what is signed must match.
    endpoint = sender.module._Endpoint("https://abc.execute-api.eu-west-1.amazonaws.com:443/prod")
    assert endpoint.host == "abc.execute-api.eu-west-1.amazonaws.com"
