"""What the producer measures and where it sends it."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import capture_messages

from {{ cookiecutter.project_slug }}.dashboard import figures
from {{ cookiecutter.project_slug }}.dashboard.models import Sample
{%- if cookiecutter.background_sends == "celery" %}

# Transactional: the figures go out as background sends, queued when a transaction
# commits (the test settings' eager Celery then sends them in this process, at once).
pytestmark = pytest.mark.django_db(transaction=True)
{%- else %}

pytestmark = pytest.mark.django_db
{%- endif %}


@pytest.fixture
def sessions(api_gateway):
    """Three open sessions on two channels, one closed; 10 messages received in all."""

    numbers = itertools.count(1)

    def add(channel, count, connected=True):
        return WebSocketSession.objects.create(
            connection_id=f"conn{next(numbers):011d}=",
            channel_name=channel,
            api_gateway=api_gateway,
            connected=connected,
            request_count=count,
        )

    return [add("chat-general", 4), add("chat-general", 1), add("dashboard", 2), add("chat-general", 3, False)]


def test_a_sample_counts_open_connections_per_channel(sessions):
    sample = figures.take_sample()
    assert sample.connections == 3
    assert sample.connections_by_channel == [
        {"channel": "chat-general", "connections": 2},
        {"channel": "dashboard", "connections": 1},
    ]
    assert sample.messages_total == 10
    assert sample.messages_per_minute == 0.0  # nothing to compare with yet


def test_messages_per_minute_come_from_the_growth_since_the_last_sample(sessions):
    start = timezone.now()
    figures.take_sample(now=start)
    WebSocketSession.objects.filter(pk=sessions[0].pk).update(request_count=34)  # 30 more
    assert figures.take_sample(now=start + timedelta(seconds=30)).messages_per_minute == 60.0
    # Deleted sessions make the total shrink: that is not a negative rate.
    WebSocketSession.objects.filter(pk=sessions[0].pk).delete()
    assert figures.take_sample(now=start + timedelta(seconds=60)).messages_per_minute == 0.0
    # Within a second of the last sample, the last rate stands.
    WebSocketSession.objects.filter(pk=sessions[1].pk).update(request_count=1000)
    assert figures.take_sample(now=start + timedelta(seconds=60.5)).messages_per_minute == 0.0


def test_only_the_latest_samples_are_kept():
    start = timezone.now()
    for n in range(7):
        Sample.objects.create(taken_on=start + timedelta(seconds=n))
    assert figures.prune_samples(keep=5) == 2
    kept = [s.taken_on for s in figures.recent_samples()]
    assert kept == [start + timedelta(seconds=n) for n in range(2, 7)]
    assert figures.prune_samples(keep=5) == 0


def test_recent_samples_are_oldest_first_and_bounded():
    start = timezone.now()
    for n in range(5):
        Sample.objects.create(taken_on=start + timedelta(seconds=n), connections=n)
    assert [s.connections for s in figures.recent_samples(count=3)] == [2, 3, 4]


def test_pushing_reaches_every_dashboard_and_nothing_else(sessions, api_gateway):
    with capture_messages() as sent:
{%- if cookiecutter.background_sends == "celery" %}
        sample, send = figures.push_figures()
    assert [m.connection_id for m in sent] == [sessions[2].connection_id]
    assert send.report().delivered == 1
{%- else %}
        sample, report = figures.push_figures()
    assert [m.connection_id for m in sent] == [sessions[2].connection_id]
    assert report.delivered == [sessions[2].connection_id]
{%- endif %}
    assert sent[0].payload == {"type": "dashboard.figures", "sample": sample.as_payload()}
    assert sent[0].payload["sample"]["connections"] == 3
