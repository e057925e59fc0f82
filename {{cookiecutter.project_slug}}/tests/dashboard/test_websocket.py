"""DashboardWebSocketView: staff ask for the latest figures or a fresh measurement."""

import pytest
from django.contrib.auth.models import Permission

from django_aws_api_gateway_websockets.testing import capture_messages

from {{ cookiecutter.project_slug }}.dashboard.models import Sample

from .conftest import dashboard
{%- if cookiecutter.background_sends == "celery" %}

# Transactional: the figures go out as background sends, queued when a transaction
# commits (the test settings' eager Celery then sends them in this process, at once).
pytestmark = pytest.mark.django_db(transaction=True)
{%- else %}

pytestmark = pytest.mark.django_db
{%- endif %}


def test_refresh_measures_and_broadcasts_to_every_dashboard(staff, make_user, socket_for):
    mine = socket_for(staff, "dashboard")
    colleague = socket_for(make_user("colleague", is_staff=True, watch=True), "dashboard")
    socket_for(staff, "lobby")
    with capture_messages() as sent:
        response = dashboard(mine, "refresh")
    assert response.status_code == 204
    sample = Sample.objects.get()
    assert sample.connections == 3
    assert {m.connection_id for m in sent} == {mine.connection_id, colleague.connection_id}
    assert {m.payload["type"] for m in sent} == {"dashboard.figures"}


def test_latest_answers_the_sender_with_the_newest_sample(staff, socket_for):
    ws = socket_for(staff, "dashboard")
    first = dashboard(ws, "latest").json()  # no sample yet: one is taken
    assert first["type"] == "dashboard.figures"
    assert first["sample"]["connections"] == 1
    assert Sample.objects.count() == 1
    assert dashboard(ws, "latest").json() == first
    assert Sample.objects.count() == 1


def test_users_who_may_not_watch_are_refused(make_user, socket_for, caplog):
    outsiders = [
        make_user("plain"),
        make_user("no-permission", is_staff=True),
        make_user("not-staff", watch=True),
    ]
    for outsider in outsiders:
        # They may not join the dashboard channel, but a socket elsewhere may still
        # send to the dashboard route: every message is checked too.
        ws = socket_for(outsider, "lobby")
        with capture_messages() as sent:
            response = dashboard(ws, "refresh")
        assert response.status_code == 403, outsider
        assert response.json() == {"error": "permission denied"}
        assert sent == []
    assert not Sample.objects.exists()
    assert "lacks the permissions" in caplog.text


def test_losing_the_permission_takes_effect_on_the_next_message(staff, socket_for):
    ws = socket_for(staff, "dashboard")
    staff.user_permissions.remove(Permission.objects.get(codename="watch_dashboard"))
    assert dashboard(ws, "latest").status_code == 403


def test_unknown_dashboard_messages_are_refused(staff, socket_for):
    ws = socket_for(staff, "dashboard")
    response = dashboard(ws, "default")
    assert response.status_code == 400
    assert response.json() == {"type": "dashboard.error", "error": "unknown dashboard handler"}
    assert dashboard(ws, "has_websocket_permissions").status_code == 400
