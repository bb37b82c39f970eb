"""Administration: staff accounts and the audit log."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app import policy
from app.extensions import db
from app.models import AuditEvent, StaffGroup, User
from app.policy import require
from app.services import users
from app.services.errors import NotFound, ServiceError
from app.web.forms import Form, show_error

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StaffRightsForm(Form):
    roles = CheckboxesField(_l("Roles"))
    groups = CheckboxesField(_l("Groups"), description=_l("Specialists get the cases of their groups."))
    blocked = BooleanField(_l("Blocked"), description=_l("A blocked user cannot log in; their sessions end."))

    def fill_choices(self):
        self.roles.choices = [SelectChoice(code, str(label)) for code, label in policy.ROLE_LABELS.items()]
        locale = str(get_locale())
        self.groups.choices = [SelectChoice(g.code, g.name(locale)) for g in
                               db.session.scalars(select(StaffGroup).order_by(StaffGroup.id))]
        return self


class NewStaffForm(StaffRightsForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter the e-mail.")), Length(max=254)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the full name.")),
                                                         Length(max=200)])


@bp.get("/users", endpoint="users")
@require("users.manage")
def users_list():
    query = request.args.get("q", "").strip().lower()
    page = max(1, request.args.get("page", 1, type=int))
    stmt = select(User).order_by(User.id)
    if query:
        stmt = stmt.where(User.email.like(f"%{query}%") | User.full_name.ilike(f"%{query}%"))
    rows = db.session.scalars(stmt.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    return render_template("admin/users.html", users=rows[:PAGE], query=query, page=page,
                           has_next=len(rows) > PAGE, role_labels=policy.ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@require("users.manage")
def user_new():
    form = NewStaffForm().fill_choices()
    if form.validate_on_submit():
        try:
            user = users.create_staff(form.email.data, form.full_name.data, form.roles.data, form.groups.data,
                                      actor=current_user)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("%(email)s is created; a letter with a link to set the password is sent.",
                    email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("users.manage")
def user_edit(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    form = StaffRightsForm(data={"roles": sorted(user.roles), "groups": [g.code for g in user.groups],
                                 "blocked": user.is_blocked} if request.method == "GET" else None)
    form.fill_choices()
    if form.validate_on_submit():
        try:
            users.update_staff(user.id, form.roles.data, form.groups.data, form.blocked.data, actor=current_user)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("admin.users"))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id)
                                .order_by(AuditEvent.id.desc()).limit(20)).all()
    return render_template("admin/user_edit.html", user=user, form=form, events=events)


@bp.get("/audit")
@require("audit.read")
def audit():
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip().lower()
    outcome = request.args.get("outcome", "").strip()
    before = request.args.get("before", type=int)
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.like(f"{action}%"))
    if actor:
        stmt = stmt.where(AuditEvent.actor_label.like(f"%{actor}%"))
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if before:
        stmt = stmt.where(AuditEvent.id < before)
    rows = db.session.scalars(stmt.limit(PAGE + 1)).all()
    return render_template("admin/audit.html", events=rows[:PAGE], has_more=len(rows) > PAGE,
                           action=action, actor=actor, outcome=outcome)


from app.web.admin import cases  # noqa: E402,F401  (views register on bp)
