"""The local ApiGateway record, its routes, the demo users, and provisioning them."""

from django.contrib.auth import get_user_model
from django.db import transaction

from django_aws_api_gateway_websockets import provisioning
from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning.app_routes import register_declared_routes
from django_aws_api_gateway_websockets.provisioning.signals import auto_sync_suspended

LOCAL_API_NAME = "Local development"
LOCAL_STAGE = "local"
# Known passwords are fine here: `manage.py dev` refuses to run unless DEBUG is on.
DEMO_USERS = (
    ("demo", "demo-password", False),
    ("admin", "admin-password", True),
)


def configure_local_api(django_port):
    """Create or update the local ApiGateway record and its declared routes.

    The record belongs to ``make dev``: its additional routes are exactly the ones
    the installed apps declare. Returns ``(record, notes)``.
    """
    site = f"http://127.0.0.1:{django_port}"
    # Provisioning below does the one sync; no automatic sync per saved row.
    with auto_sync_suspended(), transaction.atomic():
        record, created = ApiGateway.objects.get_or_create(
            api_name=LOCAL_API_NAME,
            defaults={"target_base_endpoint": f"{site}/ws/", "stage_name": LOCAL_STAGE},
        )
        changed = {
            name: value
            for name, value in (("target_base_endpoint", f"{site}/ws/"), ("stage_name", LOCAL_STAGE))
            if getattr(record, name) != value
        }
        if changed:
            for name, value in changed.items():
                setattr(record, name, value)
            record.save()
        notes = register_declared_routes(record, site, remove_undeclared=True)
    if created:
        notes.insert(0, "created the local ApiGateway record")
    elif changed:
        notes.insert(0, f"updated the local ApiGateway record ({', '.join(sorted(changed))})")
    return record, notes


def provision(record):
    """Create or sync the local API through the same code that provisions AWS."""
    return provisioning.create_api(record)


def ensure_demo_users():
    """The demo users, with their known passwords; returns (username, password, staff)."""
    User = get_user_model()
    for username, password, staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.is_staff = user.is_superuser = staff
        user.set_password(password)
        user.save()
    return DEMO_USERS
