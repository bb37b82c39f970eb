"""The JSON API: its OpenAPI document, both ways to authenticate, and problem+json errors."""
from openapi_spec_validator import validate
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent

from tests.factories import PASSWORD

PROBLEM = "application/problem+json"


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/me", "/api/v1/accounts", "/api/v1/tokens"} <= set(spec["paths"])


def test_call_without_auth_is_a_401_problem_and_audited(client):
    calls = [("GET", "/api/v1/me", None), ("GET", "/api/v1/accounts", "gc_not-a-real-token"),
             ("POST", "/api/v1/tokens", None)]
    for method, path, token in calls:
        response = client.api(method, path, json={}, csrf=False, token=token)
        assert response.status_code == 401, path
        assert response.mimetype == PROBLEM
        body = response.get_json()
        assert body["status"] == 401 and body["title"] and body["instance"] == path
    db.session.rollback()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.unauthenticated")).all()
    assert [e.details["bearer"] for e in events] == [False, True, False]


def test_token_made_in_a_session_then_used_as_bearer(client, users):
    user = users.customer()
    client.login(user.email, PASSWORD)
    created = client.api("POST", "/api/v1/tokens", json={"name": "home automation", "days": 30})
    assert created.status_code == 201, created.get_data(as_text=True)
    token = created.get_json()["token"]
    assert token.startswith("gc_") and created.get_json()["prefix"] == token[:10]

    from tests.helpers import Browser

    robot = Browser(client.application.test_client())
    me = robot.api("GET", "/api/v1/me", token=token)
    assert me.status_code == 200 and me.get_json()["email"] == user.email
    assert me.get_json()["roles"] == ["customer"]

    listed = robot.api("GET", "/api/v1/tokens", token=token).get_json()
    assert [t["name"] for t in listed] == ["home automation"] and "token" not in listed[0]
    assert robot.api("DELETE", f"/api/v1/tokens/{listed[0]['id']}", token=token).status_code == 204
    assert robot.api("GET", "/api/v1/me", token=token).status_code == 401


def test_session_writes_need_the_csrf_header(client, users):
    user = users.customer()
    client.login(user.email, PASSWORD)
    response = client.api("POST", "/api/v1/tokens", json={"name": "x"}, csrf=False)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert response.get_json()["type"] == "urn:gridcase:problem:csrf"


def test_invalid_body_is_a_422_problem_with_field_errors(client, users):
    user = users.customer()
    client.login(user.email, PASSWORD)
    missing = client.api("POST", "/api/v1/accounts/link", json={"number": "123"})
    assert missing.status_code == 422 and missing.mimetype == PROBLEM
    assert "code" in missing.get_json()["errors"]
    short = client.api("POST", "/api/v1/accounts/link", json={"number": "12", "code": "1"})
    assert short.status_code == 422 and "number" in short.get_json()["errors"]


def test_accounts_through_the_api(client, users):
    owner, stranger = users.customer(), users.customer()
    mine = users.account(number="3330000001", code="9999")
    theirs = users.account(owner=stranger)
    client.login(owner.email, PASSWORD)
    linked = client.api("POST", "/api/v1/accounts/link", json={"number": "3330000001", "code": "9999"})
    assert linked.status_code == 201 and linked.get_json()["role"] == "owner"
    listed = client.api("GET", "/api/v1/accounts").get_json()
    assert [a["number"] for a in listed] == ["3330000001"]
    assert client.api("GET", f"/api/v1/accounts/{mine.id}").get_json()["holder_name"]

    hidden = client.api("GET", f"/api/v1/accounts/{theirs.id}")
    assert hidden.status_code == 404 and hidden.mimetype == PROBLEM
    rep = client.api("POST", f"/api/v1/accounts/{theirs.id}/representatives", json={"email": owner.email})
    assert rep.status_code == 404


def test_problem_speaks_the_clients_language(client, users):
    user = users.customer()
    client.login(user.email, PASSWORD)
    response = client.open("/api/v1/accounts/999", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert response.status_code == 404
    assert "счёт" in response.get_json()["detail"] or "счет" in response.get_json()["detail"]
