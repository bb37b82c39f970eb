"""Russian by default, English on request, and no string left untranslated."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_russian_by_default_and_english_on_request(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="ru">' in page and "Войти" in page
    switched = client.submit("/auth/login", {"lang": "en", "next": "/auth/login"}, action="/language", follow=True)
    html = switched.get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html


def test_a_logged_in_users_choice_is_remembered(app, client, users):
    from tests.helpers import Browser

    user = users.customer()
    client.login(user.email, PASSWORD)
    client.submit("/cabinet/", {"lang": "en", "next": "/cabinet/"}, action="/language")
    other_device = Browser(app.test_client())
    other_device.login(user.email, PASSWORD)
    assert '<html lang="en">' in other_device.get("/cabinet/").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(client):
    response = client.submit("/auth/login", {"lang": "en", "next": "https://evil.example/"}, action="/language")
    assert response.headers["Location"] == "/"


def test_every_string_in_the_code_has_a_russian_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-location", "app", "workflows", "docs_templates"],
                   cwd=ROOT, check=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "app/translations/ru/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in wanted - translated)
    assert not missing, "run `make extract` and translate:\n" + "\n".join(missing)
