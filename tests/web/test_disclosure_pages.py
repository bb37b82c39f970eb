"""The public disclosure section: a regulator (no login) reads categories, documents and the archive,
and staff publish, replace and withdraw versions."""
import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, DisclosureCategory, DisclosureDocument, DisclosureItem, StaffGroup
from app.services import disclosure
from app.services.errors import Conflict, Forbidden, InvalidInput
from tests.factories import PASSWORD
from tests.helpers import at_once, make_pdf




def _item(code="statements", category="financial-statements") -> DisclosureItem:
    return db.session.scalar(select(DisclosureItem).join(DisclosureItem.category)
                             .where(DisclosureItem.code == code, DisclosureCategory.code == category))


def _publish(item, user, text="Бухгалтерский баланс", period="2025", name="balance.pdf"):
    db.session.refresh(item)
    return disclosure.publish(item, data=make_pdf(text), filename=name, user=user, seen_revision=item.revision,
                              period=period, title=f"Отчётность: {text}")


def test_the_seed_adds_what_is_missing_and_keeps_edits(taxonomy):
    item = _item()
    item.title_ru = "Отредактировано администратором"
    db.session.commit()
    assert disclosure.seed_taxonomy() == {"standards": 0, "categories": 0, "items": 0}
    assert _item().title_ru == "Отредактировано администратором"


def test_a_regulator_without_login_sees_the_current_document_and_the_archive(client, users, taxonomy):
    admin = users.staff("admin")
    first = _publish(_item(), admin, "Баланс первый")
    page = client.get("/disclosure/electricity/financial-statements/").get_data(as_text=True)
    assert "Отчётность: Баланс первый" in page and "(PDF, " in page and "2025" in page
    second = _publish(_item(), admin, "Баланс исправленный")
    page = client.get("/disclosure/electricity/financial-statements/").get_data(as_text=True)
    current, archive = page.split('id="archive-title"')
    assert "Баланс исправленный" in current and "Баланс первый" not in current
    assert "Баланс первый" in archive
    db.session.refresh(first)
    assert first.replaced_at == second.published_at
    # The stable URL of the first version still gives its bytes, and its card says it was replaced.
    file = client.get(f"/disclosure/documents/{first.id}/file")
    assert file.status_code == 200 and file.data.startswith(b"%PDF") and file.headers["ETag"].strip('"') == first.sha256
    assert client.get(f"/disclosure/documents/{first.id}/file",
                      headers={"If-None-Match": f'"{first.sha256}"'}).status_code == 304
    card = client.get(f"/disclosure/documents/{first.id}").get_data(as_text=True)
    assert "в архиве" in card and "Заменён" in card


def test_the_full_archive_is_paged(client, users, taxonomy):
    admin = users.staff("admin")
    for n in range(53):
        _publish(_item(), admin, f"Версия {n}")
    page = client.get("/disclosure/electricity/financial-statements/").get_data(as_text=True)
    assert "52" in page and "/disclosure/electricity/financial-statements/archive" in page
    first = client.get("/disclosure/electricity/financial-statements/archive").get_data(as_text=True)
    second = client.get("/disclosure/electricity/financial-statements/archive?page=2").get_data(as_text=True)
    assert first.count("<tr>") - 1 == 50 and second.count("<tr>") - 1 == 2
    assert client.get("/disclosure/electricity/financial-statements/archive?page=3").status_code == 404
    assert client.get("/disclosure/electricity/nothing-such/").status_code == 404


def test_search_finds_text_inside_the_pdf(client, users, taxonomy):
    admin = users.staff("admin")
    _publish(_item(), admin, "Выручка от передачи электроэнергии составила 12345 тыс. руб.")
    _publish(_item("audit-report"), admin, "Аудиторское заключение без оговорок", name="audit.pdf")
    page = client.get("/disclosure/search?q=выручка+передачи").get_data(as_text=True)
    assert "Найден 1 документ" in page and "12345" in page
    assert "Найдено 0 документов" in client.get("/disclosure/search?q=несуществующее").get_data(as_text=True)
    assert client.get("/disclosure/search?q=%25").status_code == 200


