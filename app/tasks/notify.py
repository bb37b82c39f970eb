from celery import shared_task
from flask import current_app

from app.celery_app import IntegrationTask
from integrations.notify.email import build_message, sender_from_url


@shared_task(base=IntegrationTask, name="notify.send_email")
def send_email(to: str, subject: str, body: str) -> str:
    msg = build_message(current_app.config["MAIL_FROM"], to, subject, body)
    sender_from_url(current_app.config["MAIL_URL"]).send(msg)
    return msg["Message-ID"]
