from celery import shared_task

from app.services import payments


@shared_task(name="payments.reconcile")
def reconcile() -> int:
    """Ask the providers about payments left pending: a lost notification or a worker that died
    between the provider's confirmation and our posting is caught here, and credited once."""
    return payments.reconcile()


@shared_task(name="payments.autopay")
def autopay() -> int:
    """Charge the saved cards of the auto-payment rules that are due."""
    from app.services import auto_payments

    return auto_payments.run_due()
