{%- if cookiecutter.background_sends == "celery" -%}
# The Celery app is loaded with Django, so that tasks queued by the site use it.
from .celery import app as celery_app

__all__ = ["celery_app"]
{% endif -%}
