"""Administrators edit the disclosure taxonomy in the browser: standards, categories with periodicity,
deadline, publisher group and responsible person, and items; others may not."""
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, DisclosureCategory, DisclosureItem, DisclosureStandard, StaffGroup
from app.services import disclosure
from tests.factories import PASSWORD


def _admin(client, users):
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    return admin


def test_an_administrator_adds_a_standard_a_category_and_an_item(client, users, app):
    disclosure.seed_taxonomy()
    admin = _admin(client, users)
    page = client.get("/staff/disclosure/taxonomy").get_data(as_text=True)
    assert "Электроэнергетика: сетевая организация" in page and "Теплоснабжение" in page
    response = client.submit("/staff/disclosure/taxonomy", {
        "code": "water", "title_ru": "Водоснабжение", "title_en": "Water supply", "position": "3"},
        action="/staff/disclosure/standards/new")
    assert response.status_code == 302
    standard = db.session.scalar(select(DisclosureStandard).where(DisclosureStandard.code == "water"))
    legal = db.session.scalar(select(StaffGroup).where(StaffGroup.code == "legal"))
    response = client.submit(f"/staff/disclosure/standards/{standard.id}", {
        "code": "water-tariffs", "clause": "п. 5", "title_ru": "Тарифы на воду", "title_en": "Water tariffs",
        "periodicity": "quarterly", "due_days": "20", "publisher_group": str(legal.id),
        "responsible": str(admin.id), "position": "0"},
        action=f"/staff/disclosure/standards/{standard.id}/categories")
    assert response.status_code == 302
    category = db.session.scalar(select(DisclosureCategory).where(DisclosureCategory.code == "water-tariffs"))
    assert (category.periodicity, category.due_days, category.publisher_group_id, category.responsible_id) == \
        ("quarterly", 20, legal.id, admin.id)
    response = client.submit(f"/staff/disclosure/categories/{category.id}", {
        "code": "decisions", "title_ru": "Решения", "title_en": "Decisions", "generator": "", "position": "0"},
        action=f"/staff/disclosure/categories/{category.id}/items")
    assert response.status_code == 302
    assert db.session.scalar(select(DisclosureItem.title_ru).where(DisclosureItem.category_id == category.id)) == "Решения"
    public = client.get("/disclosure/water/water-tariffs/").get_data(as_text=True)
    assert "Тарифы на воду" in public and "Решения" in public and "ежеквартально" in public
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "disclosure.taxonomy_changed")
                             .limit(1)) is not None


def test_bad_taxonomy_input_is_told_and_kept(client, users, app):
    disclosure.seed_taxonomy()
    _admin(client, users)
    response = client.submit("/staff/disclosure/taxonomy", {"code": "search", "title_ru": "Поиск?", "title_en": "x"},
                             action="/staff/disclosure/standards/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "занят страницами самого раздела" in page and 'value="Поиск?"' in page
    response = client.submit("/staff/disclosure/taxonomy", {"code": "Эл ектро", "title_ru": "А", "title_en": "B"},
                             action="/staff/disclosure/standards/new")
    assert response.status_code == 422 and "строчные латинские буквы" in response.get_data(as_text=True)
    category = disclosure.find_category("electricity", "losses")
    response = client.submit(f"/staff/disclosure/categories/{category.id}", {
        "code": "tariffs", "title_ru": "Потери", "title_en": "Losses", "periodicity": "yearly", "due_days": "30",
        "publisher_group": "", "responsible": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "уже есть категория с таким кодом" in page
    response = client.submit(f"/staff/disclosure/categories/{category.id}", {
        "code": "losses", "title_ru": "Потери", "title_en": "Losses", "periodicity": "yearly", "due_days": "0",
        "publisher_group": "", "responsible": ""})
    assert response.status_code == 422 and "от 1 до 400" in response.get_data(as_text=True)
    db.session.expire_all()
    assert disclosure.find_category("electricity", "losses").code == "losses"


def test_only_administrators_edit_the_taxonomy(client, users, app):
    disclosure.seed_taxonomy()
    specialist = users.staff("specialist", groups=["legal"])
    client.login(specialist.email, PASSWORD)
    assert client.get("/staff/disclosure/taxonomy").status_code == 403
    category = disclosure.find_category("electricity", "losses")
    assert client.get(f"/staff/disclosure/categories/{category.id}").status_code == 403
