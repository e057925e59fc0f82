"""URLs of the reliability suite: its fuzzing views, then the project's own URLs
(the site's token-guarded ``ws/<route>`` view and the token endpoint)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("fuzz/<slug:route>", views.FuzzView.as_view()),
    path("wide/<slug:route>", views.WideChannelView.as_view()),
    path("tight/<slug:route>", views.TightTokenView.as_view()),
    # The setup document's own example view, as written.
    path("setup/", include(("tests.websockets.seed_examples.api_gateway_setup.urls", "setup"))),
    path("", include("config.urls")),
]
