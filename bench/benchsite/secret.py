"""The shared secret "API Gateway" sends with every call in the bench (ours checks it;
the published package has no such check and ignores the header)."""

GATEWAY_SECRET = "bench-gateway-secret-0123456789abcdef"  # noqa: S105 - a bench on 127.0.0.1
