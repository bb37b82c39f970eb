"""The generated disclosure items: tariffs in force (and those set for later), connection applications
by quarter counted from real cases, free capacity with totals; the same data as HTML, PDF and XLSX;
a snapshot published as a version that the next snapshot moves to the archive."""
import io
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Case, ConnectionRate, HumanTask
from app.models.disclosure import DisclosureDocument, DisclosureItem, SubstationCapacity
from app.services import cases, disclosure, file_store
from app.services import disclosure_generated as generated
from app.services.errors import Forbidden, NotFound
from app.services.periods import local_today
from tests.documents import pdf_text
from tests.workflows.test_technological_connection import APPLICATION, DIAGRAM, add_rates
from workflows import definitions, engine


def words_of(label) -> str:
    with force_locale("ru"):
        return str(label)


# --- tariffs -------------------------------------------------------------------------------------------

def test_tariffs_in_force_and_those_set_for_later(app, billing):
    today = local_today()
    billing.tariff(date(2020, 1, 1), "4.10")  # replaced: never shown
    billing.tariff(today - timedelta(days=100), "7.87")
    billing.tariff(today + timedelta(days=40), "8.66")  # approved, not in force yet
    billing.tariff(today - timedelta(days=10), "9.06", "3.05")
    billing.tariff(today - timedelta(days=10), "3213.35", resource="heat", category="other")
    db.session.add_all([
        ConnectionRate(valid_from=date(2020, 1, 1), kind="standard_per_kw", category="up_to_150",
                       amount=Decimal("5000")),
        ConnectionRate(valid_from=today - timedelta(days=1), kind="standard_per_kw", category="up_to_150",
                       amount=Decimal("9000"), note="Постановление № 1"),
        ConnectionRate(valid_from=today + timedelta(days=5), kind="standard_per_kw", category="up_to_150",
                       amount=Decimal("9500")),
    ])
    db.session.commit()

    report = generated.data_for("tariffs")
    now, later, rates_now, rates_later = report.tables
    prices_now = sorted(row[4] for row in now.rows)
    assert prices_now == [Decimal("3.05"), Decimal("7.87"), Decimal("9.06"), Decimal("3213.35")]
    assert [(row[4], row[6]) for row in later.rows] == [(Decimal("8.66"), today + timedelta(days=40))]
    assert [(row[2], row[3], row[4]) for row in rates_now.rows] == [(Decimal("9000"), today - timedelta(days=1),
                                                                     "Постановление № 1")]
    assert [row[2] for row in rates_later.rows] == [Decimal("9500")]
    labels = {str(row[0]) for row in now.rows}
    assert "population_urban" not in labels and "other" not in labels  # people read labels, not codes

    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        html = render_template("disclosure/generated/_tariffs.html", generated={"tariffs": report})
    assert "<caption>" in html and 'scope="col"' in html and 'scope="row"' in html
    assert re.search(r'class="text-end">\s*7,87\s*<', html), "prices right-aligned, Russian decimal comma"
    assert "4,1" not in html
    assert "style=" not in html and "<script" not in html

    pdf = generated.render_pdf("tariffs")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "7,87" in text and "8,66" in text and "3 213,35" in text and "9 000,00" in text and "4,10" not in text

    sheets = list(_xlsx_rows(generated.render_xlsx("tariffs")).values())
    assert len(sheets) == 4
    assert [r for r in sheets[0] if 7.87 in r] and not [r for r in sheets[0] if 8.66 in r]
    later_rows = [r for r in sheets[1] if 8.66 in r]
    assert later_rows and (today + timedelta(days=40)) in [v.date() for v in later_rows[0] if isinstance(v, datetime)]
    assert [r for r in sheets[2] if 9000 in r and "Постановление № 1" in r]


def _xlsx_rows(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [tuple(c for c in row) for row in sheet.iter_rows(values_only=True)] for sheet in book}


