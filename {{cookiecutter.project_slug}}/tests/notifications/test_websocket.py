"""NotificationsWebSocketView: mark as read, catch up, try it out; always the sender's own."""

import re
from datetime import datetime

import pytest

from django_aws_api_gateway_websockets.testing import capture_messages

from {{ cookiecutter.project_slug }}.notifications.models import Notification

from .conftest import notifications

pytestmark = pytest.mark.django_db


def test_mark_read_by_ids_updates_every_tab(user, other_user, socket_for):
    mine = Notification.objects.create(user=user, title="mine")
    theirs = Notification.objects.create(user=other_user, title="theirs")
    tab, other_tab = socket_for(user), socket_for(user)
    with capture_messages() as sent:
        response = notifications(tab, "mark_read", ids=[mine.pk, theirs.pk])
    assert response.status_code == 204
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_read and not theirs.is_read
    assert {m.connection_id for m in sent} == {tab.connection_id, other_tab.connection_id}
    assert sent[0].payload == {"type": "notifications.read", "ids": [mine.pk], "unread": 0}


def test_mark_all_read(user, socket_for):
    for n in range(3):
        Notification.objects.create(user=user, title=f"n{n}")
    tab = socket_for(user)
    with capture_messages():
        assert notifications(tab, "mark_read", all=True).status_code == 204
    assert not Notification.objects.unread().exists()


@pytest.mark.parametrize(
    "params",
    [{}, {"ids": []}, {"ids": "1"}, {"ids": [1, "2"]}, {"ids": [True]}, {"ids": list(range(101))}, {"all": "yes"}],
)
def test_bad_mark_read_requests_are_refused_and_change_nothing(params, user, socket_for, caplog):
    Notification.objects.create(user=user, title="still unread")
    tab = socket_for(user)
    with capture_messages() as sent:
        response = notifications(tab, "mark_read", **params)
    assert response.status_code == 400
    assert response.json()["type"] == "notifications.error"
    assert Notification.objects.unread().count() == 1
    assert sent == []
    assert "Refused notifications message" in caplog.text


def test_summary_answers_the_sender_with_their_latest_and_unread_count(user, other_user, socket_for):
    first = Notification.objects.create(user=user, title="first")
    second = Notification.objects.create(user=user, title="second")
    Notification.objects.create(user=other_user, title="someone else's")
    first.read_on = first.created_on
    first.save()
    answer = notifications(socket_for(user), "summary").json()
    assert answer["type"] == "notifications.summary"
    assert answer["unread"] == 1
    assert [n["id"] for n in answer["notifications"]] == [second.pk, first.pk]


def test_send_test_notifies_the_sender_only(user, other_user, socket_for):
    tab = socket_for(user)
    socket_for(other_user)
    with capture_messages() as sent:
        assert notifications(tab, "send_test").status_code == 204
    notification = Notification.objects.get()
    assert (notification.user, notification.title, notification.level) == (user, "Test notification", "success")
    assert [m.connection_id for m in sent] == [tab.connection_id]
    # The time travels once, as ISO 8601 (the page formats it in the browser's locale),
    # never as text formatted on the server.
    (message,) = sent
    payload = message.payload["notification"]
    assert datetime.fromisoformat(payload["created_on"]) == notification.created_on
    assert not re.search(r"\d:\d\d", notification.body)


def test_unknown_handlers_are_refused(user, socket_for):
    tab = socket_for(user)
    assert notifications(tab, "default").json() == {
        "type": "notifications.error",
        "error": "unknown notifications handler",
    }
    assert notifications(tab, "notify").status_code == 400


def test_a_user_deactivated_since_connecting_is_disconnected_and_reads_nothing(user, socket_for):
    Notification.objects.create(user=user, title="password reset code")
    tab = socket_for(user)
    with capture_messages() as closed:
        user.is_active = False
        user.save()
    assert [(m.connection_id, m.closed) for m in closed] == [(tab.connection_id, True)]
    response = notifications(tab, "summary")
    assert response.status_code == 410
    assert b"password reset code" not in response.content


def test_a_session_whose_user_is_no_longer_active_is_refused_by_the_permission_hook(user, socket_for):
    # Deactivated without the signal (a bulk update): the view's own check still holds.
    Notification.objects.create(user=user, title="password reset code")
    tab = socket_for(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = notifications(tab, "summary")
    assert response.status_code == 403
    assert b"password reset code" not in response.content
