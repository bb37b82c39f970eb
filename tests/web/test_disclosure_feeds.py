"""A regulator's robot, without a login, reads the JSON index (checked against the schema the site
serves), the Atom feed (checked against RFC 4287's grammar) and asks again with its validators."""
import hashlib
import json

from jsonschema import Draft202012Validator

from tests.services.test_disclosure_feeds import ATOM, index_item, item, publish, valid_feed, withdraw

BASE = "http://portal.test/disclosure"






def get_index(client) -> dict:
    response = client.get("/disclosure/index.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    schema = client.get("/disclosure/index.schema.json")
    assert schema.status_code == 200 and schema.mimetype == "application/schema+json"
    data = json.loads(response.get_data(as_text=True))
    assert data["schema"] == schema.get_json()["$id"] == f"{BASE}/index.schema.json"
    validator = Draft202012Validator(schema.get_json(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(data))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    return data


def test_the_index_lists_a_publication_without_a_login(client, users, taxonomy):
    document, data = publish(item(), users.staff("admin"), "Бухгалтерский баланс")
    response = client.get("/disclosure/index.json")
    # Russian as it is, not as \u escapes.
    assert "Бухгалтерская отчётность" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    assert response.headers["ETag"].startswith('W/"') and response.last_modified is not None
    current = index_item(get_index(client))["current"]
    assert current["sha256"] == hashlib.sha256(data).hexdigest() == document.sha256
    assert current["url"] == f"{BASE}/documents/{document.id}"
    # The links lead where they say: the card, and the very bytes the checksum is of.
    assert client.get(current["url"].removeprefix("http://portal.test")).status_code == 200
    file = client.get(current["file_url"].removeprefix("http://portal.test"))
    assert file.status_code == 200 and hashlib.sha256(file.data).hexdigest() == current["sha256"]


def test_conditional_gets_of_the_index(client, users, taxonomy):
    admin = users.staff("admin")
    publish(item(), admin, "Баланс первый")
    first = client.get("/disclosure/index.json")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/disclosure/index.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/disclosure/index.json", headers={"If-Modified-Since": modified}).status_code == 304
    # The time it was made differs; the validator does not.
    assert client.get("/disclosure/index.json").headers["ETag"] == etag

    publish(item(), admin, "Баланс исправленный")
    changed = client.get("/disclosure/index.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert index_item(changed.get_json())["current"]["version"] == 2


def test_the_schema_is_served_with_validators(client):
    response = client.get("/disclosure/index.schema.json")
    Draft202012Validator.check_schema(response.get_json())
    assert client.get("/disclosure/index.schema.json",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_feed_shows_publications_newest_first_and_withdrawals(client, users, taxonomy, atom_grammar):
    admin = users.staff("admin")
    empty = client.get("/disclosure/feed.atom")
    assert empty.status_code == 200 and empty.mimetype == "application/atom+xml"
    assert "Last-Modified" not in empty.headers
    assert valid_feed(empty.data, atom_grammar).xpath("a:entry", namespaces=ATOM) == []

    first, _ = publish(item(), admin, "Баланс первый")
    response = client.get("/disclosure/feed.atom")
    feed = valid_feed(response.data, atom_grammar)
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
    assert feed.find("a:link[@rel='self']", namespaces=ATOM).get("href") == f"{BASE}/feed.atom"
    assert [e.findtext("a:id", namespaces=ATOM) for e in feed.xpath("a:entry", namespaces=ATOM)] == [
        f"tag:portal.test,2026:disclosure/documents/{first.id}/published"]
    assert client.get("/disclosure/feed.atom", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert client.get("/disclosure/feed.atom",
                      headers={"If-Modified-Since": response.headers["Last-Modified"]}).status_code == 304

    second, data = publish(item(), admin, "Баланс исправленный")
    response = client.get("/disclosure/feed.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert response.status_code == 200
    entries = valid_feed(response.data, atom_grammar).xpath("a:entry", namespaces=ATOM)
    assert [e.findtext("a:id", namespaces=ATOM).split("/")[-2] for e in entries] == [str(second.id), str(first.id)]
    enclosure = entries[0].find("a:link[@rel='enclosure']", namespaces=ATOM)
    assert enclosure.get("length") == str(len(data))
    file = client.get(enclosure.get("href").removeprefix("http://portal.test"))
    assert file.status_code == 200 and file.data == data

    withdraw(second, admin, "Ошибка в отчётности")
    entries = valid_feed(client.get("/disclosure/feed.atom").data, atom_grammar).xpath("a:entry", namespaces=ATOM)
    assert entries[0].findtext("a:id", namespaces=ATOM).endswith(f"/documents/{second.id}/withdrawn")
    assert "Ошибка в отчётности" in entries[0].findtext("a:summary", namespaces=ATOM)
    listed = index_item(get_index(client))
    assert listed["current"] is None and listed["withdrawn"]["id"] == second.id
    assert [d["id"] for d in listed["archive"]] == [first.id]
