"""Celery bound to the Flask app: tasks run inside an app context and share its settings.

Defaults favour not losing work: a task is acknowledged only after it ran (acks_late), and a worker
that dies mid-task hands it back to the queue. Tasks that talk to outside systems use
`IntegrationTask`, which retries with exponential backoff.
"""
from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, has_app_context


class AppContextTask(Task):
    abstract = True

    def __call__(self, *args, **kwargs):
        if has_app_context():  # eager execution inside a request or a CLI command
            return self.run(*args, **kwargs)
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


class IntegrationTask(AppContextTask):
    abstract = True
    autoretry_for = (OSError, ConnectionError, TimeoutError)
    retry_backoff = 5
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8


def celery_init_app(app: Flask) -> Celery:
    cfg = app.config
    celery = Celery(app.name, task_cls=AppContextTask)
    celery.flask_app = app
    celery.conf.update(
        broker_url=cfg["CELERY_BROKER_URL"],
        result_backend=cfg["CELERY_RESULT_BACKEND"],
        task_always_eager=cfg["CELERY_TASK_ALWAYS_EAGER"],
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=cfg.get("CELERY_DEFAULT_QUEUE", "gridcase"),
        timezone=cfg["TIMEZONE"],
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        result_expires=3600,
        beat_schedule={
            # Timers fire within a minute of their due time.
            "fire-case-timers": {"task": "cases.fire_timers", "schedule": 30.0},
            "deliver-outbox": {"task": "outbox.deliver_due", "schedule": 15.0},
            "reconcile-payments": {"task": "payments.reconcile", "schedule": 300.0},
            "auto-payments": {"task": "payments.autopay", "schedule": crontab(minute=30)},
            # Each ASKUE source has its own interval (15 minutes by default); this only finds the due ones.
            "poll-askue": {"task": "askue.poll_due", "schedule": 60.0},
            "cover-closed-interval-months": {"task": "askue.cover_closed_months",
                                             "schedule": crontab(minute=15, hour=3, day_of_month=1)},
            "overdue-digest": {"task": "cases.overdue_digest", "schedule": crontab(minute=0, hour=8)},
            "disclosure-reminders": {"task": "disclosure.remind", "schedule": crontab(minute=10, hour=8)},
            "disclosure-snapshots": {"task": "disclosure.snapshot_due", "schedule": crontab(minute=20, hour=6)},
            # The previous month is closed once its reading window and the last day have passed.
            "close-previous-period": {
                "task": "billing.close_period",
                "schedule": crontab(minute=0, hour=2, day_of_month=cfg["BILLING_CLOSE_DAY"]),
            },
        },
        include=["app.tasks.notify", "app.tasks.system", "app.tasks.billing", "app.tasks.cases",
                 "app.tasks.outbox", "app.tasks.payments", "app.tasks.askue", "app.tasks.disclosure",
                 "app.tasks.processes"],
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
