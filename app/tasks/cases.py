from celery import shared_task

from workflows import engine


@shared_task(name="cases.fire_timers")
def fire_timers() -> int:
    """Wake the cases whose next timer is due (indexed by case.next_timer_at)."""
    return engine.fire_due_timers()
