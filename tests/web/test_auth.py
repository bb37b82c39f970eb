"""Registration, confirmation, login, lockout, reset and password change, as a browser does them."""
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User
from tests.factories import PASSWORD
from tests.helpers import location_path

NEW = {"full_name": "Смирнова Анна Сергеевна", "email": "Anna@Example.com", "phone": "+7 900 000-00-01",
       "password": "Sunny-meadow-2026", "password2": "Sunny-meadow-2026"}


def events(action: str, outcome: str | None = None) -> list[AuditEvent]:
    db.session.rollback()  # end the test's read transaction to see what the requests committed
    query = select(AuditEvent).where(AuditEvent.action == action)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    return list(db.session.scalars(query))


def test_register_confirm_login_logout(client, mailbox):
    page = client.submit("/auth/register", NEW)
    assert page.status_code == 200
    assert "anna@example.com" in page.get_data(as_text=True)

    # Not confirmed yet: login is refused with a way forward.
    refused = client.submit("/auth/login", {"email": "anna@example.com", "password": NEW["password"]})
    assert "/auth/resend" in refused.get_data(as_text=True)

    link = mailbox.link_to("anna@example.com")
    assert link.startswith("http://portal.test/auth/confirm/")
    confirmed = client.get(link.removeprefix("http://portal.test"))
    assert location_path(confirmed) == "/auth/login"

    logged_in = client.login("anna@example.com", NEW["password"])
    assert location_path(logged_in) == "/cabinet/"
    assert client.get("/cabinet/").status_code == 200

    out = client.submit("/cabinet/", {}, action="/auth/logout")
    assert location_path(out) == "/auth/login"
    assert client.get("/cabinet/").status_code == 302
    assert events("auth.register") and events("auth.confirm") and events("auth.logout")


def test_confirmation_link_reused_and_expired(app, client, mailbox):
    client.submit("/auth/register", NEW)
    link = mailbox.link_to("anna@example.com").removeprefix("http://portal.test")
    client.get(link)
    again = client.get(link, follow_redirects=True)
    assert "already used" in again.get_data(as_text=True) or "уже" in again.get_data(as_text=True)
    assert events("auth.confirm", "refused")[0].details["reason"] == "reused"

    app.config["EMAIL_TOKEN_HOURS"] = -1  # every link is now older than its lifetime
    expired = client.get(link, follow_redirects=True)
    assert expired.request.path == "/auth/resend"
    assert any(e.details["reason"] == "expired" for e in events("auth.confirm", "refused"))


def test_duplicate_registration_keeps_what_was_typed(client, users):
    users.customer(email="anna@example.com")
    page = client.submit("/auth/register", NEW, follow=False)
    html = page.get_data(as_text=True)
    assert 'id="email-error"' in html
    assert 'value="Смирнова Анна Сергеевна"' in html and 'value="Anna@Example.com"' in html
    assert 'value="Sunny-meadow-2026"' not in html  # passwords are never echoed back
    assert len(events("auth.register", "refused")) == 1


def test_weak_password_is_refused_at_the_field(client):
    for weak in ("short1", "onlyletterslong", "1234567890"):
        page = client.submit("/auth/register", {**NEW, "password": weak, "password2": weak})
        html = page.get_data(as_text=True)
        assert 'id="password-error"' in html, weak
        assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(User).where(User.email == "anna@example.com")) is None


def test_wrong_password_and_unknown_email_get_one_message_and_are_audited(client, users):
    user = users.customer()
    wrong = client.submit("/auth/login", {"email": user.email, "password": "Not-the-password-1"})
    unknown = client.submit("/auth/login", {"email": "nobody@example.com", "password": "Whatever-123"})
    assert wrong.status_code == unknown.status_code == 200
    for page in (wrong, unknown):
        assert 'role="alert"' in page.get_data(as_text=True)
    reasons = sorted(e.details["reason"] for e in events("auth.login", "failed"))
    assert reasons == ["unknown-email", "wrong-password"]


