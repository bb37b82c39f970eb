"""The customer's consumption charts. The page is a frame: the numbers come from the JSON API
(`/api/v1/accounts/<id>/consumption`), which the chart, its table view and the downloads share, so
that what is drawn, what is listed and what is downloaded are the same numbers."""
from datetime import time

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import ZoneHours
from app.policy import require
from app.services import accounts, readings
from app.services.periods import local_today
from app.services.resources import RESOURCES, ZONE_LABELS
from app.web.cabinet import bp


def zone_spans(zones: int, day) -> list[dict]:
    """The zone hours in force on `day` for the shading of the hourly chart: [{zone, from, to}] in
    local hours, a span over midnight cut in two."""
    if zones < 2:
        return []
    rows = db.session.scalars(select(ZoneHours).where(ZoneHours.zones == zones, ZoneHours.valid_from <= day)
                              .order_by(ZoneHours.valid_from.desc())).all()
    newest = [r for r in rows if r.valid_from == rows[0].valid_from] if rows else []
    spans = []
    for row in newest:
        start, end = row.starts.hour + row.starts.minute / 60, row.ends.hour + row.ends.minute / 60
        if row.ends <= row.starts and row.ends != time(0):
            spans += [{"zone": row.zone, "from": start, "to": 24}, {"zone": row.zone, "from": 0, "to": end}]
        else:
            spans.append({"zone": row.zone, "from": start, "to": end or 24})
    return sorted(spans, key=lambda span: span["from"])


@bp.get("/accounts/<int:account_id>/consumption")
@require("cabinet.use")
def consumption(account_id):
    account = accounts.get_for(current_user, account_id)
    meters = readings.meters_of(account)
    if not meters:
        return render_template("cabinet/consumption.html", account=account, meters=[], meter=None)
    wanted = request.args.get("meter", type=int)
    meter = next((m for m in meters if m.id == wanted), None) if wanted else \
        next((m for m in meters if m.askue), meters[0])
    if meter is None:
        abort(404)
    today = local_today()
    return render_template("cabinet/consumption.html", account=account, meters=meters, meter=meter,
                           resources=RESOURCES, today=today,
                           zone_names={code: str(name) for code, name in ZONE_LABELS[meter.zones].items()},
                           spans=zone_spans(meter.zones, today))
