"""The consumption API: who may read which meter, the JSON, the CSV and XLSX of the points, and
problem+json for bad input."""
import codecs
import csv
import io
from datetime import date, datetime, timezone

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import askue_storage
from askue.series import Series
from tests.factories import PASSWORD
from tests.helpers import Browser

PROBLEM = "application/problem+json"
NOV1 = datetime(2026, 10, 31, 21, 0, tzinfo=timezone.utc)  # 1 November 2026, 00:00 in Moscow


def _meter(users, billing, owner, zones=2):
    account = users.account(owner=owner)
    meter = billing.meter(account, zones=zones, askue=True)
    billing.askue_point(meter)
    values = [100] * 96
    values[3] = None
    askue_storage.store([Series(meter.serial, "A+", NOV1, 30, values)], askue_storage.point_index([meter.serial]))
    db.session.commit()
    return account, meter


def _url(account, meter, **query):
    query = {"meter": meter.id, "from": "2026-11-01", "to": "2026-11-02", "step": "day", **query}
    return f"/api/v1/accounts/{account.id}/consumption?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_the_owner_reads_a_chart_as_json(client, users, billing):
    owner = users.customer()
    account, meter = _meter(users, billing, owner)
    client.login(owner.email, PASSWORD)

    response = client.api("GET", _url(account, meter))

    assert response.status_code == 200 and response.mimetype == "application/json"
    chart = response.get_json()
    assert chart["points"] == [
        {"start": "2026-11-01T00:00:00+03:00", "total": 4.7, "T1": 3.2, "T2": 1.5, "quality": "partial"},
        {"start": "2026-11-02T00:00:00+03:00", "total": 4.8, "T1": 3.2, "T2": 1.6, "quality": "measured"}]
    assert chart["totals"] == {"total": 9.5, "T1": 6.4, "T2": 3.1}
    assert chart["zones"] == [{"code": "T1", "name": "T1 day"}, {"code": "T2", "name": "T2 night"}]
    assert chart["as_of"] == "2026-11-03T00:00:00+03:00" and chart["meter"]["serial"] == meter.serial


def test_a_customer_cannot_read_someone_elses_account_or_meter(client, users, billing):
    owner, stranger = users.customer(), users.customer()
    account, meter = _meter(users, billing, owner)
    their_account, their_meter = _meter(users, billing, stranger)
    client.login(owner.email, PASSWORD)

    for url in (_url(their_account, their_meter), _url(account, their_meter), _url(their_account, meter)):
        response = client.api("GET", url)
        assert response.status_code == 404 and response.mimetype == PROBLEM, url
        assert "T1" not in response.get_data(as_text=True)
    db.session.rollback()
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert len(denied) == 3
    # A staff member with accounts.read_any sees it.
    staff, desk = users.staff(), Browser(client.application.test_client())
    desk.login(staff.email, PASSWORD)
    assert desk.api("GET", _url(their_account, their_meter)).status_code == 200


def test_without_login_the_answer_is_401(client, users, billing):
    account, meter = _meter(users, billing, users.customer())
    response = client.api("GET", _url(account, meter))
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_bad_input_is_a_problem_in_the_users_language(client, users, billing):
    owner = users.customer()
    account, meter = _meter(users, billing, owner)
    client.login(owner.email, PASSWORD)

    cases = [(_url(account, meter, **{"from": "01.11.2026"}), "from"),
             (_url(account, meter, to="2026-10-01"), "from"),
             (_url(account, meter, step="hour", to="2026-12-31"), "to"),
             (_url(account, meter, step="week"), "step"),
             (_url(account, meter, unit="usd"), "unit"),
             (_url(account, meter, format="pdf"), "format")]
    for url, field in cases:
        response = client.api("GET", url)
        assert response.status_code == 422 and response.mimetype == PROBLEM, url
        body = response.get_json()
        assert field in body["errors"] and body["detail"], url
    capped = client.api("GET", _url(account, meter, step="hour", to="2026-12-31")).get_json()
    assert "31 days" in capped["detail"]
    missing = client.api("GET", f"/api/v1/accounts/{account.id}/consumption?from=2026-11-01&to=2026-11-01")
    assert missing.status_code == 422 and "meter" in missing.get_json()["errors"]
    russian = client.open(_url(account, meter, step="week"), headers={"Accept-Language": "ru"})
    assert russian.status_code == 422 and russian.get_json()["title"] == "Проверьте данные"


def test_csv_holds_exactly_the_points_with_the_compared_column(client, users, billing):
    owner = users.customer()
    account, meter = _meter(users, billing, owner)
    client.login(owner.email, PASSWORD)

    response = client.api("GET", _url(account, meter, format="csv", compare="prev_period", step="hour",
                                      **{"from": "2026-11-02"}))

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="consumption_{meter.serial}_2026-11-02_2026-11-02_hour.csv"')
    content = response.get_data()
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 24
    # The hour before 02:00 on 1 November lost a half-hour; night hours are T2.
    assert rows[:3] == [
        ["Start", "Total, kWh", "T1 day, kWh", "T2 night, kWh", "Quality", "The period before, kWh"],
        ["2026-11-02T00:00:00+03:00", "0.2", "0", "0.2", "measured", "0.2"],
        ["2026-11-02T01:00:00+03:00", "0.2", "0", "0.2", "measured", "0.1"]]


def test_xlsx_holds_the_points_as_numbers(client, users, billing):
    owner = users.customer()
    account, meter = _meter(users, billing, owner, zones=1)
    client.login(owner.email, PASSWORD)

    response = client.api("GET", _url(account, meter, format="xlsx", to="2026-11-03"))

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('_day.xlsx"')
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Start", "Total, kWh", "Quality"],
        ["2026-11-01T00:00:00+03:00", 4.7, "incomplete"],
        ["2026-11-02T00:00:00+03:00", 4.8, "measured"],
        ["2026-11-03T00:00:00+03:00", None, "no data"]]


def test_a_token_reads_the_chart_too(client, users, billing):
    from app.services import api_tokens

    owner = users.customer()
    account, meter = _meter(users, billing, owner)
    _, token = api_tokens.create(owner, "meter display")
    response = client.api("GET", _url(account, meter, step="hour", to="2026-11-01"), token=token)
    assert response.status_code == 200 and len(response.get_json()["points"]) == 24
    assert date.fromisoformat(response.get_json()["to"]) == date(2026, 11, 1)
