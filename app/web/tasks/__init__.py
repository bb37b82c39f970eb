"""The specialists' work: queues, claiming, and completing a task with its form."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import User, UserRole
from app.models.types import utcnow
from app.policy import require
from app.services import cases
from app.services.errors import ServiceError
from app.web import case_forms
from app.web.forms import show_error
from workflows import definitions, engine

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@bp.get("/")
@require("tasks.work")
def queue():
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "groups", "all"):
        scope = "mine"
    within = request.args.get("due_within", type=int)
    try:
        rows = cases.queue(current_user, scope, request.args.get("process") or None,
                           overdue=request.args.get("overdue") == "1", due_within_days=within)
    except ServiceError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("tasks.queue"))
    return render_template("tasks/queue.html", rows=rows, scope=scope, processes=sorted(definitions.versions()),
                           args=request.args, now=utcnow())


@bp.post("/<int:task_id>/claim")
@require("tasks.work")
def claim(task_id):
    try:
        cases.claim(current_user, task_id)
    except ServiceError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("tasks.queue", scope="groups"))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/unclaim")
@require("tasks.work")
def unclaim(task_id):
    try:
        cases.unclaim(current_user, task_id)
    except ServiceError as error:
        flash(str(error.message), "danger")
    return redirect(url_for("tasks.queue"))


@bp.post("/<int:task_id>/assign")
@require("tasks.reassign")
def assign(task_id):
    try:
        cases.assign(current_user, task_id, request.form.get("assignee_id", type=int) or 0)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("The task is reassigned."), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.route("/<int:task_id>", methods=["GET", "POST"])
@require("tasks.work")
def show(task_id):
    task = cases.task_for(current_user, task_id)
    spec, form = (case_forms.build(task.form_key, task_data=lambda: engine.task_data(task.case, task))
                  if task.form_key else (None, None))
    if request.method == "POST" and form is not None and form.validate_on_submit():
        try:
            cases.complete(current_user, task.id, spec.values(form))
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("Done: %(task)s, case %(number)s.", task=task.title, number=task.case.number), "success")
            return redirect(url_for("tasks.queue"))
    staff = []
    if policy.has_permission(current_user, "tasks.reassign"):
        staff = db.session.scalars(select(User).join(UserRole).where(
            UserRole.role.in_([policy.SPECIALIST, policy.TEAM_LEAD]), User.is_blocked.is_(False))
            .order_by(User.full_name)).unique().all()
    return render_template("tasks/show.html", task=task, spec=spec, form=form, case=task.case,
                           may_work=cases.may_work(current_user, task), staff=staff,
                           data=engine.task_data(task.case, task) if task.status == "open" else engine.case_data(task.case),
                           timeline=cases.timeline(task.case),
                           documents=cases.documents(task.case, current_user))
