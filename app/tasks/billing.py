from celery import shared_task

from app.services import billing
from app.services.periods import local_today, period_of, previous_period


@shared_task(name="billing.close_period")
def close_period(period_iso: str | None = None) -> dict:
    """Close a period (by default the previous month). Safe to repeat: closed accounts are skipped."""
    from datetime import date

    period = date.fromisoformat(period_iso) if period_iso else previous_period(period_of(local_today()))
    result = billing.close_period(period)
    return {"period": period.isoformat(), "closed": result.closed, "skipped": result.skipped,
            "charged": str(result.charged), "problems": {str(k): v for k, v in result.problems.items()}}
