"""Staff: the rates of the technological connection fee, as dated rows analysts add without code."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.policy import require
from app.services import connection_fees
from app.services.errors import ServiceError
from app.web.forms import Form, show_error
from app.web.staff import bp
from workflows.forms.fields import LocalDecimalField  # accepts 3800,00 as typed in Russian

KIND_LABELS, CATEGORY_LABELS = connection_fees.KIND_LABELS, connection_fees.CATEGORY_LABELS


class RateForm(Form):
    valid_from = DateField(_l("Valid from"), validators=[DataRequired(_l("Give the first day of the rate."))],
                           render_kw={"type": "date"})
    kind = SelectField(_l("What it prices"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    category = SelectField(_l("Category"), choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()])
    amount = LocalDecimalField(_l("Rate, roubles with VAT"), places=2, validators=[
        DataRequired(_l("Give the rate.")), NumberRange(min=0, message=_l("The rate cannot be negative."))])
    note = StringField(_l("Decision of the regulator"), validators=[Optional(), Length(max=300)])


@bp.route("/connection-rates", methods=["GET", "POST"])
@require("rates.manage")
def connection_rates():
    form = RateForm()
    if form.validate_on_submit():
        try:
            connection_fees.add_rate(current_user, form.valid_from.data, form.kind.data, form.category.data,
                                     form.amount.data, form.note.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("The rate is added."), "success")
            return redirect(url_for("staff.connection_rates"))
    return render_template("staff/connection_rates.html", form=form, rows=connection_fees.rate_rows(),
                           kinds=KIND_LABELS, categories=CATEGORY_LABELS)
