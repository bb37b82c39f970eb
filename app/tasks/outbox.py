from celery import shared_task

from workflows import outbox


@shared_task(name="outbox.deliver_due")
def deliver_due() -> int:
    """Deliver what is due in the outbox; retries and incidents are decided per message."""
    return outbox.deliver_due()
