"""What a new user meets after ``make dev``: the home page, logging in as the demo
user, and a navigation that leads to every installed example."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from localdev.local_api import ensure_demo_users

from .conftest import screenshot

pytestmark = pytest.mark.e2e


def installed_examples(user):
    """(title, URL) of each app in ``user``'s navigation, in the order it is shown (an
    app with ``shows_in_navigation`` shows only to the users it names)."""
    return [
        (config.nav_title, reverse(config.nav_url_name))
        for config in apps.get_app_configs()
        if getattr(config, "nav_url_name", None)
        and (not hasattr(config, "shows_in_navigation") or config.shows_in_navigation(user))
    ]


# The example pages that open a socket themselves (chat's rooms list does not: each
# room's page does, which the chat's own browser tests open).
PAGES_WITH_A_SOCKET = {"Dashboard", "Notifications"}


def test_the_demo_user_logs_in_and_finds_every_example(site):
    username, password, _ = next(user for user in ensure_demo_users() if not user[2])
    titles = [title for title, _ in installed_examples(get_user_model().objects.get(username=username))]
    page = site.browser_for().new_page()
    page.goto("/")
    page.locator(".site-header").get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator(".site-header .username")).to_have_text(username)
    expect(page.locator(".site-header nav a")).to_have_text(titles)
    expect(page.locator(".cards .card h2")).to_have_text(titles)
    screenshot(page, "home")

    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".site-header").get_by_role("link", name="Log in")).to_be_visible()


def test_every_example_page_opens_and_goes_live_for_staff(site):
    username, _, _ = next(user for user in ensure_demo_users() if user[2])
    staff = get_user_model().objects.get(username=username)
    context = site.browser_for(staff)
    for title, url in installed_examples(staff):
        page = context.new_page()
        response = page.goto(url)
        assert response.ok, (title, response.status)
        assert response.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self';")
        expect(page.locator(".site-header nav a[aria-current=page]")).to_have_text(title)
        if title in PAGES_WITH_A_SOCKET:
            expect(page.locator("#status")).to_have_attribute("data-state", "open")
        page.close()


def test_pages_have_an_icon_and_the_browser_checks_catch_errors(site):
    """Each page links its icon and the icon loads; /favicon.ico (which browsers ask for
    on pages without a link) leads to it. Then the checks every browser test ends with:
    a console error and an answer of 404 from the site are caught."""
    page = site.open(None, "/")
    icon = page.locator("head link[rel=icon]").get_attribute("href")
    loaded = page.request.get(icon)
    assert loaded.ok and loaded.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    fallback = page.request.get("/favicon.ico")
    assert fallback.ok and fallback.url.endswith(icon) and fallback.body() == loaded.body()

    with page.expect_console_message(lambda message: message.type == "error"):
        page.evaluate("console.error('something broke')")
    with page.expect_response(lambda response: response.url.endswith("/no-such-page/")):
        page.evaluate("fetch('/no-such-page/')")
    site.close_browsers()
    problems = site.unexpected_problems()
    assert any(problem.startswith("console error: something broke") for problem in problems), problems
    assert f"404 from GET {site.url}/no-such-page/" in problems
    site.problems.clear()  # caught, as they should be: the test itself passes
