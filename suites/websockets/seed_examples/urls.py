"""All seed examples under one URLconf: each document's URL patterns are included,
unchanged, under a prefix of their own; the project's URLs come last (token endpoint)."""

from django.urls import include, path

urlpatterns = [
    path("setup/", include(("tests.websockets.seed_examples.api_gateway_setup.urls", "setup"))),
    path("faq/", include(("tests.websockets.seed_examples.faq.urls", "faq"))),
    path("concepts/", include(("tests.websockets.seed_examples.concepts.urls", "concepts"))),
    path("routes/", include(("tests.websockets.seed_examples.new_routes.urls", "routes"))),
    path("settings-page/", include("tests.websockets.seed_examples.settings_page.urls")),
    path("", include("config.urls")),
]
