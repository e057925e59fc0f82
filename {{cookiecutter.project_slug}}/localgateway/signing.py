"""A light look at AWS Signature V4 headers.

The local gateway accepts any credentials and does not verify signatures; it only
checks that a request *is* signed for the right service (as AWS would refuse an
unsigned one), and reads the region from the credential scope.
"""

import re

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")


def credential_scope(request):
    """``(region, service)`` from the request's SigV4 Authorization header, or None."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("AWS4-HMAC-SHA256 "):
        return None
    match = _CREDENTIAL.search(header)
    if match is None:
        return None
    return match.group(3), match.group(4)


def signed_for(request, service):
    scope = credential_scope(request)
    return scope is not None and scope[1] == service


def region_of(request, default):
    scope = credential_scope(request)
    return scope[0] if scope else default
