"""Site-wide views that belong to no example app."""

from django.shortcuts import redirect
from django.templatetags.static import static


def favicon(request):
    """``/favicon.ico``: the icon among the static files. Pages link it themselves
    (base.html); browsers still ask for this address on pages that do not (the
    admin's). Resolved when asked, as the static files' manifest may not exist when
    the URLs are imported (``manage.py check`` before ``collectstatic``)."""
    return redirect(static("favicon.ico"))
