"""The machine-readable index (JSON) and the Atom feed of new publications.

Robots poll these, so every answer carries an ETag and a Last-Modified (the newest publication or
withdrawal), a conditional GET that finds nothing new gets 304 without a body, and shared caches may
keep an answer for five minutes.
"""
import hashlib
import json
from datetime import datetime

from flask import current_app, request

from app.services import disclosure_feeds
from app.web.disclosure import bp

MAX_AGE = 300
JSON_TYPE = "application/json; charset=utf-8"
SCHEMA_TYPE = "application/schema+json; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@bp.get("/index.json")
def index_json():
    changed = disclosure_feeds.last_modified()  # before the body: never newer than what it describes
    data = disclosure_feeds.index()
    generated = data.pop("generated_at")
    content = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # `generated_at` alone changes from one request to the next; the rest is the same for the same
    # data, hence a weak validator over the rest.
    body = b'{"generated_at":' + json.dumps(generated).encode("ascii") + b"," + content[1:]
    return _conditional(body, JSON_TYPE, _digest(content), changed, weak=True)


@bp.get("/index.schema.json")
def index_schema():
    body = json.dumps(disclosure_feeds.schema(), ensure_ascii=False, indent=2).encode("utf-8")
    return _conditional(body, SCHEMA_TYPE, _digest(body), None)


@bp.get("/feed.atom")
def feed():
    changed = disclosure_feeds.last_modified()
    body = disclosure_feeds.atom()
    return _conditional(body, ATOM_TYPE, _digest(body), changed)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _conditional(body: bytes, content_type: str, etag: str, changed: datetime | None, weak: bool = False):
    response = current_app.response_class(body, content_type=content_type)
    response.set_etag(etag, weak=weak)
    if changed is not None:
        response.last_modified = changed
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response.make_conditional(request)
