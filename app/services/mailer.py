"""Letters to users: rendered here in the recipient's language, delivered by a Celery task."""
from flask import current_app, render_template, url_for
from flask_babel import force_locale

from app.services import signed_links


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a letter, built from PUBLIC_URL so it works from Celery and the CLI too."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _deliver(user, template: str, **context) -> None:
    from app.tasks import enqueue
    from app.tasks.notify import send_email

    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        text = render_template(f"email/{template}.txt", user=user, **context)
    subject, _, body = text.partition("\n\n")
    enqueue(send_email, user.email, subject.strip(), body.strip() + "\n")


def send_confirmation(user) -> None:
    token = signed_links.make(signed_links.CONFIRM, {"uid": user.id, "email": user.email})
    _deliver(user, "confirm", link=external_url("auth.confirm", token=token),
             hours=current_app.config["EMAIL_TOKEN_HOURS"])


def send_password_reset(user, invitation: bool = False) -> None:
    payload = {"uid": user.id, "stamp": user.auth_stamp}
    if invitation:
        payload["inv"] = True
    token = signed_links.make(signed_links.RESET, payload)
    _deliver(user, "invitation" if invitation else "reset", link=external_url("auth.reset", token=token),
             minutes=current_app.config["RESET_TOKEN_MINUTES"], hours=current_app.config["EMAIL_TOKEN_HOURS"])


def send_autopay_stopped(user, rule) -> None:
    _deliver(user, "autopay_stopped", rule=rule, link=external_url("payments.auto", account_id=rule.account_id))


def send_receipt(user, payment, receipts) -> None:
    _deliver(user, "receipt", payment=payment, receipts=receipts,
             link=external_url("payments.show", public_id=payment.public_id))


def send_disclosure_due(user, rows) -> None:
    """The deadline letter to the person responsible for disclosure categories (rows of
    `disclosure_compliance.status`), with a link to each item still to publish."""
    links = {item.id: external_url("staff.disclosure_item", item_id=item.id) for row in rows for item in row.missing}
    _deliver(user, "disclosure_due", rows=rows, links=links,
             dashboard=external_url("staff.disclosure_compliance"))
