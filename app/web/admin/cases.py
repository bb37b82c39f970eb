"""Administration of the case engine: incidents of the outbox, and a case's full history and state."""
import json

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask, OutboxMessage
from app.policy import require
from app.services import cases
from app.services.errors import NotFound, ServiceError
from app.web.admin import bp
from workflows import outbox, state


@bp.get("/incidents")
@require("audit.read")
def incidents():
    rows = db.session.scalars(select(OutboxMessage).where(
        (OutboxMessage.status == "incident") | ((OutboxMessage.status == "pending") & (OutboxMessage.attempts > 0)))
        .order_by(OutboxMessage.id.desc()).limit(200)).all()
    return render_template("admin/incidents.html", rows=rows)


@bp.post("/incidents/<int:message_id>/retry")
@require("audit.read")
def retry_incident(message_id):
    try:
        outbox.retry(message_id, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("The message will be sent again."), "success")
    return redirect(url_for("admin.incidents"))


@bp.get("/cases/<number>")
@require("audit.read")
def case_state(number):
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(_("No such case."))
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
    pretty = json.dumps(json.loads(case.state), ensure_ascii=False, indent=1)
    return render_template("admin/case.html", case=case, tasks=tasks, timeline=cases.timeline(case),
                           state_json=pretty, state_size=state.size(case.state))
