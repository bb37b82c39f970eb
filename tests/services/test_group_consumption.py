"""Groups of meters: the members' sums by day and month from the daily and monthly sums, partial
points, the top consumers and their shares, the balance with its losses, the caps, and keeping groups
(finding meters by serial or point code, refusals)."""
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import AskuePoint, AuditEvent, MeterGroup
from app.services import askue_storage
from app.services import group_consumption as groups
from app.services.errors import InvalidInput
from askue.series import Series

UTC = timezone.utc
NOV1 = datetime(2026, 10, 31, 21, 0, tzinfo=UTC)  # 1 November 2026, 00:00 in Moscow
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def operator(users):
    return users.staff("operator")


def _meter(users, billing, account=None, code=None):
    meter = billing.meter(account or users.account(), askue=True)
    billing.askue_point(meter, code=code)
    return meter


def _store(meter, start, values, minutes=30):
    code = db.session.scalar(select(AskuePoint.code).where(AskuePoint.meter_id == meter.id))
    askue_storage.store([Series(code, "A+", start, minutes, values)], askue_storage.point_index([code]))
    db.session.commit()


def _group(operator, members, input_meter=None, code="F-1"):
    group = groups.create_group(code, "Фидер 1", "feeder", input_meter.serial if input_meter else "", operator)
    for meter in members:
        groups.add_member(group, meter.serial, operator)
    return group


def _run(group, first, last, step="day"):
    with force_locale("en"):
        return groups.consumption(group, first, last, step, now=NOW)


def test_the_members_are_summed_by_day_and_a_short_member_makes_the_day_partial(app, users, billing, operator):
    a, b = _meter(users, billing), _meter(users, billing)
    _store(a, NOV1, [100] * 96)  # 1 and 2 November whole, 4.8 kWh a day
    _store(b, NOV1, [250] * 48)  # 1 November whole, 12 kWh
    _store(b, NOV1 + timedelta(days=1), [250] * 40)  # 2 November: 40 of 48 half-hours
    group = _group(operator, [a, b])

    data = _run(group, date(2026, 11, 1), date(2026, 11, 3))

    assert [p["members"] for p in data["points"]] == [16.8, 14.8, None]
    assert [p["quality"] for p in data["points"]] == ["measured", "partial", "missing"]
    assert data["points"][0]["start"] == "2026-11-01T00:00:00+03:00"
    assert data["totals"] == {"members": 31.6}
    assert data["balance"] is False and "input" not in data["points"][0]


def test_a_member_without_data_on_a_day_makes_it_partial(app, users, billing, operator):
    a, b = _meter(users, billing), _meter(users, billing)
    _store(a, NOV1, [100] * 48)
    group = _group(operator, [a, b])
    data = _run(group, date(2026, 11, 1), date(2026, 11, 1))
    assert data["points"][0]["members"] == 4.8 and data["points"][0]["quality"] == "partial"


def test_months_come_from_the_monthly_sums_and_a_cut_month_from_its_days(app, users, billing, operator):
    a, b = _meter(users, billing), _meter(users, billing)
    _store(a, NOV1, [100] * 48 * 30)  # all of November: 144 kWh
    _store(b, NOV1 + timedelta(days=29), [100] * 48 * 3)  # 30 November, 1 and 2 December
    group = _group(operator, [a, b])

    data = _run(group, date(2026, 11, 1), date(2026, 12, 1), "month")

    assert [p["from"] for p in data["points"]] == ["2026-11-01", "2026-12-01"]
    assert [p["to"] for p in data["points"]] == ["2026-11-30", "2026-12-01"]
    assert [p["members"] for p in data["points"]] == [148.8, 4.8]  # December cut to its first day
    # b was silent most of November, a in December
    assert [p["quality"] for p in data["points"]] == ["partial", "partial"]
    assert data["totals"]["members"] == 153.6


def test_the_top_consumers_with_their_shares(app, users, billing, operator):
    meters = [_meter(users, billing) for _ in range(12)]
    for n, meter in enumerate(meters):
        _store(meter, NOV1, [10 * (n + 1)] * 48)
    group = _group(operator, meters)

    data = _run(group, date(2026, 11, 1), date(2026, 11, 1))

    top = data["top"]
    total = sum(480 * (n + 1) for n in range(12))  # Wh
    assert len(top) == 10
    assert [t["serial"] for t in top] == [m.serial for m in reversed(meters)][:10]
    assert top[0]["kwh"] == 5.76 and top[0]["share"] == round(5760 * 100 / total, 2)
    assert data["totals"]["members"] == total / 1000


