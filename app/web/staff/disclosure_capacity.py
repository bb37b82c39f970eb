"""Staff: the substations' free capacity table that the disclosure pages publish."""
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app import policy
from app.extensions import db
from app.models.disclosure import DisclosureCategory, DisclosureItem, SubstationCapacity
from app.policy import require
from app.services import disclosure_generated, substation_capacity
from app.services.errors import Forbidden, ServiceError
from app.web.forms import Form, show_error
from app.web.staff import bp
from workflows.forms.fields import LocalDecimalField  # accepts 12,5 as typed in Russian

NOT_NEGATIVE = _l("The capacity cannot be negative.")


def _mva(label, required=True, description=None):
    first = InputRequired(_l("Enter the capacity in MVA.")) if required else Optional()
    return LocalDecimalField(label, places=3, description=description,
                             validators=[first, NumberRange(min=0, message=NOT_NEGATIVE)],
                             render_kw={"inputmode": "decimal"})


class CapacityForm(Form):
    substation = StringField(_l("Substation"), validators=[
        InputRequired(_l("Enter the substation's name.")), Length(max=120)], render_kw={"maxlength": 120})
    voltage = StringField(_l("Voltage level"), validators=[
        InputRequired(_l("Enter the voltage level, for example 110/10 kV.")), Length(max=20)],
        render_kw={"maxlength": 20}, description=_l("For example 110/10 kV"))
    installed_mva = _mva(_l("Installed capacity, MVA"))
    max_load_mva = _mva(_l("Maximum load, MVA"), description=_l("At most twice the installed capacity."))
    reserved_mva = _mva(_l("Reserved by contracts, MVA"), required=False,
                        description=_l("Capacity of connection contracts not yet carried out; empty means 0."))
    free_mva = _mva(_l("Free capacity, MVA"), description=_l("Not more than the installed capacity."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)], render_kw={"maxlength": 300})


def _values(form: CapacityForm) -> substation_capacity.Values:
    return substation_capacity.Values(
        substation=form.substation.data or "", voltage=form.voltage.data or "",
        installed_mva=form.installed_mva.data, max_load_mva=form.max_load_mva.data,
        reserved_mva=form.reserved_mva.data if form.reserved_mva.data is not None else Decimal(0),
        free_mva=form.free_mva.data, note=form.note.data or "")


def _save(form: CapacityForm, row: SubstationCapacity | None):
    """Save a valid form; None when saved, else the HTTP status of the page with the errors."""
    if not form.validate_on_submit():
        return 422 if request.method == "POST" else 200
    try:
        saved = substation_capacity.save(_values(form), current_user, row)
    except ServiceError as error:
        db.session.rollback()
        show_error(form, error)
        return error.status
    flash(_("Saved: %(substation)s, %(voltage)s.", substation=saved.substation, voltage=saved.voltage), "success")
    return None


def _page(form: CapacityForm, editing: SubstationCapacity | None, status: int):
    items = db.session.scalars(
        select(DisclosureItem).where(DisclosureItem.generator == "free_capacity")
        .options(joinedload(DisclosureItem.category).joinedload(DisclosureCategory.standard))
        .order_by(DisclosureItem.id)).all()
    publishable = [i for i in items if policy.can_publish_in(current_user, i.category)]
    return render_template("staff/disclosure_capacity.html", form=form, editing=editing,
                           rows=substation_capacity.rows(), report=disclosure_generated.free_capacity_report(),
                           items=publishable), status


@bp.route("/disclosure/capacity", methods=["GET", "POST"])
@require("disclosure.capacity")
def disclosure_capacity():
    form = CapacityForm()
    status = _save(form, None)
    if status is None:
        return redirect(url_for("staff.disclosure_capacity"))
    return _page(form, None, status)


@bp.route("/disclosure/capacity/<int:row_id>", methods=["GET", "POST"])
@require("disclosure.capacity")
def disclosure_capacity_edit(row_id):
    row = db.get_or_404(SubstationCapacity, row_id)
    form = CapacityForm(obj=row)
    status = _save(form, row)
    if status is None:
        return redirect(url_for("staff.disclosure_capacity"))
    return _page(form, row, status)


@bp.post("/disclosure/items/<int:item_id>/snapshot")
@require("disclosure.publish")
def disclosure_snapshot(item_id):
    """Publish what a generated item shows now as its new PDF version; the category's publishers only
    (the service refuses others with 403, audited)."""
    item = db.get_or_404(DisclosureItem, item_id)
    standard_code, category_code = item.category.standard.code, item.category.code
    try:
        document = disclosure_generated.snapshot(item, current_user)
    except Forbidden:
        raise
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        flash(_("Published: %(title)s, version %(version)s. The public page shows it now.",
                title=document.title, version=document.version), "success")
    return redirect(url_for("disclosure.category", standard=standard_code, category=category_code))
