"""The operator's meter groups: the list and the create form, members added and removed by serial or
point code, the range form with its errors kept, the chart data, the tables and the CSV of the same
numbers; refused to customers and specialists."""
import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import AskuePoint, AuditEvent, MeterGroup, MeterGroupMember
from app.services import askue_storage
from app.services import group_consumption as groups
from askue.series import Series
from tests.factories import PASSWORD
from tests.helpers import Browser

NOV1 = datetime(2026, 10, 31, 21, 0, tzinfo=timezone.utc)  # 1 November 2026, 00:00 in Moscow


@pytest.fixture
def operator(client, users):
    client.login(users.staff(policy.OPERATOR).email, PASSWORD)
    return client


def _meter(users, billing, code=None, serial=None):
    meter = billing.meter(users.account(), askue=True, serial=serial)
    billing.askue_point(meter, code=code)
    return meter


def _store(meter, start, values):
    code = db.session.scalar(select(AskuePoint.code).where(AskuePoint.meter_id == meter.id))
    askue_storage.store([Series(code, "A+", start, 30, values)], askue_storage.point_index([code]))
    db.session.commit()


def _input(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


def test_the_operator_creates_a_group_and_edits_its_members(operator, users, billing):
    head = _meter(users, billing, serial="HEAD-0001")
    a = _meter(users, billing, code="POINT-A", serial="SER-A")
    b = _meter(users, billing, serial="SER-B")

    listing = operator.get("/staff/askue/groups")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and '<html lang="ru">' in html
    assert 'href="/staff/askue/groups"' in html and 'aria-current="page"' in html  # the tab
    assert 'name="csrf_token"' in html

    created = operator.submit("/staff/askue/groups", {"code": "F-14", "name": "Фидер 14", "kind": "feeder",
                                                      "input_meter": "HEAD-0001"})
    assert created.status_code == 302
    group = db.session.scalar(select(MeterGroup).where(MeterGroup.code == "F-14"))
    assert group.input_meter_id == head.id and group.kind == "feeder"
    page = f"/staff/askue/groups/{group.id}"
    assert created.headers["Location"].endswith(page)

    for reference in ("POINT-A", "SER-B"):
        added = operator.submit(page, {"meter": reference}, action=f"{page}/members")
        assert added.status_code == 302, added.get_data(as_text=True)
    html = operator.get(page).get_data(as_text=True)
    assert "SER-A" in html and "SER-B" in html and "POINT-A" in html

    removed = operator.submit(page, {}, action=f"{page}/members/{a.id}/remove")
    assert removed.status_code == 302
    members = db.session.scalars(select(MeterGroupMember.meter_id).where(MeterGroupMember.group_id == group.id)).all()
    assert members == [b.id]
    assert "F-14" in operator.get("/staff/askue/groups").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "meter_group")).all()
    assert sorted(actions) == ["meter_group.created", "meter_group.member_added", "meter_group.member_added",
                               "meter_group.member_removed"]


def test_bad_input_is_explained_and_what_was_typed_is_kept(operator, users, billing):
    _meter(users, billing, serial="SER-A")
    operator.submit("/staff/askue/groups", {"code": "F-1", "name": "Фидер", "kind": "list", "input_meter": ""})

    again = operator.submit("/staff/askue/groups", {"code": "F-1", "name": "Второй", "kind": "substation",
                                                    "input_meter": "NO-SUCH"})
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    assert 'value="Второй"' in _input(html, "name") and 'value="F-1"' in _input(html, "code")
    assert 'id="code-error"' in html
    assert db.session.scalar(select(MeterGroup.name).where(MeterGroup.code == "F-1")) == "Фидер"

    wrong_input = operator.submit("/staff/askue/groups", {"code": "F-2", "name": "Второй", "kind": "feeder",
                                                          "input_meter": "NO-SUCH"})
    html = wrong_input.get_data(as_text=True)
    assert 'id="input_meter-error"' in html and "NO-SUCH" in _input(html, "input_meter")
    assert 'value="F-2"' in _input(html, "code")

    group = db.session.scalar(select(MeterGroup).where(MeterGroup.code == "F-1"))
    page = f"/staff/askue/groups/{group.id}"
    operator.submit(page, {"lang": "en", "next": page}, action="/language")
    html = operator.submit("/staff/askue/groups", {"code": "F-1", "name": "Второй", "kind": "list"}).get_data(
        as_text=True)
    assert "A group with the code F-1 already exists." in html
    missing = operator.submit(page, {"meter": "NOPE-42"}, action=f"{page}/members")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and 'value="NOPE-42"' in _input(html, "meter")
    assert "There is no meter with the serial number or ASKUE point code NOPE-42." in html

    for query, field, text in (("from=2026-13-01&to=2026-11-02&step=day", "from", "YYYY-MM-DD"),
                               ("from=2026-01-01&to=2026-12-31&step=day", "to", "at most 92 days"),
                               ("from=2026-01-01&to=2026-01-02&step=week", "step", "day or month")):
        html = operator.get(f"{page}?{query}").get_data(as_text=True)
        assert f'id="{field}-error"' in html and text in html, query
        assert 'id="group-chart-data"' not in html
    html = operator.get(f"{page}?from=2026-13-01&to=2026-11-02&step=day").get_data(as_text=True)
    assert 'value="2026-13-01"' in _input(html, "from")


