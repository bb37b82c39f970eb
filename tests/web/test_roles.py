"""Roles: what each one sees, staff management by admins, the CLI and the demo data."""
import pytest
from sqlalchemy import func, select

from app.cli.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Account, AuditEvent, User
from tests.factories import PASSWORD
from tests.helpers import location_path

NAV = {"/cabinet/": "customer", "/staff/": "staff", "/staff/accounts": "accounts", "/admin/users": "admin",
       "/admin/audit": "admin", "/admin/incidents": "admin"}


@pytest.mark.parametrize("role, allowed", [
    ("customer", {"/cabinet/"}),
    ("specialist", {"/staff/", "/staff/accounts"}),
    ("team_lead", {"/staff/", "/staff/accounts"}),
    ("analyst", {"/staff/"}),
    ("operator", {"/staff/", "/staff/accounts"}),
    ("admin", {"/staff/", "/staff/accounts", "/admin/users", "/admin/audit", "/admin/incidents"}),
])
def test_each_role_reaches_its_pages_only(client, users, role, allowed):
    user = users.customer() if role == "customer" else users.staff(role)
    client.login(user.email, PASSWORD)
    home = client.get("/").headers["Location"]
    nav = client.get(home).get_data(as_text=True)
    for path in NAV:
        status = client.get(path).status_code
        assert (status == 200) == (path in allowed), (role, path, status)
        assert (f'href="{path}"' in nav) == (path in allowed), (role, path)
    db.session.rollback()
    denied = db.session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "access.denied"))
    assert denied == len(NAV) - len(allowed)


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert location_path(response) == "/auth/login"


def test_admin_creates_a_specialist_who_sets_a_password_by_the_letter(client, users, mailbox):
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    done = client.submit("/admin/users/new", {"email": "new.tp@example.com", "full_name": "Новый Специалист",
                                              "roles": ["specialist"], "groups": ["connection"]})
    assert location_path(done) == "/admin/users"
    client.submit("/staff/", {}, action="/auth/logout")

    link = mailbox.link_to("new.tp@example.com").removeprefix("http://portal.test")
    client.submit(link, {"password": "Set-by-myself-9", "password2": "Set-by-myself-9"})
    assert location_path(client.login("new.tp@example.com", "Set-by-myself-9")) == "/staff/"
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == "new.tp@example.com"))
    assert user.roles == {"specialist"} and [g.code for g in user.groups] == ["connection"]


def test_staff_form_keeps_input_on_error(client, users):
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    page = client.submit("/admin/users/new", {"email": "not-an-email", "full_name": "Кто-то", "roles": []})
    html = page.get_data(as_text=True)
    assert 'value="Кто-то"' in html and ('id="email-error"' in html or 'id="roles-error"' in html)


def test_admin_cannot_lock_themselves_out(client, users):
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    page = client.submit(f"/admin/users/{admin.id}", {"roles": ["specialist"]})
    assert 'id="roles-error"' in page.get_data(as_text=True)


def test_blocking_a_user_ends_their_sessions(app, users):
    from tests.helpers import Browser

    admin, victim = users.staff("admin"), users.staff("specialist")
    as_admin, as_victim = Browser(app.test_client()), Browser(app.test_client())
    as_admin.login(admin.email, PASSWORD)
    as_victim.login(victim.email, PASSWORD)
    as_admin.submit(f"/admin/users/{victim.id}", {"roles": ["specialist"], "blocked": "y"})
    assert as_victim.get("/staff/").status_code == 302


def test_cli_creates_staff_and_refuses_bad_input(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["staff", "create", "cli.user@example.com", "--name", "Через Консоль",
                             "--role", "operator", "--password", "Console-pass-2026"])
    assert ok.exit_code == 0, ok.output
    dup = runner.invoke(args=["staff", "create", "cli.user@example.com", "--name", "Ещё Раз", "--role", "operator"])
    assert dup.exit_code != 0 and "уже существует" in dup.output
    bad_group = runner.invoke(args=["staff", "create", "x@example.com", "--name", "X", "--role", "specialist",
                                    "--group", "nowhere"])
    assert bad_group.exit_code != 0 and "nowhere" in bad_group.output


def test_seed_demo_is_idempotent_and_logs_in(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.rollback()
    counts = (db.session.scalar(select(func.count()).select_from(User)),
              db.session.scalar(select(func.count()).select_from(Account)))
    second = runner.invoke(args=["seed-demo"])
    assert "+0" in second.output and "+1" not in second.output
    db.session.rollback()
    assert counts == (db.session.scalar(select(func.count()).select_from(User)),
                      db.session.scalar(select(func.count()).select_from(Account)))
    client.login("ivanova@example.com", DEMO_PASSWORD)
    page = client.get("/cabinet/").get_data(as_text=True)
    assert "1000000001" in page and "1000000002" in page
