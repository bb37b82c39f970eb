"""Staff: groups of meters (feeders, substations, lists) — keeping them, and their consumption by day or
month with the top consumers and, for a group with an input meter, the balance and its losses."""
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.models import MeterGroup, MeterGroupMember
from app.policy import require
from app.services import group_consumption as groups
from app.services.errors import ServiceError
from app.web.forms import Form, show_error
from app.web.staff import bp
from integrations.billing.files import write_csv

KIND_LABELS = {"feeder": _l("Feeder"), "substation": _l("Substation"), "list": _l("List of meters")}
QUALITY_LABELS = {"measured": _l("measured"), "substituted": _l("substituted"), "partial": _l("incomplete"),
                  "missing": _l("no data")}


class GroupForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the group code.")), Length(max=40)],
                       render_kw={"maxlength": 40})
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the group name.")), Length(max=200)],
                       render_kw={"maxlength": 200})
    kind = SelectField(_l("Kind"), choices=[SelectChoice(code, label) for code, label in KIND_LABELS.items()],
                       default="feeder")
    input_meter = StringField(_l("Input meter (serial or ASKUE point code)"), validators=[Optional()],
                              description=_l("The meter at the head of a feeder or substation, for the balance "
                                             "and losses. May be left empty."))


class MemberForm(Form):
    meter = StringField(_l("Meter serial or ASKUE point code"),
                        validators=[DataRequired(_l("Enter a meter serial number or an ASKUE point code."))])


class RangeForm(Form):
    """The GET form above the chart; a filter, so it carries no CSRF token."""

    class Meta:
        csrf = False

    from_ = StringField(_l("From"), name="from", render_kw={"type": "date"})
    to = StringField(_l("To"), render_kw={"type": "date"})
    step = RadioField(_l("Step"), choices=[SelectChoice("day", _l("by day")),
                                                SelectChoice("month", _l("by month"))], default="day")


def _today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


@bp.route("/askue/groups", methods=["GET", "POST"])
@require("askue.operate")
def askue_groups():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = groups.create_group(form.code.data, form.name.data, form.kind.data, form.input_meter.data,
                                        current_user)
        except ServiceError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("The group %(code)s is created. Add its meters.", code=group.code), "success")
            return redirect(url_for("staff.askue_group", group_id=group.id))
    counts = dict(db.session.execute(select(MeterGroupMember.group_id, func.count())
                                      .group_by(MeterGroupMember.group_id)).all())
    rows = db.session.scalars(select(MeterGroup).order_by(MeterGroup.code)).all()
    return render_template("staff/askue_groups.html", form=form, groups=rows, counts=counts, kinds=KIND_LABELS)


def _range(form: RangeForm) -> tuple[date, date, str] | None:
    """The asked range, or None with the errors put at the fields."""
    today = _today()
    if "from" not in request.args and "to" not in request.args:
        form.from_.data, form.to.data, form.step.data = today.replace(day=1).isoformat(), today.isoformat(), "day"
    if form.step.data not in groups.STEPS:
        form.step.errors = [_("Choose the step: day or month.")]
        return None
    try:
        first = groups.parse_day(form.from_.data, "from")
        last = groups.parse_day(form.to.data, "to")
        groups.check(first, last, form.step.data)
    except ServiceError as error:
        field = form.from_ if error.field == "from" else getattr(form, error.field or "to", form.to)
        field.errors = list(field.errors) + [str(error.message)]
        return None
    return first, last, form.step.data


def _page(group: MeterGroup, member_form: MemberForm, status: int = 200):
    range_form = RangeForm(request.args, meta={"csrf": False})
    asked = _range(range_form)
    data = groups.consumption(group, *asked) if asked else None
    if data is not None and request.args.get("format") == "csv":
        return _csv(group, data)
    columns = table(data)[0] if data is not None else []
    return render_template("staff/askue_groups_detail.html", group=group, members=groups.members_of(group.id),
                           member_form=member_form, range_form=range_form, data=data, kinds=KIND_LABELS,
                           columns=columns, share_header=_("Share, %"),
                           qualities=QUALITY_LABELS, csv_args={**request.args.to_dict(), "format": "csv"}), status


@bp.get("/askue/groups/<int:group_id>")
@require("askue.operate")
def askue_group(group_id):
    return _page(db.get_or_404(MeterGroup, group_id), MemberForm(formdata=None))


@bp.post("/askue/groups/<int:group_id>/members")
@require("askue.operate")
def askue_group_add(group_id):
    group = db.get_or_404(MeterGroup, group_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            meter = groups.add_member(group, form.meter.data, current_user)
        except ServiceError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("The meter %(serial)s is added to the group.", serial=meter.serial), "success")
            return redirect(url_for("staff.askue_group", group_id=group.id))
    return _page(group, form, 422)


@bp.post("/askue/groups/<int:group_id>/members/<int:meter_id>/remove")
@require("askue.operate")
def askue_group_remove(group_id, meter_id):
    group = db.get_or_404(MeterGroup, group_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        meter = groups.remove_member(group, meter_id, current_user)
    except ServiceError:
        db.session.rollback()
        abort(404)
    flash(_("The meter %(serial)s is removed from the group.", serial=meter.serial), "success")
    return redirect(url_for("staff.askue_group", group_id=group.id))


def table(data: dict) -> tuple[list[str], list[dict]]:
    """The rows of the page's table, as the CSV gives them: period, members, quality and, for a group
    with an input meter, the input and the losses."""
    period, members, quality = _("Period"), _("Members, kWh"), _("Data")
    columns = [period, members, quality]
    if data["balance"]:
        given, losses, share = _("Input, kWh"), _("Losses, kWh"), _("Losses, %")
        columns += [given, losses, share]
    rows = []
    for point in data["points"]:
        label = point["from"] if data["step"] == "day" else point["from"][:7]
        row = {period: label, members: point["members"], quality: str(QUALITY_LABELS[point["quality"]])}
        if data["balance"]:
            row.update({given: point["input"], losses: point["losses"], share: point["losses_pct"]})
        rows.append(row)
    return columns, rows


def _csv(group: MeterGroup, data: dict) -> Response:
    columns, rows = table(data)
    code = re.sub(r"[^A-Za-z0-9-]+", "_", group.code) or str(group.id)
    name = f"group_{code}_{data['from']}_{data['to']}_{data['step']}.csv"
    return Response(write_csv(rows, columns), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.app_template_filter("group_number")
def _group_number(value, digits: int = 3) -> str:
    """A number of the group tables in the user's language (three decimals for kWh, two for %)."""
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0." + "0" * digits)

