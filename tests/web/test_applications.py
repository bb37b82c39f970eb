"""Filing online: the guide, the form kept as a draft, "check your answers", the confirmation."""
import io
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApplicationDraft, CaseDocument
from tests.factories import PASSWORD
from tests.helpers import Browser, location_path
from workflows import definitions, guides

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "bpmn" / "demo_meter_replacement.bpmn"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BASE = "/cases/new/demo_meter_replacement"


@pytest.fixture
def demo(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DEMO.read_bytes(), source="test")


@pytest.fixture
def applicant_browser(app, users):
    applicant = users.customer()
    users.account(owner=applicant)
    browser = Browser(app.test_client())
    browser.login(applicant.email, PASSWORD)
    return applicant, browser


def test_guide_form_check_and_confirmation(demo, applicant_browser):
    applicant, browser = applicant_browser
    listing = browser.get("/cases/new").get_data(as_text=True)
    assert "Учебный процесс замены прибора учёта" in listing
    guide = browser.get(BASE).get_data(as_text=True)
    assert "Специалист группы учёта рассматривает заявку" in guide and "Фотография прибора учёта" in guide

    answered = browser.submit(f"{BASE}/form", {
        "reason": "failure", "visit_date": "2099-01-10", "phone": "+7 900 111-22-33",
        "comment": "Счётчик <не> светится", "meter_photo": (io.BytesIO(PNG), "meter.png")})
    assert location_path(answered) == f"{BASE}/check"
    check = browser.get(f"{BASE}/check").get_data(as_text=True)
    # Labels and values as the applicant reads them: the choice's label, the date in words, the file's name.
    assert "Неисправность прибора учёта" in check and "10 января 2099" in check and "meter.png" in check
    assert "Счётчик &lt;не&gt; светится" in check

    # Changing the answers: the form comes back filled in, the photo stays attached unless replaced.
    again = browser.get(f"{BASE}/form").get_data(as_text=True)
    assert 'value="+7 900 111-22-33"' in again and "meter.png" in again
    browser.submit(f"{BASE}/form", {"reason": "verification_expired", "visit_date": "2099-01-11",
                                    "phone": "+7 900 111-22-33"})
    check = browser.get(f"{BASE}/check").get_data(as_text=True)
    assert "meter.png" in check and "11 января 2099" in check

    filed = browser.submit(f"{BASE}/check", {})
    number = unquote(location_path(filed).split("/")[2])
    assert location_path(filed).endswith("/filed")
    confirmation = browser.get(location_path(filed)).get_data(as_text=True)
    assert number in confirmation and "Заявка на рассмотрении" in confirmation
    db.session.rollback()
    assert db.session.scalar(select(ApplicationDraft)) is None
    [photo] = db.session.scalars(select(CaseDocument)).all()
    assert (photo.filename, photo.content_type, photo.size) == ("meter.png", "image/png", len(PNG))


def test_wrong_answers_keep_what_was_typed_and_nothing_is_filed(demo, applicant_browser):
    applicant, browser = applicant_browser
    bad = browser.submit(f"{BASE}/form", {"reason": "failure", "visit_date": "2001-01-01", "phone": "12",
                                          "comment": "оставить как есть"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'aria-invalid="true"' in page and "оставить как есть" in page
    db.session.rollback()
    assert db.session.scalar(select(ApplicationDraft)) is None
    # The check page without a draft sends the applicant to the form.
    assert location_path(browser.get(f"{BASE}/check")) == f"{BASE}/form"


def test_a_draft_waits_for_the_applicant_and_can_be_deleted(demo, applicant_browser, app, users):
    applicant, browser = applicant_browser
    browser.submit(f"{BASE}/form", {"reason": "failure", "visit_date": "2099-01-10", "phone": "+7 900 111-22-33"})
    assert "Продолжить начатую заявку" in browser.get(BASE).get_data(as_text=True)
    # Someone else sees nothing of it.
    other = Browser(app.test_client())
    other.login(users.customer().email, PASSWORD)
    assert location_path(other.get(f"{BASE}/check")) == f"{BASE}/form"
    browser.submit(BASE, {}, action=f"{BASE}/discard")
    db.session.rollback()
    assert db.session.scalar(select(ApplicationDraft)) is None


def test_every_guide_in_the_folder_is_complete():
    found = guides.load_folder(ROOT / "bpmn" / "guides")
    assert "demo_meter_replacement" in found
    for guide in found.values():
        for locale in ("ru", "en"):
            text = guide.text(locale)
            assert text["summary"] and text["steps"] and text["documents"]


def test_a_guide_with_a_missing_translation_is_refused(tmp_path):
    step = '{"ru": "Шаг", "en": "Step"}'
    (tmp_path / "x.json").write_text(f'{{"summary": {{"ru": "Есть"}}, "steps": [{step}], "documents": [{step}]}}',
                                     encoding="utf-8")
    with pytest.raises(guides.GuideError, match="summary"):
        guides.load_folder(tmp_path)