def test_customers_and_specialists_are_refused(app, users, billing):
    meter = _meter(users, billing)
    staff = users.staff(policy.OPERATOR)
    group = groups.create_group("F-9", "Фидер", "feeder", "", staff)
    groups.add_member(group, meter.serial, staff)
    for user in (users.customer(), users.staff(policy.SPECIALIST)):
        browser = Browser(app.test_client())
        browser.login(user.email, PASSWORD)
        for path in ("/staff/askue/groups", f"/staff/askue/groups/{group.id}",
                     f"/staff/askue/groups/{group.id}?from=2026-11-01&to=2026-11-02&step=day&format=csv"):
            assert browser.get(path).status_code == 403, (user.roles, path)
        token = browser.csrf("/profile/")
        for path, data in (("/staff/askue/groups", {"code": "X", "name": "X", "kind": "list"}),
                           (f"/staff/askue/groups/{group.id}/members", {"meter": meter.serial}),
                           (f"/staff/askue/groups/{group.id}/members/{meter.id}/remove", {})):
            assert browser.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    db.session.expire_all()
    assert db.session.scalar(select(MeterGroup.id).where(MeterGroup.code == "X")) is None
    assert len(groups.members_of(group.id)) == 1


def _numbers(cells: list[str]) -> list[float | None]:
    """Numbers as the page prints them (Russian: spaces between thousands, a comma) or as the CSV
    writes them."""
    out = []
    for cell in cells:
        cell = re.sub(r"<[^>]+>", "", cell).strip().replace("\xa0", "").replace("\u202f", "").replace(" ", "")
        out.append(None if cell in ("—", "") else float(cell.replace(",", ".")))
    return out


def test_the_chart_the_table_and_the_csv_hold_the_same_numbers(operator, users, billing):
    staff = users.staff(policy.OPERATOR)
    a, b, head = _meter(users, billing), _meter(users, billing), _meter(users, billing)
    _store(a, NOV1, [1000] * 96)
    _store(b, NOV1, [250] * 48)
    _store(head, NOV1, [1300] * 48)  # 1 November only
    group = groups.create_group("F-7", "Фидер 7", "feeder", head.serial, staff)
    for meter in (a, b):
        groups.add_member(group, meter.serial, staff)
    query = "from=2026-11-01&to=2026-11-03&step=day"

    html = operator.get(f"/staff/askue/groups/{group.id}?{query}").get_data(as_text=True)
    chart = json.loads(re.search(r'<script type="application/json" id="group-chart-data">(.*?)</script>', html,
                                 re.S).group(1))
    assert chart["balance"] is True
    assert [p["members"] for p in chart["points"]] == [60.0, 48.0, None]
    assert [p["input"] for p in chart["points"]] == [62.4, None, None]
    assert chart["points"][0]["losses"] == 2.4 and chart["points"][0]["losses_pct"] == 3.85
    assert "js/group_consumption.js" in html and "vendor/echarts.min.js" in html
    assert "table-responsive" in html and "<caption" in html and 'scope="col"' in html and 'scope="row"' in html

    body = re.search(r'<table[^>]*id="group-table".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    table_rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        table_rows.append([cells[0].strip()] + _numbers([cells[1]]) + _numbers(cells[3:]))
    assert table_rows[0] == ["2026-11-01", 60.0, 62.4, 2.4, 3.85]

    download = operator.get(f"/staff/askue/groups/{group.id}?{query}&format=csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig")), delimiter=";"))
    assert len(lines[0]) == 6 and lines[0][-1].endswith(", %")
    csv_rows = [[line[0]] + _numbers([line[1]]) + _numbers(line[3:]) for line in lines[1:]]
    assert csv_rows == table_rows

    top = re.search(r'<table[^>]*id="top-table".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert top.index(a.serial) < top.index(b.serial)
    assert "88,89" in top and "11,11" in top  # shares: 108 kWh of which 96 and 12


def test_months_are_shown_by_month(operator, users, billing):
    staff = users.staff(policy.OPERATOR)
    a = _meter(users, billing)
    _store(a, NOV1, [100] * 48 * 2)
    group = groups.create_group("F-8", "Фидер 8", "list", "", staff)
    groups.add_member(group, a.serial, staff)
    download = operator.get(f"/staff/askue/groups/{group.id}?from=2026-10-01&to=2026-11-30&step=month&format=csv")
    lines = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig")), delimiter=";"))
    assert [line[:2] for line in lines[1:]] == [["2026-10", ""], ["2026-11", "9.6"]]
    assert len(lines[0]) == 3  # no input meter: no balance columns


def test_the_default_range_is_this_month_by_day(operator, users, billing):
    group = groups.create_group("F-5", "Фидер 5", "list", "", users.staff(policy.OPERATOR))
    html = operator.get(f"/staff/askue/groups/{group.id}").get_data(as_text=True)
    assert 'id="group-chart-data"' in html
    assert re.search(r'value="\d{4}-\d{2}-01"', _input(html, "from"))
    assert 'value="day" checked' in html or 'checked value="day"' in html or re.search(
        r'<input[^>]*checked[^>]*value="day"|<input[^>]*value="day"[^>]*checked', html)
