"""notify(): stored, then sent to every open connection of its user and nobody else."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from django_aws_api_gateway_websockets import channel_access
from django_aws_api_gateway_websockets.testing import capture_messages

from {{ cookiecutter.project_slug }}.notifications.access import NOTIFICATIONS_CHANNEL, may_join_notifications_channel
from {{ cookiecutter.project_slug }}.notifications.models import Notification
from {{ cookiecutter.project_slug }}.notifications.services import mark_read, notify

pytestmark = pytest.mark.django_db


def test_a_notification_reaches_every_tab_of_its_user_and_no_one_else(user, other_user, socket_for):
    tabs = [socket_for(user), socket_for(user), socket_for(user, "chat-general")]
    socket_for(other_user)
    with capture_messages() as sent:
        stored, report = notify(user, "Build finished", "All green.", level="success")
    notification = Notification.objects.get()
    assert stored == notification
    assert (notification.user, notification.title, notification.body, notification.level) == (
        user,
        "Build finished",
        "All green.",
        "success",
    )
    assert {m.connection_id for m in sent} == {tab.connection_id for tab in tabs}
    assert sorted(report.delivered) == sorted(tab.connection_id for tab in tabs)
    assert {m.user_id for m in sent} == {user.pk}
    assert sent[0].payload == {"type": "notification", "notification": notification.as_payload(), "unread": 1}
    assert sent[0].payload["notification"]["read"] is False


def test_a_user_without_open_tabs_still_gets_it_stored(user):
    with capture_messages() as sent:
        stored, report = notify(user, "While you were away")
    assert sent == []
    assert report.delivered == []
    assert Notification.objects.get().title == "While you were away"


@pytest.mark.parametrize(
    "fields",
    [{"title": ""}, {"title": "x" * 201}, {"title": "ok", "level": "shouting"}, {"title": "ok", "body": "x" * 2001}],
)
def test_invalid_notifications_are_refused_before_anything_happens(fields, user, socket_for):
    socket_for(user)
    title = fields.pop("title")
    with capture_messages() as sent, pytest.raises(ValidationError):
        notify(user, title, **fields)
    assert sent == []
    assert not Notification.objects.exists()


def test_marking_read_touches_only_the_users_own_and_tells_all_their_tabs(user, other_user, socket_for):
    mine = [Notification.objects.create(user=user, title=f"n{n}") for n in range(3)]
    theirs = Notification.objects.create(user=other_user, title="not yours")
    tabs = [socket_for(user), socket_for(user)]
    socket_for(other_user)
    with capture_messages() as sent:
        changed = mark_read(user, [mine[0].pk, theirs.pk])
    assert changed == [mine[0].pk]
    assert Notification.objects.filter(read_on__isnull=False).get() == mine[0]
    assert {m.connection_id for m in sent} == {tab.connection_id for tab in tabs}
    assert sent[0].payload == {"type": "notifications.read", "ids": [mine[0].pk], "unread": 2}
    with capture_messages() as sent:
        assert sorted(mark_read(user)) == [mine[1].pk, mine[2].pk]
        assert mark_read(user) == []
    assert len(sent) == 2  # one message per tab, and none when nothing changed
    assert theirs.__class__.objects.get(pk=theirs.pk).read_on is None


def test_the_channel_needs_a_logged_in_user(user):
    assert [p.check for p in channel_access.policies_for(NOTIFICATIONS_CHANNEL)] == [may_join_notifications_channel]
    assert may_join_notifications_channel(user, NOTIFICATIONS_CHANNEL)
    assert not may_join_notifications_channel(AnonymousUser(), NOTIFICATIONS_CHANNEL)


def test_the_notify_command(user, socket_for, capsys):
    socket_for(user)
    with capture_messages() as sent:
        call_command("notify", "alice", "Deploy done", "--body", "v1.2 is live", "--level", "success")
    assert capsys.readouterr().out.strip() == "Notified alice: 1 open tab(s) reached."
    assert len(sent) == 1
    assert Notification.objects.get().body == "v1.2 is live"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["nobody", "Hi"], "No user called 'nobody'."), (["alice", "x" * 201], "at most 200 characters")],
)
def test_the_notify_command_refuses_bad_input(arguments, message, user):
    with pytest.raises(CommandError, match=message):
        call_command("notify", *arguments)
    assert not Notification.objects.exists()
