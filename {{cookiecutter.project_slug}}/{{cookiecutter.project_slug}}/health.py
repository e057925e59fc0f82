"""A liveness answer for load balancers and orchestrators.

They probe ``/healthz`` by IP address over plain HTTP, which Django would refuse
(the host is not in ALLOWED_HOSTS) or redirect to HTTPS; this middleware comes first
and answers before either happens. It says the process serves requests, nothing more.
"""

from django.http import HttpResponse

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH:
            return HttpResponse("ok", content_type="text/plain")
        return self.get_response(request)
