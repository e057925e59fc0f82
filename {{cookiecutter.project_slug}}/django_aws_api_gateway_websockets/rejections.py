"""How a WebSocket callback says no.

Every check raises :class:`Rejection` with two texts: ``reason``, a few words the
caller may see (API Gateway passes a message route's answer back to the client as a
frame), and ``detail``, the real reason, which only goes to the log.
"""

from django.http import JsonResponse


class Rejection(Exception):
    """A request refused with a 4xx status."""

    def __init__(self, status, reason, detail=None):
        super().__init__(detail or reason)
        self.status = status
        self.reason = reason
        self.detail = detail or reason

    def response(self):
        return JsonResponse({"error": self.reason}, status=self.status)


def bad_request(reason, detail=None):
    return Rejection(400, reason, detail)


def forbidden(reason, detail=None):
    return Rejection(403, reason, detail)
