"""Notifications in a real browser: one reaches only its user, on every tab that user
has open; reading it on one tab updates the others."""

from datetime import datetime

import pytest
from playwright.sync_api import expect

from django_aws_api_gateway_websockets.models import WebSocketSession

from {{ cookiecutter.project_slug }}.notifications.models import Notification
from {{ cookiecutter.project_slug }}.notifications.services import notify

from .conftest import screenshot, wait_until

pytestmark = pytest.mark.e2e


def open_notifications(site, user, context=None):
    page = site.open(user, "/notifications/", context=context)
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    return page


def test_a_notification_reaches_every_tab_of_its_user_and_nobody_else(site, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    alice_browser = site.browser_for(alice)
    alice_tabs = [open_notifications(site, alice, alice_browser) for _ in range(2)]
    bob_page = open_notifications(site, bob)

    _, report = notify(alice, "Build finished", "All 128 tests passed.", level="success")
    assert len(report.delivered) == 2
    for tab in alice_tabs:
        expect(tab.locator("#toasts .toast")).to_contain_text("Build finished", timeout=2000)
        expect(tab.locator("#notification-list .notification .title")).to_have_text(["Build finished"])
        expect(tab.locator("#unread-count")).to_have_text("1")

    # Bob's own notification arrives after Alice's was sent; had Alice's reached his
    # tab, it would have arrived first and be listed too.
    notify(bob, "For Bob only")
    expect(bob_page.locator("#toasts .toast strong")).to_have_text(["For Bob only"])
    expect(bob_page.locator("#notification-list .notification .title")).to_have_text(["For Bob only"])
    expect(bob_page.locator("#unread-count")).to_have_text("1")
    for tab in alice_tabs:
        expect(tab.locator("#notification-list .notification .title")).to_have_text(["Build finished"])
    screenshot(alice_tabs[0], "notifications")

    # Read on one tab: the other tab follows.
    alice_tabs[0].get_by_role("button", name="Mark as read").click()
    for tab in alice_tabs:
        expect(tab.locator("#unread-count")).to_have_text("0")
        expect(tab.locator('#notification-list .notification[data-read="true"]')).to_have_count(1)
    assert Notification.objects.get(user=alice).is_read
    assert not Notification.objects.get(user=bob).is_read
    expect(bob_page.locator("#unread-count")).to_have_text("1")


def test_times_are_shown_one_way_in_the_browsers_locale_and_time_zone(site, make_user):
    """A test notification from the page, a list entry and a toast: its time comes as
    ISO 8601 and each place shows it in the browser's own locale and time zone (here
    German, in New York, while the server runs on UTC), never as server-formatted text."""
    alice = make_user("alice")
    browser = site.browser_for(alice, locale="de-DE", timezone_id="America/New_York")
    page = open_notifications(site, alice, browser)
    page.get_by_role("button", name="Send me a test notification").click()
    expect(page.locator("#toasts .toast")).to_contain_text("Test notification")

    notification = Notification.objects.get(user=alice)
    listed = page.locator("#notification-list .notification time")
    toasted = page.locator("#toasts .toast time")
    assert datetime.fromisoformat(listed.get_attribute("datetime")) == notification.created_on
    assert toasted.get_attribute("datetime") == listed.get_attribute("datetime")
    expected = page.evaluate(
        "(iso) => new Date(iso).toLocaleString('de-DE', {timeZone: 'America/New_York'})",
        notification.created_on.isoformat(),
    )
    expect(listed).to_have_text(expected)
    expect(toasted).to_have_text(expected)
    assert "Sent at" not in page.locator("#notification-list").inner_text()


HOSTILE_TEXTS = [
    '<img src="x" onerror="window.injected = true">',
    "<script>window.injected = true</script>",
    '"><svg onload="window.injected = true">',
    "&lt;b&gt;not bold&lt;/b&gt; & <b>bold?</b>",
]


def test_notification_text_is_shown_as_text_never_as_html(site, make_user):
    alice = make_user("alice")
    page = open_notifications(site, alice)
    for text in HOSTILE_TEXTS:
        notify(alice, text, text)
    titles = page.locator("#notification-list .notification .title")
    expect(titles).to_have_count(len(HOSTILE_TEXTS))
    assert sorted(titles.all_text_contents()) == sorted(HOSTILE_TEXTS)
    # Rendered from the page's data after a reload, the same.
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    expect(titles).to_have_count(len(HOSTILE_TEXTS))
    assert sorted(titles.all_text_contents()) == sorted(HOSTILE_TEXTS)
    bodies = page.locator("#notification-list .notification p")
    assert sorted(bodies.all_text_contents()) == sorted(HOSTILE_TEXTS)
    assert page.locator("#notification-list img, #notification-list script, #notification-list svg").count() == 0
    assert page.locator("#notification-list b, #toasts b").count() == 0
    assert page.evaluate("window.injected") is None


def test_logging_out_in_another_tab_stops_this_tab_receiving(site, make_user):
    """The user's notifications page is open; they log out in another tab of the same
    browser. The page's socket is closed at once, and nothing sent to the user after
    the logout reaches it (its client cannot get a new token either)."""
    alice = make_user("alice")
    browser = site.browser_for(alice)
    page = open_notifications(site, alice, browser)
    notify(alice, "Before logging out")
    expect(page.locator("#notification-list .notification .title")).to_have_text(["Before logging out"])

    # The page's client then asks for a new token, and the token endpoint refuses it.
    site.expect_refusal("/websockets/token/", 401, method="POST")
    other_tab = browser.new_page()
    other_tab.goto("/")
    other_tab.get_by_role("button", name="Log out").click()
    expect(other_tab.locator(".site-header").get_by_role("link", name="Log in")).to_be_visible()

    wait_until(
        lambda: not WebSocketSession.objects.filter(user=alice, connected=True).exists(),
        "the logged-out browser's connection was not closed",
    )
    _, report = notify(alice, "After logging out: a password reset code")
    assert report.delivered == []
    expect(page.locator("#status")).not_to_have_attribute("data-state", "open")
    page.wait_for_timeout(500)
    expect(page.locator("#notification-list .notification .title")).to_have_text(["Before logging out"])
