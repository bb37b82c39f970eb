"""Staff: the disclosure compliance dashboard — what is due soon, overdue, or never published."""
from itertools import groupby

from flask import render_template, request

from app.policy import require
from app.services import disclosure_compliance as compliance
from app.services import disclosure_periods as periods
from app.services.periods import local_today
from app.web.staff import bp

# Bootstrap badge classes; the badge always carries its text too, colour only repeats it.
BADGES = {
    compliance.OK: "text-bg-success",
    compliance.DUE_SOON: "text-bg-warning",
    compliance.WAITING: "text-bg-light border",
    compliance.OVERDUE: "text-bg-danger",
    compliance.NEVER: "text-bg-dark",
    compliance.INCOMPLETE: "text-bg-info",
    compliance.WITHDRAWN: "text-bg-secondary",
}


@bp.get("/disclosure/", endpoint="disclosure_compliance")
@require("disclosure.publish")
def disclosure_compliance():
    today = local_today()
    rows = compliance.status(today)
    counts = compliance.counts(rows)
    state = request.args.get("state", "")
    if state not in compliance.STATES:
        state = ""
    shown = [r for r in rows if r.state == state] if state else rows
    groups = [(standard, list(members)) for standard, members in groupby(shown, key=lambda r: r.standard)]
    return render_template("staff/disclosure_compliance.html", groups=groups, counts=counts, state=state,
                           total=len(rows), today=today, states=compliance.STATES,
                           labels=compliance.STATE_LABELS, badges=BADGES,
                           periodicities=periods.PERIODICITY_LABELS,
                           window=compliance.remind_days())
