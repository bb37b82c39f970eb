"""Celery tasks: thin wrappers that call the service layer or an integration client."""
from flask import current_app


def enqueue(task, *args, **kwargs):
    """Send `task` through the Celery app bound to the current Flask app.

    `task.delay()` would use Celery's process-wide default app, which is wrong wherever more than one
    Flask app lives in a process (tests, tools); this always follows the Flask app's own settings.
    """
    celery = current_app.extensions["celery"]
    return celery.tasks[task.name].apply_async(args, kwargs)
