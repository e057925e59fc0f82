"""The Celery app: the workers that send background broadcasts, and run your own tasks.

    python -m celery -A config worker --loglevel INFO

``make dev`` starts one; the deploy targets run them as a service of their own. Its
settings are the ``CELERY_*`` ones of ``config/settings``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("{{ cookiecutter.project_slug }}")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
