"""Staff: billing periods and the monthly close."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.models import AccountPeriod, BillingPeriod
from app.policy import require
from app.services import audit, billing
from app.services.periods import local_today, parse_period, period_of
from app.web.staff import bp


@bp.route("/billing", methods=["GET", "POST"])
@require("billing.manage")
def billing_periods():
    if request.method == "POST":
        try:
            period = parse_period(request.form.get("period", ""))
        except ValueError:
            flash(_("Choose the month to close."), "danger")
            return redirect(url_for("staff.billing_periods"))
        if period > period_of(local_today()):
            flash(_("A month in the future cannot be closed."), "danger")
            return redirect(url_for("staff.billing_periods"))
        result = billing.close_period(period)
        audit.record("billing.close", actor=current_user, object_type="billing_period", object_id=period.isoformat(),
                     details={"closed": result.closed, "skipped": result.skipped, "problems": len(result.problems)})
        db.session.commit()
        month = format_date(period, "LLLL yyyy")
        if result.problems:
            flash(_("%(month)s: %(n)d accounts closed, %(p)d could not be: %(reasons)s", month=month, n=result.closed,
                    p=len(result.problems), reasons="; ".join(sorted(set(result.problems.values()))[:3])), "warning")
        else:
            flash(_("%(month)s is closed: %(n)d accounts billed, %(s)d were closed before.", month=month,
                    n=result.closed, s=result.skipped), "success")
        return redirect(url_for("staff.billing_periods"))
    periods = db.session.execute(
        select(BillingPeriod, func.count(AccountPeriod.account_id), func.coalesce(func.sum(AccountPeriod.charged), 0))
        .outerjoin(AccountPeriod, AccountPeriod.period == BillingPeriod.period)
        .group_by(BillingPeriod.period).order_by(BillingPeriod.period.desc()).limit(36)).all()
    return render_template("staff/billing.html", periods=periods, current=period_of(local_today()))
