"""Shared fixtures.

Database tests run twice, on SQLite and on PostgreSQL, against a schema built by the Alembic
migrations. Outside services that are missing make their tests skip with the reason, except under
REQUIRE_SERVICES=1 (CI), where a missing service fails the run.
"""
import email
import os
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

# Settings are read at import time, so the test instance folder is chosen before the app is imported.
os.environ["GRIDCASE_ENV"] = "testing"
os.environ.setdefault("GRIDCASE_INSTANCE", tempfile.mkdtemp(prefix="gridcase-test-"))

import flask_migrate  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.helpers import Browser  # noqa: E402

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
# Reference data that the migrations insert and the tests keep.
KEEP_TABLES = {"alembic_version", "staff_group", "zone_hours", "substitution_rule", "key_rate", "penalty_rate_cap", "due_date_rule"}


def unavailable(service: str, reason) -> None:
    message = f"{service} is not reachable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gridcase.sqlite'}"
        return
    name = f"gridcase_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        unavailable("PostgreSQL", exc)
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def migrated_app(database_url, mail_dir):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, MAIL_URL=f"file://{mail_dir}",
                     CELERY_BROKER_URL="memory://", CELERY_RESULT_BACKEND="cache+memory://",
                     PUBLIC_URL="http://portal.test")
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())


@pytest.fixture
def app(migrated_app, mailbox):
    """The app on a clean database (per backend) with default settings restored after the test."""
    saved = dict(migrated_app.config)
    with migrated_app.app_context():
        yield migrated_app
    migrated_app.config.clear()
    migrated_app.config.update(saved)
    _empty_tables(migrated_app)


@pytest.fixture
def no_threads_left():
    """Stand-ins must stop their server threads: a test using one leaves no thread running."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"


@pytest.fixture
def client(app) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def mailbox(mail_dir):
    return Mailbox(mail_dir)


class Mailbox:
    """The letters the app wrote to its mail folder during a test."""

    def __init__(self, folder: Path):
        self.folder = folder
        for path in folder.glob("*.eml"):
            path.unlink()

    def messages(self) -> list[email.message.EmailMessage]:
        paths = sorted(self.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]

    def last_to(self, address: str) -> email.message.EmailMessage:
        found = [m for m in self.messages() if m["To"] == address]
        assert found, f"no letter to {address}"
        return found[-1]

    def link_to(self, address: str) -> str:
        body = self.last_to(address).get_content()
        line = next(line for line in body.splitlines() if line.startswith("http"))
        return line.strip()


@pytest.fixture
def users(app):
    from tests.factories import UserFactory

    return UserFactory(app)


@pytest.fixture
def billing(app):
    from tests.factories import BillingFactory

    return BillingFactory(app)


@pytest.fixture
def taxonomy(app):
    """The disclosure taxonomy as `flask disclosure seed` lays it out."""
    from app.services import disclosure

    disclosure.seed_taxonomy()


@pytest.fixture(scope="session")
def atom_grammar():
    """RFC 4287's RELAX NG grammar of Atom, for the disclosure feed."""
    from lxml import etree

    return etree.RelaxNG(etree.parse(str(Path(__file__).parent / "schemas" / "atom.rng")))
