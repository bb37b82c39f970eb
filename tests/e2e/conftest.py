"""A live portal on a loopback port and a real Chromium driving it."""
import os
import socket
import threading
from pathlib import Path

import flask_migrate
import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import unavailable

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    mail = folder / "mail"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'portal.sqlite'}",
                     MAIL_URL=f"file://{mail}", CELERY_BROKER_URL="memory://",
                     CELERY_RESULT_BACKEND="cache+memory://")
    with app.app_context():
        flask_migrate.upgrade()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{port}", "mail": mail, "app": app}
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 375, "height": 812})  # a phone
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    """A desktop-sized page for the long process scenarios; its context downloads documents too."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
