"""Polling ASKUE: beat looks for due sources every minute; each due source is one task, so the work
is shared by concentrator among however many workers run."""
import logging

from celery import shared_task

from app.services import askue_polling

log = logging.getLogger(__name__)


@shared_task(name="askue.poll_due")
def poll_due() -> int:
    """Send a poll task for every source whose interval has passed and that no worker holds."""
    sent = 0
    for source_id in askue_polling.due_sources():
        if askue_polling.claim(source_id):
            poll_source.delay(source_id)
            sent += 1
    return sent


@shared_task(name="askue.poll_source")
def poll_source(source_id: int) -> dict:
    # A failed poll is not retried here: the source is due again at its next interval, and its
    # error stays on the source for the operator to see.
    try:
        result = askue_polling.poll_source(source_id)
    except Exception:
        log.exception("ASKUE source %s: poll failed", source_id)
        return {"source_id": source_id, "failed": True}
    return {"source_id": source_id, "read": result.meters_read, "failed_meters": result.meters_failed,
            "values_new": result.values_new, "pages": result.pages}


@shared_task(name="askue.cover_closed_months")
def cover_closed_months() -> list[str]:
    """Once a month is over, its interval partition gets the index the charts read alone."""
    from app.services import askue_storage

    return askue_storage.cover_closed_months()
