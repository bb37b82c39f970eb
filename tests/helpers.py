"""A test client that fills in CSRF tokens the way a browser submits a rendered form."""
import contextvars
import re
import threading
from urllib.parse import urlsplit

CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """Each request runs in an empty context, as in a real server: the test's own app context (its
    database session, `g`) is not shared with the requests it makes."""

    REQUEST_METHODS = {"get", "post", "put", "patch", "delete", "open", "head"}

    def __init__(self, client):
        self.client = client
        self.last = None

    def _run(self, client_method: str, /, *args, **kwargs):
        return contextvars.Context().run(getattr(self.client, client_method), *args, **kwargs)

    def get(self, path, **kwargs):
        self.last = self._run("get", path, **kwargs)
        return self.last

    def csrf(self, path: str = "/auth/login") -> str:
        page = self._run("get", path)
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def submit(self, form_path: str, data: dict, action: str | None = None, follow: bool = False):
        """Open the page with the form, then post it with the token it carries."""
        token = self.csrf(form_path)
        self.last = self._run("post", action or form_path, data={"csrf_token": token, **data},
                              follow_redirects=follow)
        return self.last

    def login(self, email: str, password: str):
        response = self.submit("/auth/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def api(self, method: str, path: str, json=None, token: str | None = None, csrf: bool = True):
        headers = {"Accept-Language": "en"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif csrf and method.upper() != "GET":
            headers["X-CSRFToken"] = self.csrf("/profile/")
        self.last = self._run("open", path, method=method, json=json, headers=headers)
        return self.last

    def __getattr__(self, name):
        if name in self.REQUEST_METHODS:
            return lambda *args, **kwargs: self._run(name, *args, **kwargs)
        return getattr(self.client, name)


def location_path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def age_timers(case, by) -> None:
    """Move the case's pending timers into the past, as if `by` (a timedelta) had gone by: the engine
    compares timers with the real clock, and the stored state is data we may rewrite in a test."""
    import json
    from datetime import datetime

    from app.extensions import db

    db.session.refresh(case)
    stored = json.loads(case.state)
    for task in stored["tasks"].values():
        value = task.get("internal_data", {}).get("event_value")
        if isinstance(value, str):
            task["internal_data"]["event_value"] = (datetime.fromisoformat(value) - by).isoformat()
    case.state = json.dumps(stored)
    case.next_timer_at = case.next_timer_at - by
    db.session.commit()


def at_once(app, user_ids: list, action) -> list[str]:
    """Run `action(user)` for each user id (None: no user) in its own thread and session, all released
    together; returns "ok" or the error's text for each."""
    from app.extensions import db
    from app.services.errors import Conflict

    barrier, outcomes = threading.Barrier(len(user_ids)), []

    def run(user_id):
        with app.app_context():
            from app.models import User

            try:
                person = db.session.get(User, user_id) if user_id is not None else None
                barrier.wait()
                action(person)
                outcomes.append("ok")
            except Conflict as refused:
                outcomes.append(str(refused.message))
            except Exception as error:  # noqa: BLE001 — the test reports whatever went wrong
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


class Clock:
    """A clock a test moves by hand, for stand-ins and services that take `clock=` or `now=`."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def make_pdf(text: str) -> bytes:
    """A real one-page PDF with the text on it (WeasyPrint, as the app renders its own)."""
    from html import escape

    from weasyprint import HTML

    return HTML(string=f"<p>{escape(text)}</p>").write_pdf()


def log_in(page, base: str, email: str, password: str | None = None) -> None:
    """Log in through the real login page in the browser (Playwright)."""
    from tests.factories import PASSWORD

    page.goto(f"{base}/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password or PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()


def log_out(page, base: str) -> None:
    page.goto(f"{base}/profile/")
    page.locator("form[action='/auth/logout'] button").click()
    page.wait_for_url(f"{base}/auth/login")
