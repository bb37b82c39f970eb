from celery import shared_task


@shared_task(name="disclosure.remind")
def remind(today: str | None = None) -> int:
    """The morning deadline letters to the people responsible for disclosure categories."""
    from datetime import date

    from app.services import disclosure_compliance
    from app.services.periods import local_today

    return disclosure_compliance.send_reminders(date.fromisoformat(today) if today else local_today())


@shared_task(name="disclosure.snapshot_due")
def snapshot_due(today: str | None = None) -> int:
    """Generated items of periodic categories (connection statistics, free capacity) get their PDF for
    the period just over, so the archive holds what was shown and the deadline is met on its own."""
    from datetime import date

    from app.services import disclosure_generated

    return disclosure_generated.snapshot_due(date.fromisoformat(today) if today else None)
