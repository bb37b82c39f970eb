"""Customer accounts: linking by bill code, representatives, and nobody seeing another's account."""
from sqlalchemy import select

from app.extensions import db
from app.models import AccountAccess, AuditEvent
from tests.factories import PASSWORD
from tests.helpers import location_path


def audit(action: str, outcome: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                            AuditEvent.outcome == outcome)))


def test_customer_links_an_account_with_the_bill_code(client, users):
    user = users.customer()
    account = users.account(number="1234567890", code="4821")
    client.login(user.email, PASSWORD)
    done = client.submit("/cabinet/accounts/link", {"number": "12345 67890", "code": "4821"})
    assert location_path(done) == f"/cabinet/accounts/{account.id}"
    page = client.get("/cabinet/").get_data(as_text=True)
    assert "1234567890" in page and "г. Москва, ул. Тестовая, д. 1" in page


def test_wrong_code_keeps_the_number_and_is_audited(client, users):
    user = users.customer()
    users.account(number="1234567890", code="4821")
    client.login(user.email, PASSWORD)
    page = client.submit("/cabinet/accounts/link", {"number": "1234567890", "code": "0000"})
    html = page.get_data(as_text=True)
    assert 'id="code-error"' in html and 'value="1234567890"' in html
    assert len(audit("account.link", "failed")) == 1
    assert db.session.scalar(select(AccountAccess)) is None


def test_guessing_codes_is_stopped(app, client, users):
    app.config["ACCOUNT_LINK_MAX_FAILURES"] = 3
    user = users.customer()
    users.account(number="1234567890", code="4821")
    client.login(user.email, PASSWORD)
    for code in ("0001", "0002", "0003"):
        client.submit("/cabinet/accounts/link", {"number": "1234567890", "code": code})
    page = client.submit("/cabinet/accounts/link", {"number": "1234567890", "code": "4821"})
    assert page.status_code == 200  # even the right code waits now
    assert len(audit("account.link", "throttled")) == 1


def test_account_with_an_owner_cannot_be_taken_by_code(client, users):
    owner = users.customer()
    users.account(number="1234567890", code="4821", owner=owner)
    other = users.customer()
    client.login(other.email, PASSWORD)
    page = client.submit("/cabinet/accounts/link", {"number": "1234567890", "code": "4821"})
    assert 'id="number-error"' in page.get_data(as_text=True)
    assert len(audit("account.link", "refused")) == 1


def test_someone_elses_account_is_not_found_and_audited(client, users):
    owner = users.customer()
    account = users.account(owner=owner)
    stranger = users.customer()
    client.login(stranger.email, PASSWORD)
    assert client.get(f"/cabinet/accounts/{account.id}").status_code == 404
    assert client.get("/cabinet/accounts/999999").status_code == 404
    denied = audit("access.denied", "denied")
    assert [e.object_id for e in denied] == [str(account.id)]


def test_owner_adds_and_removes_a_representative(app, users):
    from tests.helpers import Browser

    owner, helper = users.customer(), users.customer(name="Помощник Пётр")
    account = users.account(owner=owner)
    as_owner, as_helper = Browser(app.test_client()), Browser(app.test_client())
    as_owner.login(owner.email, PASSWORD)
    as_helper.login(helper.email, PASSWORD)
    assert as_helper.get(f"/cabinet/accounts/{account.id}").status_code == 404

    added = as_owner.submit(f"/cabinet/accounts/{account.id}", {"email": helper.email})
    assert location_path(added) == f"/cabinet/accounts/{account.id}"
    page = as_helper.get(f"/cabinet/accounts/{account.id}").get_data(as_text=True)
    assert "Помощник Пётр" in page and 'name="email"' not in page  # sees it, cannot add people

    as_owner.submit(f"/cabinet/accounts/{account.id}", {},
                    action=f"/cabinet/accounts/{account.id}/representatives/{helper.id}/remove")
    assert as_helper.get(f"/cabinet/accounts/{account.id}").status_code == 404


def test_representative_must_be_a_registered_customer(client, users):
    owner = users.customer()
    account = users.account(owner=owner)
    client.login(owner.email, PASSWORD)
    page = client.submit(f"/cabinet/accounts/{account.id}", {"email": "stranger@example.com"})
    html = page.get_data(as_text=True)
    assert 'id="email-error"' in html and 'value="stranger@example.com"' in html


def test_staff_can_look_up_any_account(client, users):
    specialist = users.staff("specialist")
    account = users.account(number="5550001112", holder="Кузнецова Ольга")
    client.login(specialist.email, PASSWORD)
    found = client.get("/staff/accounts?q=Кузнецова").get_data(as_text=True)
    assert "5550001112" in found
    assert client.get(f"/staff/accounts/{account.id}").status_code == 200
    assert client.get("/cabinet/").status_code == 403  # the customer pages are not theirs
