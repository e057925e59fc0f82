"""Measuring the figures and pushing them to every dashboard that is open."""

from django.db.models import Count, Sum
from django.utils import timezone

from django_aws_api_gateway_websockets.models import WebSocketSession

from .access import DASHBOARD_CHANNEL
from .models import Sample

# Channels listed one by one; the rest only count towards the total.
MAX_CHANNELS_LISTED = 20
# Samples kept for the charts; older ones are deleted as new ones arrive.
SAMPLES_KEPT = 500
# The chart on the page shows this many of the latest samples.
SAMPLES_SHOWN = 60


def take_sample(now=None):
    """Measure and store the current figures.

    Messages per minute come from the growth of the sessions' message counters since
    the previous sample (sessions deleted by the clean-up can make that negative:
    it then counts as zero).
    """
    now = now or timezone.now()
    connected = WebSocketSession.objects.filter(connected=True)
    per_channel = (
        connected.values("channel_name").annotate(connections=Count("id")).order_by("-connections", "channel_name")
    )
    messages_total = WebSocketSession.objects.aggregate(total=Sum("request_count"))["total"] or 0
    previous = Sample.objects.order_by("-taken_on", "-id").first()
    rate = 0.0
    if previous is not None:
        minutes = (now - previous.taken_on).total_seconds() / 60
        if minutes * 60 >= 1:
            rate = max(0, messages_total - previous.messages_total) / minutes
        else:
            # Two samples within a second say little; keep the last rate.
            rate = previous.messages_per_minute
    return Sample.objects.create(
        taken_on=now,
        connections=connected.count(),
        connections_by_channel=[
            {"channel": row["channel_name"], "connections": row["connections"]}
            for row in per_channel[:MAX_CHANNELS_LISTED]
        ],
        messages_total=messages_total,
        messages_per_minute=rate,
    )


def prune_samples(keep=SAMPLES_KEPT):
    """Delete all but the newest ``keep`` samples; returns how many went."""
    oldest_kept = Sample.objects.order_by("-taken_on", "-id").values_list("taken_on", flat=True)[keep - 1 : keep]
    cutoff = next(iter(oldest_kept), None)
    if cutoff is None:
        return 0
    deleted, _ = Sample.objects.filter(taken_on__lt=cutoff).delete()
    return deleted


def recent_samples(count=SAMPLES_SHOWN):
    """The latest ``count`` samples, oldest first (for a chart)."""
    return list(reversed(Sample.objects.order_by("-taken_on", "-id")[:count]))


def figures_message(sample):
    return {"type": "dashboard.figures", "sample": sample.as_payload()}


def push_figures():
    """Take a sample and broadcast it to the dashboard's channel.
{%- if cookiecutter.background_sends == "celery" %}

    Returns ``(sample, send)``: the background send the Celery workers carry out, in
    chunks, once the current transaction commits (``send.report()`` tells how it went).
    However many staff watch, the caller does not wait for them.
    """
    sample = take_sample()
    prune_samples()
    dashboards = WebSocketSession.objects.filter(channel_name=DASHBOARD_CHANNEL)
    send = dashboards.send_message(figures_message(sample), background=True)
    return sample, send
{%- else %}

    Returns ``(sample, report)``; ``report.delivered`` lists the dashboards reached.
    """
    sample = take_sample()
    prune_samples()
    report = WebSocketSession.objects.filter(channel_name=DASHBOARD_CHANNEL).send_message(figures_message(sample))
    return sample, report
{%- endif %}
