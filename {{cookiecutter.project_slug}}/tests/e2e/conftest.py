"""Browser tests: a real headless Chromium, the local API Gateway and Django, for real.

The page comes from Django (pytest-django's ``live_server``), asks the token endpoint
for a token, opens its socket on the local API Gateway, and the gateway calls Django
back for ``$connect``, every message and ``$disconnect``; Django answers through the
gateway's management API. The gateway's API is provisioned by the same code as
``make dev`` (the routes the installed apps declare) against its control plane.

Chromium: ``PLAYWRIGHT_CHROMIUM_EXECUTABLE`` when set, else the system's
``/usr/bin/chromium`` (Debian's package), else Playwright's own download (``make
browser`` sees to one of them). ``pytest --headed`` shows the browser.
"""

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from localdev.local_api import configure_local_api, provision
from localgateway.config import GatewayConfig
from localgateway.threaded import ThreadedGateway

# Playwright's sync API runs an asyncio loop in the main thread; Django's ORM, used
# by the tests and fixtures there, refuses to run "inside" it unless told it is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SYSTEM_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
VIEWPORT = {"width": 1100, "height": 720}
# Only reached when a test is about to fail; a loaded CI machine may need it.
SETTLE_SECONDS = 10


def pytest_collection_modifyitems(config, items):
    """Run the browser tests (this folder's, and any marked ``e2e``) last: once
    Playwright has started, the main thread has a running asyncio loop until the
    session ends, and tests that call ``asyncio.run()`` (the gateway's, for
    instance) would fail after it."""
    in_browser = [item for item in items if item.get_closest_marker("e2e") or E2E_DIR in Path(str(item.path)).parents]
    if in_browser:
        chosen = set(in_browser)
        items[:] = [item for item in items if item not in chosen] + in_browser


def chromium_executable():
    configured = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    if configured:
        return configured
    return next((path for path in SYSTEM_CHROMIUMS if Path(path).exists()), None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    launch_args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    executable = chromium_executable()
    if executable:
        launch_args["executable_path"] = executable
    return launch_args


@pytest.fixture(scope="session")
def local_gateway():
    """One local API Gateway for the whole run (each test provisions its own API)."""
    gateway = ThreadedGateway(GatewayConfig(disconnect_timeout_seconds=5.0, close_timeout_seconds=2.0)).start()
    yield gateway
    gateway.stop()


def session_cookie_for(user):
    """The session cookie of a fresh browser session logged in as ``user``."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def screenshot(page, name):
    """Save ``test-results/screenshots/<name>.png``, to look at what a browser test saw."""
    folder = Path(settings.BASE_DIR) / "test-results" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


def wait_until(predicate, message, timeout=SETTLE_SECONDS):
    """Poll ``predicate`` (a database check, say) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


@dataclass
class Site:
    """Django on ``url`` and a provisioned API on ``gateway``; opens browsers.

    Every browser it opens reports what a user would see in the developer tools as
    problems: JavaScript errors, console errors, and answers of 400 or above (or
    requests that failed outright) from the site itself. ``tear_down_site`` fails the
    test on any problem the test did not announce with ``expect_refusal`` or
    ``expect_console_error``.
    """

    url: str
    gateway: ThreadedGateway
    api: object
    new_context: object
    contexts: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    expected: list = field(default_factory=list)

    def browser_for(self, user=None, **options):
        """A fresh browser (context), logged in as ``user`` when given; ``options`` go
        to Playwright's ``new_context`` (``locale``, ``timezone_id``, ...)."""
        context = self.new_context(base_url=self.url, viewport=VIEWPORT, **options)
        context.set_default_timeout(SETTLE_SECONDS * 1000)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("console", self._console)
        context.on("response", self._response)
        context.on("requestfailed", self._request_failed)
        # The pages run under the site's Content-Security-Policy: anything it blocks fails the test.
        context.on("console", self._note_policy_violation)
        if user is not None:
            cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session_cookie_for(user), "url": self.url}
            context.add_cookies([cookie])
        self.contexts.append(context)
        return context

    def _note_policy_violation(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.page_errors.append(message.text)

    def open(self, user, path, context=None):
        """A new tab of ``user``'s browser (or of ``context``) on ``path``."""
        context = context or self.browser_for(user)
        page = context.new_page()
        page.goto(path)
        return page

    def close_browsers(self):
        for context in self.contexts:
            context.close()
        self.contexts.clear()

    # -- what the developer tools would show ---------------------------------------------

    def expect_refusal(self, path, status, method="GET"):
        """This test provokes an answer ``status`` to ``method path`` on purpose (a page
        that refuses the user, say): that answer, and the console error the browser
        logs for it, are not problems."""
        url = re.escape(f"{self.url}{path}")
        self.expected.append(rf"^{status} from {method} {url}(\?.*)?$")
        self.expected.append(rf"^console error: Failed to load resource: .*status of {status}\b.* \(at {url}(\?.*)?\)$")

    def expect_console_error(self, pattern):
        """A console error matching the regular expression ``pattern`` is expected
        (a socket the server refuses on purpose, say)."""
        self.expected.append(rf"^console error: .*{pattern}")

    def expect_socket_refusal(self, channel):
        """A socket on ``channel`` that ``$connect`` refuses on purpose: the browser's
        console error for its handshake is not a problem."""
        url = re.escape(self.api.websocket_url)
        self.expect_console_error(
            rf"WebSocket connection to '{url}\?channel={re.escape(channel)}&[^']*' failed: .*response code: 403"
        )

    def unexpected_problems(self):
        return [problem for problem in self.problems if not any(re.search(p, problem) for p in self.expected)]

    def _own(self, url):
        return url == self.url or url.startswith(f"{self.url}/")

    def _console(self, message):
        if message.type == "error":
            location = message.location.get("url") or ""
            self.problems.append(f"console error: {message.text} (at {location})")

    def _response(self, response):
        if response.status >= 400 and self._own(response.url):
            self.problems.append(f"{response.status} from {response.request.method} {response.url}")

    def _request_failed(self, request):
        # A request cut short because its page went away (closed, or navigated) is not
        # a failure the user would see.
        if self._own(request.url) and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.method} {request.url}: {request.failure}")