@pytest.mark.parametrize("data, name, message", [
    pytest.param(b"%PDF-1.4 not really", "report.pdf", "PDF повреждён", id="broken-pdf"),
    pytest.param(b"<html>hello</html>", "report.pdf", "не является файлом PDF", id="not-a-pdf"),
    pytest.param(make_pdf("x"), "../../etc/report.pdf", "без папок", id="path-up"),
    pytest.param(make_pdf("x"), "reports/2025/report.pdf", "без папок", id="path-down"),
    pytest.param(make_pdf("x"), "report.exe", "Публикуются только файлы PDF, XLSX и DOCX", id="wrong-kind"),
    pytest.param(b"", "report.pdf", "Файл пуст", id="empty"),
])
def test_a_bad_file_is_refused_whole_and_nothing_is_published(client, users, taxonomy, data, name, message):
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    item = _item()
    response = client.submit(f"/staff/disclosure/items/{item.id}", {
        "file": (io.BytesIO(data), name), "title": "Годовой отчёт", "period": "2025", "note": "примечание"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert 'value="Годовой отчёт"' in page and "примечание" in page  # what was typed is kept
    assert db.session.scalar(select(DisclosureDocument.id)) is None


def test_an_oversized_file_is_refused(client, users, taxonomy, app):
    app.config["DISCLOSURE_MAX_MB"] = 1
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    item = _item()
    big = make_pdf("x") + b"%" + b"0" * (1024 * 1024)
    response = client.submit(f"/staff/disclosure/items/{item.id}", {"file": (io.BytesIO(big), "big.pdf"),
                                                                     "period": "2025"})
    assert response.status_code == 422 and "больше 1 МБ" in response.get_data(as_text=True)


def test_only_the_categorys_group_publishes(client, users, taxonomy):
    outsider = users.staff("specialist", groups=["metering"])
    publisher = users.staff("specialist", groups=["legal"])
    category = _item().category
    category.publisher_group_id = db.session.scalar(select(StaffGroup.id).where(StaffGroup.code == "legal"))
    db.session.commit()
    with pytest.raises(Forbidden):
        _publish(_item(), outsider)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "disclosure.publish",
                                                      AuditEvent.outcome == "denied")) is not None
    client.login(outsider.email, PASSWORD)
    response = client.post(f"/staff/disclosure/items/{_item().id}", data={
        "csrf_token": client.csrf(f"/staff/disclosure/items/{_item().id}"),
        "file": (io.BytesIO(make_pdf("x")), "x.pdf"), "period": "2025", "revision": "0"},
        content_type="multipart/form-data")
    assert response.status_code == 403
    assert _publish(_item(), publisher).version == 1
    customer = users.customer()
    other = client.__class__(client.application.test_client())
    other.login(customer.email, PASSWORD)
    assert other.get(f"/staff/disclosure/items/{_item().id}").status_code == 403


def test_two_uploads_at_once_publish_one_and_tell_the_other(app, users, taxonomy):
    admin, second = users.staff("admin"), users.staff("admin")
    item_id = _item().id

    def upload(user):
        item = db.session.get(DisclosureItem, item_id)
        disclosure.publish(item, data=make_pdf(f"от {user.email}"), filename="x.pdf", user=user, seen_revision=0,
                           period="2025")

    outcomes = at_once(app, [admin.id, second.id], upload)
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert any("кто-то другой опубликовал" in o for o in outcomes if o != "ok"), outcomes
    assert db.session.scalars(select(DisclosureDocument.version)).all() == [1]


def test_a_withdrawn_document_stays_reachable_marked_so(client, users, taxonomy):
    admin = users.staff("admin")
    document = _publish(_item(), admin, "Ошибочный баланс")
    client.login(admin.email, PASSWORD)
    response = client.submit(f"/staff/disclosure/items/{document.item_id}", {"reason": "Опубликован по ошибке",
                                                                            "revision": "1"},
                             action=f"/staff/disclosure/documents/{document.id}/withdraw", follow=True)
    assert "отозван" in response.get_data(as_text=True).lower()
    public = client.get("/disclosure/electricity/financial-statements/").get_data(as_text=True)
    assert "Отозван" in public and "Опубликован по ошибке" in public
    assert client.get(f"/disclosure/documents/{document.id}/file").status_code == 200
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "disclosure.withdrawn"))


def test_a_period_of_the_wrong_kind_is_refused(users, taxonomy):
    admin = users.staff("admin")
    with pytest.raises(InvalidInput, match="ежегодно: выберите период"):
        _publish(_item(), admin, period="2025-Q3")
    with pytest.raises(InvalidInput):
        _publish(_item(), admin, period="")
    quarterly = _item("statistics", "tp-applications")
    db.session.refresh(quarterly)
    assert disclosure.publish(quarterly, data=make_pdf("q"), filename="q.pdf", user=admin, seen_revision=0,
                              period="2026-q3").period == "2026-Q3"
    with pytest.raises(Conflict):
        disclosure.publish(quarterly, data=make_pdf("q"), filename="q.pdf", user=admin, seen_revision=0,
                           period="2026-Q3")
