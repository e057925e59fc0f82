"""The dashboard in a real browser: figures update live while the producer runs."""

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from playwright.sync_api import expect

from {{ cookiecutter.project_slug }}.dashboard.producer import run_producer

from .conftest import screenshot

pytestmark = pytest.mark.e2e


class RunningProducer:
    """The producer on a thread of its own, as ``manage.py dashboard_producer --every``."""

    def __init__(self, every):
        self.stop = threading.Event()
        self.pushes = 0
        self.thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every):
        try:
            self.pushes = run_producer(self.stop, every=every)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(10)


def make_staff(make_user, username):
    user = make_user(username, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="watch_dashboard"))
    return user


@pytest.fixture
def staff(make_user):
    return make_staff(make_user, "staff")


def open_dashboard(site, user):
    page = site.open(user, "/dashboard/")
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    return page


def chart_points(page):
    return int(page.locator("#connections-chart").get_attribute("data-points") or 0)


def test_the_dashboard_updates_live_while_the_producer_runs_and_keeps_others_out(site, make_user, staff):
    page = open_dashboard(site, staff)
    # On opening, the page asks for the latest figures: its own connection.
    expect(page.locator("#connections-total")).to_have_text("1")
    before = chart_points(page)

    with RunningProducer(every=0.25) as producer:
        page.wait_for_function(
            "(count) => Number(document.querySelector('#connections-chart').dataset.points) >= count",
            arg=before + 3,
        )
        # A second member of staff opens the dashboard: the next figures count it.
        open_dashboard(site, make_staff(make_user, "second"))
        expect(page.locator("#connections-total")).to_have_text("2")
        expect(page.locator("#channels td")).to_have_text(["dashboard", "2"])
        screenshot(page, "dashboard")
    assert producer.pushes >= 3

    # Someone who is not staff: no link to the page, and a refusal that says why.
    site.expect_refusal("/dashboard/", 403)
    outsider = site.open(make_user("bob"), "/")
    expect(outsider.locator(".site-header nav")).not_to_contain_text("Dashboard")
    expect(outsider.locator(".cards")).not_to_contain_text("Dashboard")
    outsider.goto("/dashboard/")
    expect(outsider.get_by_role("heading", name="Staff only")).to_be_visible()
    expect(outsider.locator("main")).to_contain_text("The live dashboard is for staff")
    assert outsider.locator("#status").count() == 0