def test_text_from_a_row_never_becomes_a_formula(app):
    db.session.add(SubstationCapacity(substation="=HYPERLINK(\"http://evil\")", voltage="10/0,4 кВ",
                                      installed_mva=Decimal(1), max_load_mva=Decimal(1), reserved_mva=Decimal(0),
                                      free_mva=Decimal(0)))
    db.session.commit()
    book = openpyxl.load_workbook(io.BytesIO(generated.render_xlsx("free_capacity")))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value and str(c.value).startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


# --- connection applications by quarter ----------------------------------------------------------------

@pytest.fixture
def tp(app, tmp_path, users):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    add_rates()
    return {"applicant": users.customer(), "engineer": users.staff("specialist", groups=["connection"]),
            "fitter": users.staff("specialist", groups=["metering"])}


def _task(case, spec):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.spec == spec))


def _to_offer(tp, **changes):
    case = cases.start(tp["applicant"], "technological_connection", {**APPLICATION, **changes})
    cases.complete(tp["engineer"], _task(case, "completeness").id, {"complete": True})
    cases.complete(tp["engineer"], _task(case, "prepare_conditions").id, {
        "connection_point": "РУ-0,4 кВ ТП-125", "supply_source": "ПС 110/10 кВ «Лаговская»",
        "grid_works_rows": [{"item": "Строительство ВЛИ-0,4 кВ"}],
        "applicant_works_rows": [{"item": "Вводное устройство"}]})
    return case


def _dated(case, opened: date, closed: date | None = None, status: str | None = None):
    """Move the case's dates into the year under test (the engine stamps them with the real clock)."""
    case = db.session.get(Case, case.id)
    case.opened_at = datetime.combine(opened, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9)
    if closed is not None:
        case.closed_at = datetime.combine(closed, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9)
    if status is not None:
        case.status = status
    db.session.commit()
    return case


def _connect(tp, case):
    cases.complete(tp["engineer"], _task(case, "grid_works").id, {"grid_works_done": True})
    cases.complete(tp["applicant"], _task(case, "readiness_notice").id, {"applicant_ready": True})
    cases.complete(tp["fitter"], _task(case, "inspection").id, {
        "meter_model": "Меркурий 201.8", "meter_number": "46211234", "meter_initial_reading": "0.8",
        "balance_boundary": "На контактах опоры № 12", "connected_on": date.today().isoformat()})


def _counts(table) -> dict[str, tuple]:
    return {words_of(row[0]): tuple(row[1:]) for row in table.rows}


