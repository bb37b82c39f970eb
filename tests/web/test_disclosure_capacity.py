"""Operators keep the substations' free capacity table (checked, audited); the public downloads the
generated items as PDF and XLSX; a publisher takes a snapshot from the staff pages."""
import io
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.models.disclosure import DisclosureDocument, DisclosureItem, SubstationCapacity
from app.services import disclosure
from tests.documents import pdf_text
from tests.factories import PASSWORD
from tests.helpers import Browser, location_path

PAGE = "/staff/disclosure/capacity"
NORTH = {"substation": "ПС 110/10 кВ «Северная»", "voltage": "110/10 кВ", "installed_mva": "25",
         "max_load_mva": "12,25", "reserved_mva": "2,5", "free_mva": "10,25", "note": ""}


def signed_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user.email, PASSWORD)
    return browser


def test_an_operator_adds_and_edits_a_row_and_each_change_is_audited(app, users):
    operator = users.staff("operator")
    browser = signed_in(app, operator)
    page = browser.get(PAGE, headers={"Accept-Language": "ru"})
    assert page.status_code == 200 and "<caption>" in page.get_data(as_text=True)

    added = browser.submit(PAGE, NORTH)
    assert added.status_code == 302 and location_path(added) == PAGE
    db.session.rollback()
    row = db.session.scalar(select(SubstationCapacity))
    assert (row.installed_mva, row.max_load_mva, row.free_mva) == (Decimal("25"), Decimal("12.25"), Decimal("10.25"))
    assert row.updated_by_id == operator.id

    edit = f"{PAGE}/{row.id}"
    form = browser.get(edit).get_data(as_text=True)
    assert 'value="10.250"' in form and 'value="ПС 110/10 кВ «Северная»"' in form  # the row's values to change
    changed = browser.submit(edit, {**NORTH, "free_mva": "9,5", "note": "после реконструкции"})
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(SubstationCapacity, row.id).free_mva == Decimal("9.5")

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "disclosure.capacity_changed")
                                .order_by(AuditEvent.id)).all()
    assert len(events) == 2 and all(e.actor_id == operator.id and e.object_id == str(row.id) for e in events)
    assert events[0].details["created"] is True
    assert events[1].details["changes"]["free_mva"] == ["10.250", "9.500"]

    listing = browser.get(PAGE).get_data(as_text=True)
    assert "ПС 110/10 кВ «Северная»" in listing and "после реконструкции" in listing


def test_bad_input_keeps_what_was_typed_and_says_what_is_wrong(app, users):
    browser = signed_in(app, users.staff("operator"))

    too_free = browser.submit(PAGE, {**NORTH, "free_mva": "30"})
    body = too_free.get_data(as_text=True)
    assert too_free.status_code == 422
    assert 'aria-invalid="true"' in body and 'value="30"' in body and 'value="ПС 110/10 кВ «Северная»"' in body
    assert "cannot be more than the installed capacity" in body or "не может быть больше установленной" in body

    negative = browser.submit(PAGE, {**NORTH, "reserved_mva": "-1"})
    assert negative.status_code == 422 and 'value="-1"' in negative.get_data(as_text=True)

    overloaded = browser.submit(PAGE, {**NORTH, "max_load_mva": "50,001"})
    assert overloaded.status_code == 422 and 'value="50,001"' in overloaded.get_data(as_text=True)

    garbage = browser.submit(PAGE, {**NORTH, "installed_mva": "двадцать"})
    assert garbage.status_code == 422 and 'value="двадцать"' in garbage.get_data(as_text=True)

    db.session.rollback()
    assert db.session.scalar(select(SubstationCapacity.id)) is None, "nothing half-saved"
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "disclosure.capacity_changed")) is None

    assert browser.submit(PAGE, NORTH).status_code == 302
    twice = browser.submit(PAGE, NORTH)
    assert twice.status_code == 422 and 'aria-invalid="true"' in twice.get_data(as_text=True)


def test_customers_and_other_staff_cannot_keep_the_table(app, users):
    customer = signed_in(app, users.customer())
    assert customer.get(PAGE).status_code in (403, 404)
    token = customer.csrf("/profile/")
    assert customer.post(PAGE, data={"csrf_token": token, **NORTH}).status_code in (403, 404)
    specialist = signed_in(app, users.staff("specialist"))
    assert specialist.get(PAGE).status_code == 403
    anonymous = Browser(app.test_client())
    assert anonymous.get(PAGE).status_code in (302, 401)
    db.session.rollback()
    assert db.session.scalar(select(SubstationCapacity.id)) is None


def test_anyone_downloads_the_generated_files(app, billing):
    from datetime import date

    billing.tariff(date(2020, 1, 1), "7.87")
    db.session.add(SubstationCapacity(substation="ПС «Южная»", voltage="110/10 кВ", installed_mva=Decimal(40),
                                      max_load_mva=Decimal("22.5"), reserved_mva=Decimal(4), free_mva=Decimal("13.5")))
    db.session.commit()
    browser = Browser(app.test_client())

    pdf = browser.get("/disclosure/generated/tariffs.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and 'filename=tariffs-' in disposition and ".pdf" in disposition
    assert "7,87" in pdf_text(pdf.data)

    xlsx = browser.get("/disclosure/generated/free_capacity.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename=free-capacity-" in xlsx.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert ("ПС «Южная»", "110/10 кВ", 40, 22.5, 4, 13.5, None) in list(sheet.iter_rows(values_only=True))

    stats = browser.get("/disclosure/generated/tp_stats.xlsx?year=2025")
    assert stats.status_code == 200 and "filename=tp-stats-2025-" in stats.headers["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(stats.data)).sheetnames == ["I 2025", "II 2025", "III 2025", "IV 2025"]

    assert browser.get("/disclosure/generated/tp_stats.pdf?year=1800").status_code == 404
    for unknown in ("/disclosure/generated/secrets.pdf", "/disclosure/generated/tariffs.html"):
        assert browser.get(unknown, follow_redirects=True).status_code == 404


def test_a_publisher_takes_a_snapshot_and_others_are_refused(app, users, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    disclosure.seed_taxonomy()
    item = db.session.scalar(select(DisclosureItem).where(DisclosureItem.generator == "free_capacity"))
    path = f"/staff/disclosure/items/{item.id}/snapshot"
    category_page = f"/disclosure/{item.category.standard.code}/{item.category.code}/"

    operator = signed_in(app, users.staff("operator"))
    refused = operator.post(path, data={"csrf_token": operator.csrf(PAGE)})
    assert refused.status_code == 403
    customer = signed_in(app, users.customer())
    assert customer.post(path, data={"csrf_token": customer.csrf("/profile/")}).status_code in (403, 404)
    db.session.rollback()
    assert db.session.scalar(select(DisclosureDocument.id)) is None

    admin = signed_in(app, users.staff("admin"))
    assert f'action="{path}"' in admin.get(PAGE).get_data(as_text=True)
    for version in (1, 2):
        done = admin.post(path, data={"csrf_token": admin.csrf(PAGE)})
        assert done.status_code == 302 and location_path(done) == category_page
    db.session.expire_all()
    documents = db.session.scalars(select(DisclosureDocument).order_by(DisclosureDocument.version)).all()
    assert [d.version for d in documents] == [1, 2]
    assert documents[0].replaced_at is not None and documents[1].is_current
    assert documents[1].period and "-Q" in documents[1].period
