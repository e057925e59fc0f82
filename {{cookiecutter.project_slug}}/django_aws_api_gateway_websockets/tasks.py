"""The Celery tasks of background sends (``send_message(payload, background=True)``).

Both are acknowledged only once done and handed back to the queue when their worker
dies (``acks_late``, ``reject_on_worker_lost``): see ``sending/background.py`` for what
that means for delivery. Celery finds them with ``app.autodiscover_tasks()``.
"""

from celery import shared_task

from .sending import background

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS)
def plan_background_send(send_id):
    """Cut a background send into chunks and queue one task per chunk."""
    background.queue_chunks(send_id, send_background_chunk.delay)


@shared_task(**TASK_OPTIONS)
def send_background_chunk(send_id, index):
    background.run_chunk(send_id, index)
