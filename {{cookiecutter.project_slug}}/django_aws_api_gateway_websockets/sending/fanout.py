"""One payload to many sessions (unicast, multicast, broadcast), and closing them.

A send:

1. serialises the payload once, and refuses one over API Gateway's 128 KB limit
   before anything leaves (``PayloadTooLarge``);
2. reads the connected sessions' ids and endpoints in one query;
3. posts to each API Gateway's management endpoint concurrently (bounded), retrying
   throttled posts with backoff (``transport``);
4. marks every connection that API Gateway reports gone as disconnected, in one
   UPDATE, and returns a :class:`~.transport.SendReport`.

This module takes sessions from its callers and never imports the models, so the
models can offer ``send_message`` without an import loop.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone

from .. import aws
from ..conf import ws_setting
from ..request_checks import short_hash
from . import capture
from .signing import RequestSigner
from .transport import SendOptions, SendReport, post_to_connections

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 128 * 1024


class PayloadTooLarge(ValueError):
    """The encoded payload is over API Gateway's 128 KB message limit."""


@dataclass(frozen=True)
class Target:
    connection_id: str
    endpoint: str
    channel_name: str
    user_id: object


def encode_payload(payload):
    """The JSON bytes API Gateway will carry; raises PayloadTooLarge over 128 KB."""
    data = json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"The message is {len(data)} bytes once encoded; API Gateway carries at most {MAX_PAYLOAD_BYTES}."
        )
    return data


def send_to_sessions(sessions, payload=None, *, encoded=None):
    """Send ``payload`` to every connected session in ``sessions`` (a queryset of
    ``WebSocketSession`` or an iterable of them). Returns a ``SendReport``.
    ``encoded``: the payload already encoded by :func:`encode_payload`."""
    data = encoded if encoded is not None else encode_payload(payload)
    session_model, targets = _targets(sessions)
    if not targets:
        return SendReport()
    if capture.active():
        capture.record(targets, data)
        return SendReport(delivered=[target.connection_id for target in targets])
    report = _call_management_api(targets, "POST", data)
    if report.gone:
        _mark_gone(session_model, report.gone)
    for connection_id, reason in report.failed.items():
        logger.warning("Message to connection %s not delivered: %s", short_hash(connection_id), reason)
    return report


def close_sessions(sessions):
    """Close the connection of every connected session in ``sessions`` at API Gateway
    (DeleteConnection), then mark them all disconnected in one UPDATE, closed there or
    not: whoever asked for the close (a logout, a lost permission) must not keep
    receiving. Returns a ``SendReport`` (``delivered``: closed now; ``gone``: closed
    already)."""
    session_model, targets = _targets(sessions)
    if not targets:
        return SendReport()
    if capture.active():
        capture.record_close(targets)
        report = SendReport(delivered=[target.connection_id for target in targets])
    else:
        report = _call_management_api(targets, "DELETE", b"")
    closed = session_model.objects.filter(connection_id__in=[target.connection_id for target in targets])
    closed.update(connected=False, updated_on=timezone.now())
    for connection_id, reason in report.failed.items():
        logger.warning("Connection %s could not be closed at API Gateway: %s", short_hash(connection_id), reason)
    return report


def _call_management_api(targets, method, data):
    """``method`` on each target's ``@connections/<id>``, grouped by endpoint."""
    report = SendReport()
    by_endpoint = defaultdict(list)
    for target in targets:
        if target.endpoint:
            by_endpoint[target.endpoint].append(target.connection_id)
        else:
            report.failed[target.connection_id] = "its API Gateway has no endpoint yet (create the API first)"
    if by_endpoint:
        signer = RequestSigner(aws.get_frozen_credentials(), aws.get_region())
        options = SendOptions(
            concurrency=max(1, int(ws_setting("SEND_CONCURRENCY"))),
            timeout_seconds=float(ws_setting("SEND_TIMEOUT_SECONDS")),
            throttle_retries=int(ws_setting("SEND_THROTTLE_RETRIES")),
            throttle_base_delay=float(ws_setting("SEND_THROTTLE_BASE_DELAY_SECONDS")),
            retries=int(ws_setting("SEND_RETRIES")),
            max_wait_seconds=float(ws_setting("SEND_MAX_WAIT_SECONDS")),
        )
        for endpoint, connection_ids in by_endpoint.items():
            post_to_connections(endpoint, connection_ids, data, signer, options, report, method=method)
    return report


def _targets(sessions):
    """``(session model, [Target])`` for the connected sessions among ``sessions``."""
    if isinstance(sessions, QuerySet):
        rows = sessions.filter(connected=True).values_list(
            "connection_id", "api_gateway__api_endpoint", "api_gateway__stage_name", "channel_name", "user_id"
        )
        # Thousands of rows share a handful of APIs: build each endpoint URL once.
        endpoints = {}
        targets = []
        for connection_id, api_endpoint, stage, channel, user_id in rows:
            endpoint = endpoints.get((api_endpoint, stage))
            if endpoint is None:
                endpoint = endpoints[api_endpoint, stage] = aws.management_endpoint_url(api_endpoint, stage)
            targets.append(Target(connection_id, endpoint, channel, user_id))
        return sessions.model, targets
    sessions = [session for session in sessions if session.connected]
    if not sessions:
        return None, []
    session_model = type(sessions[0])
    # Use API Gateways already loaded on the sessions; fetch the rest in one query.
    gateways = {
        session.api_gateway_id: session.api_gateway
        for session in sessions
        if session._state.fields_cache.get("api_gateway") is not None
    }
    missing = {session.api_gateway_id for session in sessions} - gateways.keys()
    if missing:
        gateway_model = session_model._meta.get_field("api_gateway").related_model
        gateways.update(gateway_model.objects.only("api_endpoint", "stage_name").in_bulk(missing))
    targets = []
    for session in sessions:
        gateway = gateways.get(session.api_gateway_id)
        endpoint = aws.management_endpoint_url(gateway.api_endpoint, gateway.stage_name) if gateway else ""
        targets.append(Target(session.connection_id, endpoint, session.channel_name, session.user_id))
    return session_model, targets


def _mark_gone(session_model, connection_ids):
    # API Gateway answers 410 to a send while the connection's $connect is still being
    # handled (the socket opens only after Django's answer): a session that young is
    # not gone, so it stays connected.
    settled = timezone.now() - timedelta(seconds=float(ws_setting("NEW_CONNECTION_GRACE_SECONDS")))
    marked = session_model.objects.filter(connection_id__in=connection_ids, created_on__lt=settled).update(
        connected=False
    )
    logger.info("Marked %d gone connection(s) disconnected", marked)
