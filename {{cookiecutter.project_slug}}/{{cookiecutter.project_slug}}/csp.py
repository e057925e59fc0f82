"""A Content-Security-Policy header on every response, from the ``SECURE_CSP`` setting.

Pages may load scripts, styles and images from the site itself only, and open
sockets to the site and the WebSocket domain only (``connect-src``), so an injected
script has nowhere to load from and nowhere to send to. Django 6 does this itself
(``django.middleware.csp.ContentSecurityPolicyMiddleware``, same setting); this is
its equivalent for Django 5.2. A view that sets its own header keeps it.

Moving to Django 6.1: put Django's middleware in its place in ``MIDDLEWARE`` and delete
this file; the setting and the header stay the same.
"""

from django.conf import settings

HEADER = "Content-Security-Policy"


def policy_header(policy):
    """``{"default-src": ["'self'"], ...}`` as the header's text."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "SECURE_CSP", None)
        if policy and HEADER not in response:
            response[HEADER] = policy_header(policy)
        return response