def build_site(live_server, gateway, settings_fixture, new_context):
    """Provision the local API for the live server on ``gateway``, the way ``make dev``
    does (one route per route the installed apps declare), and return the Site.

    The browser, the gateway and Django all use 127.0.0.1, so that the session cookie
    set by the site also goes with the socket's handshake to the gateway.
    """
    url = f"http://127.0.0.1:{urlsplit(live_server.url).port}"
    settings_fixture.AWS_ENDPOINT_URL_APIGATEWAYV2 = gateway.url
    # The pages' origin, which the socket's Origin check compares.
    settings_fixture.CSRF_TRUSTED_ORIGINS = [url]
    record, _ = configure_local_api(urlsplit(url).port)
    provision(record)
    record.refresh_from_db()
    return Site(url=url, gateway=gateway, api=record, new_context=new_context)


def tear_down_site(site):
    """Close the browsers, wait for their $disconnect calls, and fail on page errors
    (uncaught exceptions and Content-Security-Policy violations), console errors and
    failed requests of the site that the test did not expect.

    The gateway POSTs each socket's $disconnect after the socket closed, and Django
    answers it in a live-server thread; the database must not be read or emptied
    (transactional_db's flush, next) before every one of them has been answered.
    """
    site.close_browsers()
    site.gateway.wait_until_idle(timeout=3 * SETTLE_SECONDS)
    assert site.page_errors == [], f"JavaScript errors in the pages: {site.page_errors}"
    assert site.unexpected_problems() == [], f"Console errors or failed requests: {site.unexpected_problems()}"


@pytest.fixture
def site(transactional_db, live_server, local_gateway, settings, new_context):
    running = build_site(live_server, local_gateway, settings, new_context)
    yield running
    tear_down_site(running)


@pytest.fixture
def make_user(transactional_db, password):
    def make(username, **fields):
        return get_user_model().objects.create_user(username, f"{username}@example.com", password, **fields)

    return make
