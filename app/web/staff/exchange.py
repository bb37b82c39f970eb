"""Staff: import accounts, meters and opening balances from the external billing system, and export
readings and payments for it."""
from datetime import date

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from app.policy import require
from app.services import billing_exchange
from app.services.errors import ServiceError
from app.services.periods import local_today, period_of
from app.web.forms import Form
from app.web.staff import bp

FORMATS = [SelectChoice("xlsx", "XLSX (Excel)"), SelectChoice("csv", "CSV")]


class ImportForm(Form):
    kind = SelectField(_l("What the file holds"), choices=[
        SelectChoice("accounts", _l("accounts")), SelectChoice("meters", _l("meters")),
        SelectChoice("balances", _l("opening balances"))])
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])
    skip_errors = BooleanField(_l("Apply the good rows and skip the wrong ones"),
                               description=_l("Without this, a file with any wrong row changes nothing."))


class ExportForm(Form):
    what = SelectField(_l("Export"), choices=[SelectChoice("readings", _l("readings of a month")),
                                               SelectChoice("payments", _l("payments for dates"))])
    month = DateField(_l("Month"), format="%Y-%m", render_kw={"type": "month"},
                      validators=[DataRequired(_l("Choose the month."))])
    date_to = DateField(_l("Payments to (for payments: from the first day of the month)"), validators=[])
    format = SelectField(_l("Format"), choices=FORMATS)


@bp.route("/billing/exchange", methods=["GET", "POST"])
@require("billing.manage")
def billing_exchange_page():
    form, report = ImportForm(), None
    if form.validate_on_submit():
        upload = form.file.data
        report = billing_exchange.import_file(form.kind.data, upload.filename or "upload", upload.read(),
                                              skip_errors=form.skip_errors.data, actor=current_user)
        if report.applied_ok:
            flash(_("Applied %(n)d of %(total)d rows.", n=report.applied, total=report.total), "success")
        else:
            flash(_("Nothing was applied: fix the file and upload it again."), "danger")
    export = ExportForm(formdata=None, data={"month": period_of(local_today()), "date_to": local_today()})
    return render_template("staff/exchange.html", form=form, report=report, export=export)


@bp.post("/billing/export")
@require("billing.manage")
def billing_export():
    form = ExportForm()
    if not form.validate_on_submit():
        flash(_("Choose what to export and the month."), "danger")
        return redirect(url_for("staff.billing_exchange_page"))
    try:
        if form.what.data == "readings":
            filename, content = billing_exchange.export_readings(form.month.data, form.format.data)
        else:
            filename, content = billing_exchange.export_payments(form.month.data, form.date_to.data or date.today(),
                                                                 form.format.data)
    except (ServiceError, ValueError) as error:
        flash(str(getattr(error, "message", error)), "danger")
        return redirect(url_for("staff.billing_exchange_page"))
    mimetype = "text/csv" if filename.endswith(".csv") else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
