"""The producer: once, or at an interval until stopped; and its management command."""

import threading

import pytest
from django.core.management import CommandError, call_command
{%- if cookiecutter.background_sends == "celery" %}

from django_aws_api_gateway_websockets.models import BackgroundSend, WebSocketSession
{%- else %}

from django_aws_api_gateway_websockets.models import WebSocketSession
{%- endif %}
from django_aws_api_gateway_websockets.testing import capture_messages

from {{ cookiecutter.project_slug }}.dashboard import producer
from {{ cookiecutter.project_slug }}.dashboard.models import Sample
{%- if cookiecutter.background_sends == "celery" %}

# Transactional: the figures go out as background sends, queued when a transaction
# commits (the test settings' eager Celery then sends them in this process, at once).
pytestmark = pytest.mark.django_db(transaction=True)
{%- else %}

pytestmark = pytest.mark.django_db
{%- endif %}


@pytest.fixture
def watcher(api_gateway):
    return WebSocketSession.objects.create(
        connection_id="watcher00000001=", channel_name="dashboard", api_gateway=api_gateway
    )


def test_once_by_default(watcher):
    pushed = []
    with capture_messages() as sent:
        assert producer.run_producer(threading.Event(), on_push=lambda *args: pushed.append(args)) == 1
    assert len(pushed) == len(sent) == Sample.objects.count() == 1
    assert sent[0].connection_id == watcher.connection_id


def test_at_an_interval_for_a_number_of_times(watcher):
    with capture_messages() as sent:
        assert producer.run_producer(threading.Event(), every=0.001, times=3) == 3
    assert len(sent) == Sample.objects.count() == 3


def test_setting_the_stop_event_ends_the_loop(watcher):
    stop = threading.Event()

    def stop_after_two(sample, report):
        if Sample.objects.count() == 2:
            stop.set()

    with capture_messages():
        # (times only bounds a broken loop; the stop event ends it first.)
        assert producer.run_producer(stop, every=0.001, times=20, on_push=stop_after_two) == 2


def test_a_failed_push_is_logged_and_the_loop_goes_on(watcher, monkeypatch, caplog):
    real_push = producer.push_figures
    calls = []

    def flaky_push():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real_push()

    monkeypatch.setattr(producer, "push_figures", flaky_push)
    with capture_messages():
        assert producer.run_producer(threading.Event(), every=0.001, times=3) == 2
    assert "Pushing the dashboard figures failed" in caplog.text


def test_a_single_push_lets_its_error_through(monkeypatch):
    def failing_push():
        raise RuntimeError("boom")

    monkeypatch.setattr(producer, "push_figures", failing_push)
    with pytest.raises(RuntimeError, match="boom"):
        producer.run_producer(threading.Event())


def test_the_command_pushes_once_and_says_so(watcher, capsys):
    with capture_messages() as sent:
        call_command("dashboard_producer")
    assert len(sent) == 1
    output = capsys.readouterr().out
{%- if cookiecutter.background_sends == "celery" %}
    send = BackgroundSend.objects.get()
    assert f"1 connection(s), 0.0 message(s)/min -> the workers (background send {send.pk})" in output
    assert send.report().delivered == 1
{%- else %}
    assert "1 connection(s), 0.0 message(s)/min -> 1 dashboard(s)" in output
{%- endif %}


def test_the_command_repeats_every_n_seconds(watcher, capsys):
    with capture_messages() as sent:
        call_command("dashboard_producer", "--every", "0.001", "--times", "2")
    assert len(sent) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Pushing the dashboard figures every 0.001 s; Ctrl-C stops."
    assert len(lines) == 3


@pytest.mark.parametrize(
    "arguments",
    [["--times", "2"], ["--every", "0"], ["--every", "-1"], ["--every", "soon"], ["--every", "1", "--times", "0"]],
)
def test_the_command_refuses_bad_options(arguments):
    with pytest.raises(CommandError):
        call_command("dashboard_producer", *arguments)
    assert not Sample.objects.exists()
