"""Staff: online payments — search, a payment's history, refunds with a reason, and the reconciliation
report (ours against each provider's view) as a spreadsheet."""
import io
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook

from app.extensions import db
from app.models import Payment
from app.policy import require
from app.services import payments
from app.services.errors import ServiceError
from app.services.periods import local_today
from app.web.staff import bp


@bp.get("/payments")
@require("billing.manage")
def payments_page():
    found = payments.search(request.args.get("q", ""), request.args.get("status") or None,
                            request.args.get("provider") or None)
    return render_template("staff/payments.html", payments=found, today=local_today())


@bp.route("/payments/<int:payment_id>", methods=["GET", "POST"])
@require("billing.manage")
def payment_page(payment_id):
    payment = db.session.get(Payment, payment_id) or abort(404)
    if request.method == "POST":
        try:
            payments.refund(current_user, payment.id, request.form.get("amount", ""), request.form.get("reason", ""))
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("The refund is made."), "success")
            return redirect(url_for("staff.payment_page", payment_id=payment.id))
    return render_template("staff/payment.html", payment=payment, history=payments.history(payment))


@bp.get("/payments/reconciliation.xlsx")
@require("billing.manage")
def reconciliation():
    try:
        day_to = date.fromisoformat(request.args.get("to") or local_today().isoformat())
        day_from = date.fromisoformat(request.args.get("from") or (day_to - timedelta(days=1)).isoformat())
    except ValueError:
        abort(400)
    book = Workbook()
    sheet = book.active
    sheet.title = "Сверка"
    sheet.append(["Платёж", "Провайдер", "Номер у провайдера", "Создан", "Лицевой счёт", "Сумма", "Статус у нас",
                  "Статус у провайдера", "Сумма у провайдера", "Совпадает"])
    for row in payments.reconciliation(day_from, day_to):
        sheet.append([row["payment"], row["provider"], row["provider_id"], row["created_at"].replace(tzinfo=None),
                      row["account"], row["amount"], row["ours"], row["theirs"], row["their_amount"],
                      "да" if row["matches"] else "НЕТ"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return send_file(out, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download_name=f"reconciliation-{day_from}-{day_to}.xlsx")