def test_the_balance_gives_losses_and_none_where_the_input_has_no_data(app, users, billing, operator):
    account = users.account()
    a, b = _meter(users, billing, account), _meter(users, billing, account)
    head = _meter(users, billing, account, code="HEAD-1")
    _store(a, NOV1, [100] * 96)
    _store(b, NOV1, [100] * 96)
    _store(head, NOV1, [220] * 48)  # 1 November only: 10.56 kWh in, 9.6 out
    group = _group(operator, [a, b], input_meter=head)

    data = _run(group, date(2026, 11, 1), date(2026, 11, 2))

    first, second = data["points"]
    assert (first["input"], first["members"], first["losses"], first["losses_pct"]) == (10.56, 9.6, 0.96, 9.09)
    assert (second["input"], second["losses"], second["losses_pct"]) == (None, None, None)
    assert second["members"] == 9.6
    assert data["totals"] == {"members": 19.2, "input": 10.56, "losses": 0.96, "losses_pct": 9.09}
    assert data["group"]["input_meter"]["serial"] == head.serial


def test_a_balance_without_any_input_data(app, users, billing, operator):
    a, head = _meter(users, billing), _meter(users, billing)
    _store(a, NOV1, [100] * 48)
    group = _group(operator, [a], input_meter=head)
    data = _run(group, date(2026, 11, 1), date(2026, 11, 1))
    assert data["balance"] is True and data["points"][0]["input"] is None
    assert data["totals"] == {"members": 4.8, "input": None, "losses": None, "losses_pct": None}


@pytest.mark.parametrize("first, last, step, message", [
    (date(2026, 1, 1), date(2026, 4, 3), "day", "at most 92 days"),
    (date(2024, 1, 1), date(2027, 1, 1), "month", "at most 3 years"),
    (date(2026, 2, 1), date(2026, 1, 1), "day", "after its end"),
    (date(2026, 1, 1), date(2026, 1, 2), "hour", "day or month"),
])
def test_long_ranges_are_refused(app, users, billing, operator, first, last, step, message):
    group = _group(operator, [])
    with force_locale("en"), pytest.raises(InvalidInput) as refused:
        groups.consumption(group, first, last, step, now=NOW)
    with force_locale("en"):
        assert message in str(refused.value.message)


def test_the_longest_ranges_are_taken(app, users, billing, operator):
    group = _group(operator, [_meter(users, billing)])
    assert len(_run(group, date(2026, 1, 1), date(2026, 4, 2))["points"]) == 92
    assert len(_run(group, date(2024, 1, 15), date(2026, 12, 31), "month")["points"]) == 36


def test_meters_are_found_by_point_code_or_serial_and_refusals_are_clear(app, users, billing, operator):
    a = _meter(users, billing, code="POINT-A")
    b = _meter(users, billing)
    group = _group(operator, [])
    groups.add_member(group, "POINT-A", operator)
    groups.add_member(group, b.serial, operator)
    assert [m["meter_id"] for m in groups.members_of(group.id)] == sorted([a.id, b.id], key=lambda i: (
        a.serial if i == a.id else b.serial))
    with force_locale("en"):
        with pytest.raises(InvalidInput, match="already in this group"):
            groups.add_member(group, b.serial, operator)
        with pytest.raises(InvalidInput, match="no meter with the serial number or ASKUE point code NOPE"):
            groups.add_member(group, "NOPE", operator)
        with pytest.raises(InvalidInput, match="already exists"):
            groups.create_group("F-1", "Другой", "list", "", operator)
        with pytest.raises(InvalidInput, match="Choose the kind"):
            groups.create_group("F-2", "Другой", "street", "", operator)
    db.session.rollback()
    head = _meter(users, billing)
    fed = groups.create_group("F-3", "С головой", "substation", head.serial, operator)
    with force_locale("en"), pytest.raises(InvalidInput, match="input meter"):
        groups.add_member(fed, head.serial, operator)
    db.session.rollback()
    groups.remove_member(group, a.id, operator)
    assert [m["meter_id"] for m in groups.members_of(group.id)] == [b.id]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "meter_group")).all()
    assert actions.count("meter_group.created") == 2 and actions.count("meter_group.member_added") == 2
    assert "meter_group.member_removed" in actions
    assert db.session.scalar(select(MeterGroup.input_meter_id).where(MeterGroup.code == "F-3")) == head.id
