"""Submitting meter readings: a form per meter with one input per zone and the previous values."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length

from app import policy
from app.policy import require
from app.services import accounts, audit, readings
from app.services.errors import ServiceError
from app.services.periods import local_today
from app.services.readings import NeedsConfirmation
from app.services.resources import RESOURCES, zone_label
from app.web.cabinet import bp
from app.web.forms import Form, show_error


def reading_form(meter, data=None):
    """A form class made for the meter's zones; the prefix keeps several meters' forms apart."""

    class ReadingForm(Form):
        meter_id = HiddenField(default=str(meter.id))
        confirm = BooleanField(_l("Yes, this reading is correct"))

    for zone in meter.zone_names:
        setattr(ReadingForm, zone, StringField(
            zone_label(meter.zones, zone), validators=[Length(max=20)],
            render_kw={"inputmode": "decimal", "autocomplete": "off", "pattern": r"[0-9]+([.,][0-9]{1,3})?"}))
    return ReadingForm(formdata=data, prefix=f"m{meter.id}")


@bp.route("/accounts/<int:account_id>/readings", methods=["GET", "POST"])
@require("cabinet.use")
def readings_page(account_id):
    account = accounts.get_for(current_user, account_id)
    window = policy.account_window(current_user, account)
    # A previous owner sees the readings taken before the transfer, and sends none.
    writable = policy.can_act_on_account(current_user, account)
    if request.method == "POST" and not writable:
        audit.record("access.denied", obj=account, outcome="denied", details={"reason": "transferred"}, commit=True)
        abort(403)
    meters = readings.meters_of(account)
    latest = readings.last_readings(account, window)
    posted_id = request.form.get(next((k for k in request.form if k.endswith("-meter_id")), ""), type=int)
    forms, needs_confirm = {}, set()
    for meter in meters if writable else []:
        forms[meter.id] = reading_form(meter, request.form if posted_id == meter.id else None)
    if request.method == "POST" and posted_id in forms:
        form = forms[posted_id]
        meter = next(m for m in meters if m.id == posted_id)
        if form.validate():
            values = {zone: form[zone].data for zone in meter.zone_names}
            try:
                done = readings.submit(current_user, meter.id, values, confirm_jump=form.confirm.data)
            except NeedsConfirmation as error:
                needs_confirm.add(meter.id)
                flash(str(error.message), "warning")
            except ServiceError as error:
                show_error(form, error)
            else:
                month = format_date(done.period, "LLLL yyyy")
                if done.outside_window:
                    flash(_("The reading is saved. It was sent outside the submission days, so it counts for "
                            "%(period)s.", period=month), "info")
                else:
                    flash(_("The reading is saved for %(period)s.", period=month), "success")
                return redirect(url_for("cabinet.readings_page", account_id=account.id))
    period, outside = readings.period_for(local_today())
    return render_template("cabinet/readings.html", account=account, meters=meters, forms=forms, latest=latest,
                           needs_confirm=needs_confirm, period=period, outside=outside, resources=RESOURCES,
                           history=readings.history_of(account, window=window), window=window, writable=writable)