def test_lockout_after_repeated_failures(app, client, users):
    app.config["LOGIN_MAX_FAILURES"] = 3
    user = users.customer()
    for _ in range(3):
        client.submit("/auth/login", {"email": user.email, "password": "Not-the-password-1"})
    locked = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 200  # the right password does not help while locked
    assert client.get("/cabinet/").status_code == 302
    assert len(events("auth.login", "locked")) == 1


def test_address_guessing_many_users_is_throttled(app, client, users):
    app.config["LOGIN_IP_MAX_FAILURES"] = 4
    for n in range(4):
        client.submit("/auth/login", {"email": f"guess{n}@example.com", "password": "Guess-12345"})
    user = users.customer()
    client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert client.get("/cabinet/").status_code == 302
    assert len(events("auth.login", "throttled")) == 1


def test_missing_csrf_token_is_refused_and_audited(client, users):
    user = users.customer()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/cabinet/").status_code == 302
    assert len(events("security.csrf", "refused")) == 1


def test_password_reset_works_once(client, mailbox, users):
    user = users.customer()
    sent = client.submit("/auth/reset", {"email": user.email})
    assert sent.status_code == 200
    link = mailbox.link_to(user.email).removeprefix("http://portal.test")
    done = client.submit(link, {"password": "Brand-new-pass-7", "password2": "Brand-new-pass-7"})
    assert location_path(done) == "/auth/login"
    client.login(user.email, "Brand-new-pass-7")

    reused = client.submit(link, {"password": "Another-pass-77", "password2": "Another-pass-77"})
    assert location_path(reused) == "/auth/reset"
    assert events("auth.reset", "refused")[0].details["reason"] == "reused"


def test_reset_for_unknown_email_answers_the_same(client, mailbox):
    page = client.submit("/auth/reset", {"email": "nobody@example.com"})
    assert page.status_code == 200 and "nobody@example.com" in page.get_data(as_text=True)
    assert mailbox.messages() == []


def test_password_change_ends_other_sessions(app, users):
    from tests.helpers import Browser

    user = users.customer()
    laptop, phone = Browser(app.test_client()), Browser(app.test_client())
    laptop.login(user.email, PASSWORD)
    phone.login(user.email, PASSWORD)
    changed = laptop.submit("/profile/", {"current_password": PASSWORD, "new_password": "Fresh-start-2027",
                                          "new_password2": "Fresh-start-2027"}, action="/profile/password")
    assert location_path(changed) == "/profile/"
    assert laptop.get("/profile/").status_code == 200  # this session goes on
    assert phone.get("/profile/").status_code == 302  # the other one has ended


def test_wrong_current_password_keeps_the_password(client, users):
    user = users.customer()
    client.login(user.email, PASSWORD)
    page = client.submit("/profile/", {"current_password": "Wrong-one-123", "new_password": "Fresh-start-2027",
                                       "new_password2": "Fresh-start-2027"}, action="/profile/password")
    assert 'id="current_password-error"' in page.get_data(as_text=True)
    client.submit("/profile/", {}, action="/auth/logout")
    client.login(user.email, PASSWORD)


def test_login_never_redirects_off_site(client, users):
    user = users.customer()
    token = client.csrf("/auth/login")
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        client.get("/cabinet/")  # fresh token per attempt: login clears the session
        response = client.post(f"/auth/login?next={target}",
                               data={"csrf_token": client.csrf(), "email": user.email, "password": PASSWORD})
        assert location_path(response) == "/cabinet/", target
        client.submit("/cabinet/", {}, action="/auth/logout")
    assert token


def test_blocked_user_cannot_log_in(client, users):
    admin = users.staff("admin")
    user = users.customer()
    from app.services import users as user_service

    user_service.update_staff(user.id, ["customer"], [], blocked=True, actor=admin)
    page = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert page.status_code == 200 and client.get("/cabinet/").status_code == 302