def test_applications_counted_by_quarter_power_and_stage(tp):
    year = local_today().year - 1
    # Still open, filed in Q1: 10 kW.
    a = cases.start(tp["applicant"], "technological_connection", {**APPLICATION, "max_power": "10"})
    _dated(a, date(year, 2, 10))
    # 100 kW, filed in Q2, the applicant refused the contract in Q2.
    b = _to_offer(tp, max_power="100")
    cases.complete(tp["applicant"], _task(b, "offer_decision").id, {"offer_decision": "refuse"})
    assert db.session.get(Case, b.id).status == "closed"  # a refusal closes the case like a connection does
    _dated(b, date(year, 5, 5), date(year, 6, 1))
    # 15 kW, filed in Q3, paid (contract) in Q3, connected in Q4.
    c = _to_offer(tp, max_power="15")
    engine.correlate(c.id, "invoice_paid", {"paid_on": f"{year}-08-20", "amount": "52500.00"})
    _connect(tp, c)
    _dated(c, date(year, 8, 1), date(year, 10, 15))
    # 300 kW, filed in Q4, open.
    d = cases.start(tp["applicant"], "technological_connection", {**APPLICATION, "max_power": "300"})
    _dated(d, date(year, 11, 20))
    # Filed the year before at 150 kW and still open: in progress all year, filed in none of its quarters.
    e = cases.start(tp["applicant"], "technological_connection", {**APPLICATION, "max_power": "150"})
    _dated(e, date(year - 1, 12, 20))
    # 5 kW, filed in Q4 and cancelled in Q4.
    f = cases.start(tp["applicant"], "technological_connection", {**APPLICATION, "max_power": "5"})
    _dated(f, date(year, 10, 1), date(year, 12, 1), status="cancelled")
    # Connected the year before: not in this year at all.
    g = cases.start(tp["applicant"], "technological_connection", {**APPLICATION, "max_power": "7"})
    _dated(g, date(year - 1, 3, 1), date(year - 1, 4, 1), status="cancelled")

    report = generated.data_for("tp_stats", year=year)
    assert report.year == year and year - 1 in report.years and year in report.years
    q1, q2, q3, q4 = report.tables
    up15, up150, up670, above = (words_of(label) for _code, label in generated.POWER_CATEGORIES)
    none = (0, 0, 0, 0, 0)
    #                                 filed contracts connected ended in_progress
    assert _counts(q1) == {up15: (1, 0, 0, 0, 1), up150: (0, 0, 0, 0, 1), up670: none, above: none}
    assert _counts(q2) == {up15: (0, 0, 0, 0, 1), up150: (1, 0, 0, 1, 1), up670: none, above: none}
    assert _counts(q3) == {up15: (1, 1, 0, 0, 2), up150: (0, 0, 0, 0, 1), up670: none, above: none}
    assert _counts(q4) == {up15: (1, 0, 1, 1, 1), up150: (0, 0, 0, 0, 1), up670: (1, 0, 0, 0, 1), above: none}
    assert tuple(q4.totals[1:]) == (2, 0, 1, 1, 3)

    pdf = generated.render_pdf("tp_stats", year=year)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    total = words_of(q4.totals[0])
    assert f"{words_of(up670)} 1 0 0 0 1" in text
    assert f"{total} 2 0 1 1 3" in text and f"{total} 1 1 0 0 3" in text  # Q4 and Q3
    assert str(year) in text

    sheets = _xlsx_rows(generated.render_xlsx("tp_stats", year=year))
    assert list(sheets) == [f"I {year}", f"II {year}", f"III {year}", f"IV {year}"]
    assert (words_of(up15), 1, 0, 1, 1, 1) in sheets[f"IV {year}"]
    assert (total, 2, 0, 1, 1, 3) in sheets[f"IV {year}"]

    with current_app.test_request_context("/", headers={"Accept-Language": "ru"}):
        html = render_template("disclosure/generated/_tp_stats.html", generated=report)
    assert html.count("<caption>") == 4 and "<tfoot>" in html


def test_the_current_year_shows_the_quarters_begun(tp):
    today = local_today()
    case = cases.start(tp["applicant"], "technological_connection", APPLICATION)
    report = generated.data_for("tp_stats")
    assert report.year == today.year and len(report.tables) == (today.month - 1) // 3 + 1
    last = report.tables[-1]
    assert last.totals[1] == 1 and last.totals[5] == 1, "filed now, in progress now"
    assert db.session.get(Case, case.id).status == "open"
    with pytest.raises(NotFound):
        generated.data_for("tp_stats", year=today.year + 1)


# --- free capacity -----------------------------------------------------------------------------------

def _capacity(substation, voltage, installed, load, reserved, free, note=""):
    row = SubstationCapacity(substation=substation, voltage=voltage, installed_mva=Decimal(installed),
                             max_load_mva=Decimal(load), reserved_mva=Decimal(reserved), free_mva=Decimal(free),
                             note=note)
    db.session.add(row)
    db.session.commit()
    return row


def test_free_capacity_ordered_with_totals_and_as_of(app):
    _capacity("ПС 110/10 кВ «Южная»", "110/10 кВ", "40", "22.5", "4", "13.5")
    _capacity("ПС 110/10 кВ «Северная»", "110/10 кВ", "25", "12.25", "2.5", "10.25", note="реконструкция в 2027 г.")
    early = _capacity("ПС 110/10 кВ «Северная»", "10/0,4 кВ", "2.5", "1", "0", "1.5")
    early.updated_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    report = generated.data_for("free_capacity")
    [table] = report.tables
    assert [(r[0], r[1]) for r in table.rows] == [("ПС 110/10 кВ «Северная»", "10/0,4 кВ"),
                                                  ("ПС 110/10 кВ «Северная»", "110/10 кВ"),
                                                  ("ПС 110/10 кВ «Южная»", "110/10 кВ")]
    assert table.totals[2:6] == (Decimal("67.5"), Decimal("35.75"), Decimal("6.5"), Decimal("25.25"))
    assert report.as_of.year == datetime.now(timezone.utc).year

    text = pdf_text(generated.render_pdf("free_capacity"))
    assert "«Северная»" in text and "25,25" in text and "67,5" in text and "реконструкция в 2027 г." in text
    [sheet] = _xlsx_rows(generated.render_xlsx("free_capacity")).values()
    assert ("ПС 110/10 кВ «Южная»", "110/10 кВ", 40, 22.5, 4, 13.5, None) in sheet


