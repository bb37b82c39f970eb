from celery import shared_task

from app.services import health


@shared_task(name="system.ping")
def ping() -> dict:
    """A round trip through the broker and a worker that also reaches the database."""
    return {"pong": True, "database": health.database() or "ok"}
