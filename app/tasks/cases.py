from celery import shared_task

from workflows import engine


@shared_task(name="cases.fire_timers")
def fire_timers() -> int:
    """Wake the cases whose next timer is due (indexed by case.next_timer_at)."""
    return engine.fire_due_timers()


@shared_task(name="cases.overdue_digest")
def overdue_digest() -> int:
    """The morning letter to each specialist listing their overdue tasks."""
    from app.services import cases

    return cases.send_overdue_digest()
