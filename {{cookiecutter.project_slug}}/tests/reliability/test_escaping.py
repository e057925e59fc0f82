"""In a real Chromium: hostile text in the example pages is shown as text, never run.

The chat page is checked by the end-to-end suite (``tests/e2e/test_chat.py``:
``test_user_text_is_shown_as_text_never_as_html``); this checks the notifications
page, live (pushed through the local gateway) and after a reload (rendered from the
page's data).
"""
{%- if cookiecutter.use_notifications %}

import pytest
from playwright.sync_api import expect

from {{ cookiecutter.project_slug }}.notifications.services import notify

AREA = "Security"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE_TEXTS = [
    '<img src="x" onerror="window.injected = true">',
    "<script>window.injected = true</script>",
    '"><svg onload="window.injected = true">',
    "&lt;b&gt;not bold&lt;/b&gt; & <b>bold?</b>",
]


def test_notification_text_is_shown_as_text_never_as_html(site, make_user, cases):
    """Notification titles and bodies of HTML and script: shown as text, live and after a reload."""
    alice = make_user("alice")
    page = site.open(alice, "/notifications/")
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    for text in HOSTILE_TEXTS:
        notify(alice, text, text)
        cases.add()
    titles = page.locator("#notification-list .notification .title")
    expect(titles).to_have_count(len(HOSTILE_TEXTS))
    assert sorted(titles.all_text_contents()) == sorted(HOSTILE_TEXTS)
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    expect(titles).to_have_count(len(HOSTILE_TEXTS))
    assert sorted(titles.all_text_contents()) == sorted(HOSTILE_TEXTS)
    bodies = page.locator("#notification-list .notification p")
    assert sorted(bodies.all_text_contents()) == sorted(HOSTILE_TEXTS)
    assert page.locator("#notification-list img, #notification-list script, #notification-list svg").count() == 0
    assert page.locator("#notification-list b, #toasts b").count() == 0
    assert page.evaluate("window.injected") is None
{%- endif %}
