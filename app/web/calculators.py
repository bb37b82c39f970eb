"""Public calculators, no login needed: penalties and a bill estimate."""
from datetime import date

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from app.services import calculators
from app.services.errors import ServiceError
from app.services.periods import local_today, period_of
from app.services.resources import RESOURCES
from app.web.forms import Form, show_error

bp = Blueprint("calculators", __name__, url_prefix="/calculators")

SCHEMES = [("household", _l("a household (Housing Code art. 155)")),
           ("legal", _l("an organisation (1/130 of the rate from day one)")),
           ("legal_utility", _l("a management company, HOA or utility (1/300 from day one)"))]


class PenaltyForm(Form):
    amount = StringField(_l("Debt, ₽"), validators=[DataRequired(_l("Enter the debt."))],
                         render_kw={"inputmode": "decimal"})
    due_date = DateField(_l("Due date"), validators=[DataRequired(_l("Enter the due date."))])
    paid_on = DateField(_l("Paid on (or the date to count to)"), validators=[DataRequired(_l("Enter the date."))])
    scheme = SelectField(_l("Who owes"), choices=[SelectChoice(code, label) for code, label in SCHEMES])


class EstimateForm(Form):
    region = SelectField(_l("Region"))
    category = SelectField(_l("Consumer category"))
    zones = SelectField(_l("Meter"), choices=[SelectChoice("1", _l("single rate")), SelectChoice("2", _l("two zones")),
                                               SelectChoice("3", _l("three zones"))])
    month = DateField(_l("Month"), format="%Y-%m", validators=[Optional()], render_kw={"type": "month"})
    T1 = StringField(_l("T1 (or total), kWh"), validators=[DataRequired(_l("Enter the consumption."))],
                     render_kw={"inputmode": "decimal"})
    T2 = StringField(_l("T2 night, kWh"), render_kw={"inputmode": "decimal"})
    T3 = StringField(_l("T3 semi-peak, kWh"), render_kw={"inputmode": "decimal"})


@bp.route("/penalty", methods=["GET", "POST"])
def penalty():
    form = PenaltyForm()
    result = None
    if form.validate_on_submit():
        try:
            result = calculators.penalty(form.amount.data, form.due_date.data, form.paid_on.data, form.scheme.data)
        except ServiceError as error:
            show_error(form, error)
    return render_template("calculators/penalty.html", form=form, result=result)


@bp.route("/bill", methods=["GET", "POST"])
def bill():
    form = EstimateForm()
    options = calculators.choices()
    form.region.choices = [SelectChoice(r, r) for r in options["regions"]]
    form.category.choices = [SelectChoice(c, c) for c in options["categories"]]
    lines, period = None, period_of(local_today())
    if form.validate_on_submit():
        period = period_of(form.month.data or date.today())
        zones = int(form.zones.data)
        quantities = {zone: form[zone].data or "" for zone in ("T1", "T2", "T3")[:zones]}
        try:
            lines = calculators.estimate(form.region.data, form.category.data, "electricity", quantities, period)
        except ServiceError as error:
            show_error(form, error)
    return render_template("calculators/bill.html", form=form, lines=lines, period=period,
                           resources=RESOURCES)
