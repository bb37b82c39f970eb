"""Groups of meters: keeping them (a feeder, a substation, a list), and their consumption over a range
of local days by day or month, the group's top consumers and, for a group with an input meter, the
balance: what came in at the head, what the members used, and the losses between.

Everything is read from the daily and monthly sums (interval_day, interval_month, channel A+), never
from the raw values across meters: the members' rows of the range in one query, the input's in
another; a month the range cuts is summed from its days. The only look at the raw table is each
meter's newest interval by its primary key, for its interval length (what a complete day holds).

A point is "partial" when some member has fewer intervals than its day (or month) should hold, so a
sum that looks low because a meter was silent says so. A point where no member has data is
"missing", with null values. Values are kWh as JSON numbers, added up in whole Wh first.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import (GROUP_KINDS, Account, AskuePoint, IntervalDay, IntervalMonth, Meter, MeterGroup,
                        MeterGroupMember, Premises)
from app.models.types import utcnow
from app.services import audit
from app.services.consumption_charts import A_PLUS, DAY, latest_interval, local_days, parse_day, quality_of
from app.services.errors import InvalidInput, NotFound
from app.services.periods import last_day, next_period

STEPS = ("day", "month")
MAX_DAYS = 92
MAX_MONTHS = 36
TOP = 10
CAP_MESSAGES = {
    "day": _l("A group by day covers at most 92 days. Choose a shorter range or the step month."),
    "month": _l("A group by month covers at most 3 years (36 months). Choose a shorter range."),
}

__all__ = ["parse_day", "consumption", "create_group", "add_member", "remove_member", "members_of", "find_meter"]


# ---- keeping groups ------------------------------------------------------------------------------------------

def find_meter(reference: str, field: str) -> Meter:
    """A meter by its ASKUE point code or its serial number."""
    text = (reference or "").strip()
    if not text:
        raise InvalidInput(_l("Enter a meter serial number or an ASKUE point code."), field=field)
    meter = db.session.scalar(select(Meter).join(AskuePoint, AskuePoint.meter_id == Meter.id)
                              .where(AskuePoint.code == text))
    if meter is not None:
        return meter
    found = db.session.scalars(select(Meter).where(Meter.serial == text).limit(2)).all()
    if not found:
        raise InvalidInput(_l("There is no meter with the serial number or ASKUE point code %(ref)s.", ref=text),
                           field=field)
    if len(found) > 1:
        raise InvalidInput(_l("Several meters have the serial number %(ref)s: enter the ASKUE point code.", ref=text),
                           field=field)
    return found[0]


def create_group(code: str, name: str, kind: str, input_reference: str | None, actor) -> MeterGroup:
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise InvalidInput(_l("Enter the group code."), field="code")
    if not name:
        raise InvalidInput(_l("Enter the group name."), field="name")
    if kind not in GROUP_KINDS:
        raise InvalidInput(_l("Choose the kind: feeder, substation or list."), field="kind")
    if db.session.scalar(select(MeterGroup.id).where(MeterGroup.code == code)) is not None:
        raise InvalidInput(_l("A group with the code %(code)s already exists.", code=code), field="code")
    meter = find_meter(input_reference, "input_meter") if (input_reference or "").strip() else None
    group = MeterGroup(code=code, name=name, kind=kind, input_meter=meter)
    db.session.add(group)
    db.session.flush()
    audit.record("meter_group.created", actor=actor, obj=group,
                 details={"code": code, "kind": kind, "input_meter_id": meter.id if meter else None})
    db.session.commit()
    return group


def add_member(group: MeterGroup, reference: str, actor) -> Meter:
    meter = find_meter(reference, "meter")
    if meter.id == group.input_meter_id:
        raise InvalidInput(_l("This is the group's input meter: it cannot be a member too."), field="meter")
    if db.session.scalar(select(MeterGroupMember.id).where(MeterGroupMember.group_id == group.id,
                                                           MeterGroupMember.meter_id == meter.id)) is not None:
        raise InvalidInput(_l("The meter %(serial)s is already in this group.", serial=meter.serial), field="meter")
    db.session.add(MeterGroupMember(group_id=group.id, meter_id=meter.id))
    audit.record("meter_group.member_added", actor=actor, obj=group,
                 details={"meter_id": meter.id, "serial": meter.serial})
    db.session.commit()
    return meter


def remove_member(group: MeterGroup, meter_id: int, actor) -> Meter:
    member = db.session.scalar(select(MeterGroupMember).where(MeterGroupMember.group_id == group.id,
                                                              MeterGroupMember.meter_id == meter_id))
    if member is None:
        raise NotFound(_l("This meter is not in the group."))
    meter = member.meter
    db.session.delete(member)
    audit.record("meter_group.member_removed", actor=actor, obj=group,
                 details={"meter_id": meter.id, "serial": meter.serial})
    db.session.commit()
    return meter


def members_of(group_id: int) -> list[dict]:
    """The members with their ASKUE point and account, in serial order, read in one query."""
    rows = db.session.execute(
        select(Meter.id, Meter.serial, Meter.model, AskuePoint.code, Account.id, Account.number)
        .join(MeterGroupMember, MeterGroupMember.meter_id == Meter.id)
        .join(Premises, Premises.id == Meter.premises_id).join(Account, Account.id == Premises.account_id)
        .outerjoin(AskuePoint, AskuePoint.meter_id == Meter.id)
        .where(MeterGroupMember.group_id == group_id).order_by(Meter.serial, Meter.id)).all()
    return [{"meter_id": r[0], "serial": r[1], "model": r[2], "point": r[3], "account_id": r[4], "account": r[5]}
            for r in rows]


# ---- consumption ---------------------------------------------------------------------------------------------

_day = IntervalDay.__table__.c
_month = IntervalMonth.__table__.c
_members = select(MeterGroupMember.meter_id).where(MeterGroupMember.group_id == bindparam("group"))
MEMBER_DAYS = (select(_day.meter_id, _day.day, _day.t1 + _day.t2 + _day.t3, _day.intervals, _day.substituted)
               .where(_day.meter_id.in_(_members), _day.channel == A_PLUS, _day.day >= bindparam("first"),
                      _day.day <= bindparam("last")))
MEMBER_MONTHS = (select(_month.meter_id, _month.month, _month.t1 + _month.t2 + _month.t3, _month.intervals,
                        _month.substituted)
                 .where(_month.meter_id.in_(_members), _month.channel == A_PLUS,
                        _month.month >= bindparam("first"), _month.month <= bindparam("last")))
INPUT_DAYS = (select(_day.meter_id, _day.day, _day.t1 + _day.t2 + _day.t3, _day.intervals, _day.substituted)
              .where(_day.meter_id == bindparam("meter"), _day.channel == A_PLUS, _day.day >= bindparam("first"),
                     _day.day <= bindparam("last")))
INPUT_MONTHS = (select(_month.meter_id, _month.month, _month.t1 + _month.t2 + _month.t3, _month.intervals,
                       _month.substituted)
                .where(_month.meter_id == bindparam("meter"), _month.channel == A_PLUS,
                       _month.month >= bindparam("first"), _month.month <= bindparam("last")))


@dataclass(frozen=True)
class _Point:
    start: datetime  # UTC
    stop: datetime
    first: date
    last: date
    key: date  # the day, or the month's first day
    whole_month: bool


def check(first: date, last: date, step: str) -> None:
    if step not in STEPS:
        raise InvalidInput(_l("Choose the step: day or month."), field="step")
    if first > last:
        raise InvalidInput(_l("The start of the range is after its end."), field="from")
    if step == "day" and (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(CAP_MESSAGES["day"], field="to")
    if step == "month" and (last.year - first.year) * 12 + last.month - first.month + 1 > MAX_MONTHS:
        raise InvalidInput(CAP_MESSAGES["month"], field="to")


def _points(first: date, last: date, step: str, tz: ZoneInfo) -> list[_Point]:
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tz).astimezone(timezone.utc)

    if step == "day":
        return [_Point(midnight(day), midnight(day + DAY), day, day, day, False) for day in local_days(first, last)]
    points = []
    month = first.replace(day=1)
    while month <= last:
        begin, end = max(month, first), min(last_day(month), last)
        points.append(_Point(midnight(begin), midnight(end + DAY), begin, end, month,
                             (begin, end) == (month, last_day(month))))
        month = next_period(month)
    return points


def _sums(points: list[_Point], step: str, day_statement, month_statement, params: dict) -> dict:
    """(meter, point index) -> [Wh, intervals, substituted] from the sums: days for a day step and for
    the months the range cuts, whole months from interval_month."""
    found: dict[tuple[int, int], list[int]] = {}
    first, last = points[0].first, points[-1].last
    index_of = {p.key: n for n, p in enumerate(points)}

    def add(meter_id, n, wh, intervals, substituted):
        sums = found.setdefault((meter_id, n), [0, 0, 0])
        sums[0] += wh
        sums[1] += intervals
        sums[2] += substituted

    if step == "day":
        for meter_id, day, wh, intervals, substituted in db.session.execute(
                day_statement, {**params, "first": first, "last": last}):
            add(meter_id, index_of[day], wh, intervals, substituted)
        return found
    whole = [p for p in points if p.whole_month]
    if whole:
        wanted = {p.key for p in whole}
        for meter_id, month, wh, intervals, substituted in db.session.execute(
                month_statement, {**params, "first": whole[0].key, "last": whole[-1].key}):
            if month in wanted:
                add(meter_id, index_of[month], wh, intervals, substituted)
    for point in (p for p in points if not p.whole_month):
        for meter_id, _day_, wh, intervals, substituted in db.session.execute(
                day_statement, {**params, "first": point.first, "last": point.last}):
            add(meter_id, index_of[point.key], wh, intervals, substituted)
    return found


def _expected(point: _Point, minutes: int, now: datetime) -> int:
    span = (min(point.stop, now) - point.start).total_seconds()
    return max(0, int(span // (minutes * 60)))


def _kwh(wh: int | None) -> float | None:
    return None if wh is None else wh / 1000


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 2) if whole else None


def _combined(qualities: Iterable[str]) -> str:
    """The quality of a group's point from its members': no data at all is missing; any member short
    of intervals (or without any while others have some) makes it partial."""
    qualities = set(qualities)
    if not qualities or qualities == {"missing"}:
        return "missing"
    if qualities & {"partial", "missing"}:
        return "partial"
    return "substituted" if "substituted" in qualities else "measured"


def consumption(group: MeterGroup, first: date, last: date, step: str, *, now: datetime | None = None) -> dict:
    """The group over local days `first`..`last` (inclusive) by day or month, JSON-ready: points with
    the members' sum, its quality, and for a group with an input meter the input and the losses;
    totals; the top consumers with their share of the group's sum."""
    check(first, last, step)
    now = now or utcnow()
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    points = _points(first, last, step, tz)
    members = members_of(group.id)
    member_ids = [m["meter_id"] for m in members]
    sums = _sums(points, step, MEMBER_DAYS, MEMBER_MONTHS, {"group": group.id})
    minutes = {meter_id: latest_interval(meter_id)[1] for meter_id in member_ids}
    input_sums = {}
    if group.input_meter_id is not None:
        input_sums = _sums(points, step, INPUT_DAYS, INPUT_MONTHS, {"meter": group.input_meter_id})

    out_points = []
    totals = {"members": 0, "input": 0, "members_under_input": 0}
    by_member = {meter_id: 0 for meter_id in member_ids}
    with_data = set()
    for n, point in enumerate(points):
        wh, qualities = None, []
        for meter_id in member_ids:
            found = sums.get((meter_id, n))
            if found is None or not found[1]:
                qualities.append("missing")
                continue
            wh = (wh or 0) + found[0]
            by_member[meter_id] += found[0]
            with_data.add(meter_id)
            qualities.append(quality_of(found[1], _expected(point, minutes[meter_id], now), found[2]))
        row = {"start": point.start.astimezone(tz).isoformat(), "from": point.first.isoformat(),
               "to": point.last.isoformat(), "members": _kwh(wh), "quality": _combined(qualities)}
        if wh is not None:
            totals["members"] += wh
        if group.input_meter_id is not None:
            found = input_sums.get((group.input_meter_id, n))
            given = found[0] if found is not None and found[1] else None
            row["input"] = _kwh(given)
            if given is None:
                row["losses"] = row["losses_pct"] = None
            else:
                losses = given - (wh or 0)
                row["losses"], row["losses_pct"] = _kwh(losses), _percent(losses, given)
                totals["input"] += given
                totals["members_under_input"] += wh or 0
        out_points.append(row)

    total = totals["members"]
    result_totals = {"members": _kwh(total)}
    balance = group.input_meter_id is not None
    if balance:
        losses = totals["input"] - totals["members_under_input"]
        any_input = any(p["input"] is not None for p in out_points)
        result_totals.update({
            "input": _kwh(totals["input"]) if any_input else None,
            "losses": _kwh(losses) if any_input else None,
            "losses_pct": _percent(losses, totals["input"]) if any_input else None,
        })
    info = {m["meter_id"]: m for m in members}
    ranked = sorted((meter_id for meter_id in with_data), key=lambda i: (-by_member[i], info[i]["serial"]))[:TOP]
    top = [{"meter_id": i, "serial": info[i]["serial"], "model": info[i]["model"], "point": info[i]["point"],
            "account": info[i]["account"], "kwh": _kwh(by_member[i]), "share": _percent(by_member[i], total)}
           for i in ranked]
    input_meter = group.input_meter
    return {
        "group": {"id": group.id, "code": group.code, "name": group.name, "kind": group.kind,
                  "members": len(member_ids),
                  "input_meter": {"id": input_meter.id, "serial": input_meter.serial, "model": input_meter.model}
                  if input_meter is not None else None},
        "step": step,
        "unit": "kwh",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "balance": balance,
        "points": out_points,
        "totals": result_totals,
        "top": top,
    }