# --- snapshots ---------------------------------------------------------------------------------------

def _item(generator) -> DisclosureItem:
    return db.session.scalar(select(DisclosureItem).where(DisclosureItem.generator == generator))


@pytest.fixture
def files(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")


def test_a_snapshot_is_published_and_the_next_one_archives_it(app, files, users, billing):
    disclosure.seed_taxonomy()
    admin = users.staff("admin")
    billing.tariff(local_today() - timedelta(days=3), "7.87")
    item = _item("tariffs")

    first = generated.snapshot(item, admin)
    assert first.version == 1 and first.period is None  # tariffs are published on change: no period
    assert first.filename == f"tariffs-{local_today().isoformat()}.pdf" and first.content_type == "application/pdf"
    assert "7,87" in pdf_text(file_store.open_bytes(first.sha256))

    billing.tariff(local_today() - timedelta(days=1), "8.66")
    second = generated.snapshot(db.session.get(DisclosureItem, item.id), admin)
    db.session.expire_all()
    first = db.session.get(DisclosureDocument, first.id)
    assert second.version == 2 and second.is_current
    assert first.replaced_at is not None and not first.is_current
    assert "8,66" in pdf_text(file_store.open_bytes(second.sha256))
    assert "7,87" in pdf_text(file_store.open_bytes(first.sha256)), "the archive keeps what was shown"
    archived, count = disclosure.archived(first.item.category)
    assert count == 1 and archived[0].id == first.id


def test_a_quarterly_snapshot_covers_the_last_quarter_over(app, files, users):
    disclosure.seed_taxonomy()
    admin = users.staff("admin")
    item = _item("tp_stats")
    document = generated.snapshot(item, admin)
    today = local_today()
    quarter = (today.month - 1) // 3 + 1
    expected = f"{today.year}-Q{quarter - 1}" if quarter > 1 else f"{today.year - 1}-Q4"
    assert document.period == expected
    text = pdf_text(file_store.open_bytes(document.sha256))
    assert str(int(expected[:4])) in text


def test_only_the_categorys_publishers_take_snapshots(app, files, users):
    disclosure.seed_taxonomy()
    operator = users.staff("operator")  # keeps the capacity table, but the category has no publisher group
    with pytest.raises(Forbidden):
        generated.snapshot(_item("free_capacity"), operator)
    assert db.session.scalar(select(DisclosureDocument.id)) is None
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "disclosure.publish"))
    assert denied is not None and denied.outcome == "denied" and denied.actor_id == operator.id


def test_the_schedule_snapshots_each_periodic_generated_item_once_per_period(app, files):
    from app.services import disclosure_compliance as compliance

    disclosure.seed_taxonomy()
    day = date(2026, 10, 2)
    assert generated.snapshot_due(day) == 2  # connection statistics and free capacity, for 2026-Q3
    documents = db.session.scalars(select(DisclosureDocument).order_by(DisclosureDocument.id)).all()
    assert [d.period for d in documents] == ["2026-Q3", "2026-Q3"]
    assert all(d.published_by_id is None for d in documents)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "disclosure.published"))
    assert event.actor_label == "system"
    assert generated.snapshot_due(day + timedelta(days=5)) == 0  # the quarter has its snapshot
    rows = {r.category.code: r for r in compliance.status(day) if r.category.standard.code == "electricity"}
    assert rows["free-capacity"].state == compliance.OK and rows["tp-applications"].state == compliance.OK
    assert generated.snapshot_due(date(2027, 1, 3)) == 2  # the next quarter over
