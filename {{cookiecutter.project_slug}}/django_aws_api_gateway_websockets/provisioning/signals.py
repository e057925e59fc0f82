"""Keep a created API in step with the database.

When an :class:`~.models.ApiGatewayAdditionalRoute` is saved or deleted, or an
:class:`~.models.ApiGateway` that already exists in AWS changes a field the sync
manages (``target_base_endpoint``, the selection expressions, name, description,
stage), :func:`~.provisioning.sync` runs once the transaction commits. A failure is
logged, never raised: the user's change is already saved, and the route keeps
``deployed=False`` so that running the sync again (admin action or
``syncapigateway``) completes it.

Turn it off with ``WEBSOCKETS = {"AUTO_SYNC_API_GATEWAY": False}`` or, for a block of
code, ``with auto_sync_suspended(): ...``.
"""

import logging
import threading
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from ..conf import ws_setting
from ..models import ApiGateway, ApiGatewayAdditionalRoute

logger = logging.getLogger(__name__)

# ApiGateway fields that end up in AWS through a sync.
SYNCED_FIELDS = (
    "api_name",
    "api_description",
    "target_base_endpoint",
    "route_selection_expression",
    "api_key_selection_expression",
    "stage_name",
    "stage_description",
)

_local = threading.local()
_lock = threading.Lock()
# Per API gateway pk: how many syncs were asked for, and up to which request one ran.
# Several saves in one transaction (an admin page with inline routes) then cause one
# sync, and a rolled-back request never blocks a later one.
_requested = {}
_covered = {}


def auto_sync_enabled():
    return bool(ws_setting("AUTO_SYNC_API_GATEWAY")) and not getattr(_local, "suspended", 0)


@contextmanager
def auto_sync_suspended():
    """Within this block, saving records does not sync API Gateway."""
    _local.suspended = getattr(_local, "suspended", 0) + 1
    try:
        yield
    finally:
        _local.suspended -= 1


def schedule_sync(api_gateway_pk):
    """Sync the API once the current transaction commits (at once outside one)."""
    with _lock:
        generation = _requested.get(api_gateway_pk, 0) + 1
        _requested[api_gateway_pk] = generation
    transaction.on_commit(lambda: _run_sync(api_gateway_pk, generation))


def _run_sync(api_gateway_pk, generation):
    from . import ProvisioningError, sync

    with _lock:
        if _covered.get(api_gateway_pk, 0) >= generation:
            return
        _covered[api_gateway_pk] = _requested.get(api_gateway_pk, generation)
    api_gateway = ApiGateway.objects.filter(pk=api_gateway_pk).first()
    if api_gateway is None or not api_gateway.api_created:
        return
    try:
        report = sync(api_gateway)
    except ProvisioningError as exc:
        logger.error("Automatic sync of %s with AWS failed: %s", api_gateway, exc)
    except Exception:
        # The user's change is committed already; a bug here must not turn it into a 500.
        logger.exception("Automatic sync of %s with AWS failed unexpectedly", api_gateway)
    else:
        logger.info("Automatic sync of %s: %s", api_gateway, report.summary())


@receiver(pre_save, sender=ApiGateway, dispatch_uid="websockets_remember_synced_fields")
def remember_synced_fields(sender, instance, raw=False, **kwargs):
    # Only what the sync below may act on is worth a query.
    if raw or not instance.pk or not instance.api_created or not auto_sync_enabled():
        return
    instance._synced_fields_before = ApiGateway.objects.filter(pk=instance.pk).values(*SYNCED_FIELDS).first()


@receiver(post_save, sender=ApiGateway, dispatch_uid="websockets_sync_changed_api")
def sync_changed_api(sender, instance, created=False, raw=False, **kwargs):
    before = getattr(instance, "_synced_fields_before", None)
    instance._synced_fields_before = None
    if raw or created or before is None or not instance.api_created or not auto_sync_enabled():
        return
    changed = [name for name in SYNCED_FIELDS if before[name] != getattr(instance, name)]
    if changed:
        logger.info("%s changed %s: syncing with AWS after commit", instance, ", ".join(changed))
        schedule_sync(instance.pk)


@receiver(post_save, sender=ApiGatewayAdditionalRoute, dispatch_uid="websockets_sync_saved_route")
def sync_saved_route(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and set(update_fields) <= {"deployed", "updated_on"}):
        return
    api_gateway = ApiGateway.objects.filter(pk=instance.api_gateway_id, api_created=True).first()
    if api_gateway is None or not auto_sync_enabled():
        return
    # Not live until the sync has deployed it.
    ApiGatewayAdditionalRoute.objects.filter(pk=instance.pk).update(deployed=False)
    instance.deployed = False
    schedule_sync(api_gateway.pk)


@receiver(post_delete, sender=ApiGatewayAdditionalRoute, dispatch_uid="websockets_sync_deleted_route")
def sync_deleted_route(sender, instance, **kwargs):
    if not auto_sync_enabled():
        return
    if ApiGateway.objects.filter(pk=instance.api_gateway_id, api_created=True).exists():
        schedule_sync(instance.api_gateway_id)
