"""HTTP views: the token endpoint browsers call before connecting.

(The WebSocket callback view, ``WebSocketView``, is added below by the views work.)
"""

import logging

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .tokens import issue_token, issuing_rate_limited

logger = logging.getLogger(__name__)


@method_decorator([csrf_protect, never_cache], name="dispatch")
class WebSocketTokenView(View):
    """POST: hand the logged-in browser session a short-lived, single-use token.

    Answers ``{"token": "...", "expires_in": seconds}``; 401 when not logged in,
    429 when the user asked for too many tokens, 403 without a valid CSRF token.
    """

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        if issuing_rate_limited(request.user):
            logger.warning("WebSocket token refused for user %s: token rate limit reached", request.user.pk)
            return JsonResponse({"error": "too many token requests"}, status=429)
        if not request.session.session_key:
            request.session.save()
        token, expires_in = issue_token(request.user, request.session.session_key)
        return JsonResponse({"token": token, "expires_in": expires_in})
