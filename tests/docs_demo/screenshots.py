"""Take the documentation's screenshots from a running demo (``make dev`` of a bake).

Run with the bake's own Python (it has Playwright), while ``make dev`` serves the site::

    python screenshots.py --site http://127.0.0.1:8000 --project DIR --out DIR \\
        --login demo:demo-password --login admin:admin-password

The first login is the demo user, the second the staff user, as the banner of
``make dev`` prints them. The script logs both in through the login form, chats in
the room General, watches the dashboard as staff, sends demo a notification with
``manage.py notify`` (as the getting-started page does) and saves, in ``--out``:

- ``<name>.png`` for home, chat, dashboard and notifications;
- ``fingerprints.json``: per screenshot, the page's visible text (times, dates and
  figures masked, as they change from run to run) and a hash of each stylesheet it
  loaded, so a change of what the page says or how it looks is seen without
  comparing pixels;
- ``problems.json``: JavaScript errors, console errors and answers of 400 or above
  from the site during the whole tour (there should be none).

``tests/test_docs_demo.py`` runs it; nothing else does.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SYSTEM_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# The browser tests' window, and a fixed locale and time zone for the masked text.
CONTEXT = {"viewport": {"width": 1100, "height": 720}, "locale": "en-US", "timezone_id": "UTC"}
WAIT_MS = 30_000
CHAT = [
    ("demo", "Hello! Is anyone here?"),
    ("staff", "Hi demo, admin here. Your message came through the local API Gateway."),
]
NOTIFICATION = ("Hello from the shell", "Sent with manage.py notify.")

TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?", re.IGNORECASE)
DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def masked(text):
    """The visible text with what changes from run to run (times, dates, figures) masked."""
    text = TIME.sub("<time>", text)
    text = DATE.sub("<date>", text)
    return NUMBER.sub("#", text)


class Tour:
    def __init__(self, browser, site, out):
        self.browser = browser
        self.site = site.rstrip("/")
        self.out = out
        self.fingerprints = {}
        self.problems = []

    def browser_for(self, username, password):
        context = self.browser.new_context(base_url=self.site, **CONTEXT)
        context.set_default_timeout(WAIT_MS)
        context.on("weberror", lambda error: self.problems.append(f"JavaScript error: {error.error}"))
        context.on("console", self._console)
        context.on("response", self._response)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".site-header .username")).to_have_text(username)
        return context, page

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console error: {message.text} (at {message.location.get('url')})")

    def _response(self, response):
        if response.status >= 400 and response.url.startswith(f"{self.site}/"):
            self.problems.append(f"{response.status} from {response.request.method} {response.url}")

    def shoot(self, page, name):
        page.screenshot(path=str(self.out / f"{name}.png"), animations="disabled", caret="hide")
        stylesheets = page.evaluate("[...document.styleSheets].map((sheet) => sheet.href).filter(Boolean)")
        self.fingerprints[name] = {
            "path": page.evaluate("location.pathname"),
            "text": masked(page.locator("body").inner_text()),
            "stylesheets": {
                re.sub(r"^https?://[^/]+", "", href): hashlib.sha256(page.request.get(href).body()).hexdigest()
                for href in stylesheets
            },
        }


def open_live(page, path):
    page.goto(path)
    expect(page.locator("#status")).to_have_attribute("data-state", "open")


def run_tour(browser, site, project, logins, out):
    expect.set_options(timeout=WAIT_MS)
    tour = Tour(browser, site, out)
    (demo_name, demo_password), (staff_name, staff_password) = logins
    demo_context, demo = tour.browser_for(demo_name, demo_password)
    staff_context, staff = tour.browser_for(staff_name, staff_password)

    # Home, as the demo user sees it after logging in.
    demo.goto("/")
    tour.shoot(demo, "home")

    # Chat: both in the room General, as getting started tells.
    demo.goto("/chat/")
    demo.get_by_role("link", name="General").first.click()
    expect(demo.locator("#status")).to_have_attribute("data-state", "open")
    open_live(staff, demo.url)
    pages = {"demo": demo, "staff": staff}
    for number, (who, text) in enumerate(CHAT, start=1):
        pages[who].locator("#message-text").fill(text)
        pages[who].get_by_role("button", name="Send").click()
        for page in pages.values():
            expect(page.locator("#messages .chat-message")).to_have_count(number)
    tour.shoot(demo, "chat")

    # The dashboard, as staff, while both chat tabs are open: the producer that
    # make dev runs pushes the figures.
    dashboard = staff_context.new_page()
    open_live(dashboard, "/dashboard/")
    expect(dashboard.locator("#channels td")).to_have_text(["chat-general", "2", "dashboard", "1"])
    dashboard.wait_for_function("() => Number(document.querySelector('#connections-chart').dataset.points) >= 3")
    tour.shoot(dashboard, "dashboard")

    # Notifications: demo's page, and a notification sent from the shell.
    notifications = demo_context.new_page()
    open_live(notifications, "/notifications/")
    title, body = NOTIFICATION
    subprocess.run(  # noqa: S603 - the bake's own manage.py
        [sys.executable, "manage.py", "notify", demo_name, title, "--body", body],
        cwd=project,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
    )
    expect(notifications.locator("#toasts .toast strong")).to_have_text([title])
    expect(notifications.locator("#notification-list .notification .title")).to_have_text([title])
    tour.shoot(notifications, "notifications")

    for context in (demo_context, staff_context):
        context.close()
    return tour


def chromium_executable():
    configured = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    if configured:
        return configured
    return next((path for path in SYSTEM_CHROMIUMS if Path(path).exists()), None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, help="the site make dev serves, e.g. http://127.0.0.1:8000")
    parser.add_argument("--project", required=True, type=Path, help="the bake (where manage.py is)")
    parser.add_argument("--login", action="append", required=True, help="USERNAME:PASSWORD, demo user then staff")
    parser.add_argument("--out", required=True, type=Path, help="where the screenshots and JSON files go")
    options = parser.parse_args(argv)
    logins = [tuple(login.split(":", 1)) for login in options.login]
    if len(logins) != 2:
        parser.error("give --login twice: the demo user, then the staff user")
    options.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launch = {"args": CHROMIUM_ARGS}
        if chromium_executable():
            launch["executable_path"] = chromium_executable()
        browser = playwright.chromium.launch(**launch)
        try:
            tour = run_tour(browser, options.site, options.project, logins, options.out)
        finally:
            browser.close()
    (options.out / "fingerprints.json").write_text(json.dumps(tour.fingerprints, indent=2, sort_keys=True) + "\n")
    (options.out / "problems.json").write_text(json.dumps(tour.problems, indent=2) + "\n")


if __name__ == "__main__":
    main()
