"""The REST form of the ASKUE server contract (README.md): a bearer token from the client id and
secret, then `GET values` and `GET events` since a cursor, page by page.

    source = RestSource("https://askue.example/api/v1", "gridcase", secret)
    for page in source.pages(saved_cursor): ...

The token is taken on the first request and renewed shortly before it expires; a 401 on a data
request (the server forgot or revoked the token early) gets one new token and one more try. The
answers are checked against the contract: a record that is not one is SourceRejected naming the
record, because storing a guess of what the server meant would be worse than stopping.
"""
import time
from datetime import datetime
from typing import Any

import requests

from askue.series import MeterEvent
from askue.sources import FeedPage, FeedSource, SourceError, SourceRejected, make_series

TOKEN_MARGIN = 30  # seconds before its expiry a token is renewed rather than used


class RestSource(FeedSource):
    def __init__(self, base_url: str, client_id: str, client_secret: str, page_size: int = 500,
                 timeout: float = 30, session: requests.Session | None = None, retries: int = 2,
                 retry_delay: float = 0.5):
        """`base_url`: the API root with its version, e.g. https://askue.example/api/v1."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the ASKUE server's URL must be http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.page_size, self.timeout = page_size, timeout
        self.retries, self.retry_delay = retries, retry_delay
        self._own_session = session is None
        self._session = session or requests.Session()
        self._token: str | None = None
        self._token_until = 0.0  # time.monotonic() after which the token is not used any more

    def fetch_values(self, since: str | None, limit: int) -> FeedPage:
        body = self._get("values", since, limit)
        items, next_cursor, has_more = _envelope(body, "values", since)
        return FeedPage([_value_item(item, f"item {index} of the values page after cursor {since!r}")
                         for index, item in enumerate(items)], next_cursor, has_more)

    def fetch_events(self, since: str | None, limit: int) -> FeedPage:
        body = self._get("events", since, limit)
        items, next_cursor, has_more = _envelope(body, "events", since)
        return FeedPage([_event_item(item, f"item {index} of the events page after cursor {since!r}")
                         for index, item in enumerate(items)], next_cursor, has_more)

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    # ---- HTTP ------------------------------------------------------------------------------------------

    def _get(self, feed: str, since: str | None, limit: int) -> Any:
        params = {"limit": limit} if since is None else {"since": since, "limit": limit}
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._bearer(renew)}", "Accept": "application/json"}
            response = self._send("GET", feed, params=params, headers=headers)
            if response.status_code != 401:
                break
        else:
            raise SourceRejected(f"the ASKUE server refuses the token it has just issued: {_problem(response)}")
        _check(response)
        return _json(response)

    def _bearer(self, renew: bool) -> str:
        if self._token and not renew and time.monotonic() < self._token_until:
            return self._token
        self._token = None
        response = self._send("POST", "auth/token", json={"client_id": self.client_id,
                                                          "client_secret": self.client_secret})
        if response.status_code in (400, 401, 403):
            raise SourceRejected(f"the ASKUE server refused the client credentials of {self.client_id!r}: "
                                 f"{_problem(response)}")
        _check(response)
        body = _json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not _is_int(expires_in) or expires_in <= 0:
            raise SourceRejected(f"the token answer has no access_token and positive expires_in: {_cut(body)}")
        self._token = token
        self._token_until = time.monotonic() + expires_in - min(TOKEN_MARGIN, expires_in / 10)
        return token

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self._session.request(method, f"{self.base_url}/{path}", timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise SourceError(f"the ASKUE server did not answer {method} {path} in {self.timeout} s") from exc
        except requests.RequestException as exc:
            raise SourceError(f"the ASKUE server cannot be reached: {exc}") from exc


def _check(response: requests.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    if status in (408, 429) or status >= 500:
        raise SourceError(f"the ASKUE server answered HTTP {status}: {_problem(response)}")
    raise SourceRejected(f"the ASKUE server answered HTTP {status}: {_problem(response)}")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        # Most likely a proxy's or a maintenance page: temporary, unlike JSON that breaks the contract.
        raise SourceError(f"the ASKUE server sent an answer that is not JSON: {_cut(response.text)}") from None


def _problem(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} {_cut(response.text)}"
    if isinstance(body, dict) and body.get("error"):
        return f"HTTP {response.status_code} {body['error']}: {body.get('description', '')}".rstrip(": ")
    return f"HTTP {response.status_code} {_cut(body)}"


# ---- the JSON of a page --------------------------------------------------------------------------------

def _envelope(body: Any, feed: str, since: str | None) -> tuple[list, str, bool]:
    where = f"the {feed} page after cursor {since!r}"
    if not isinstance(body, dict):
        raise SourceRejected(f"{where} is not a JSON object: {_cut(body)}")
    items, next_cursor, has_more = body.get("items"), body.get("next_cursor"), body.get("has_more")
    if not isinstance(items, list):
        raise SourceRejected(f"{where} has no list of items")
    if not isinstance(next_cursor, str) or not next_cursor:
        raise SourceRejected(f"{where} has no next_cursor: {next_cursor!r}")
    if not isinstance(has_more, bool):
        raise SourceRejected(f"{where} has no has_more true or false: {has_more!r}")
    return items, next_cursor, has_more


def _value_item(item: Any, where: str) -> tuple[int, Any]:
    seq = _seq(item, where)
    where = f"{where} (seq {seq})"
    point, channel = _text(item, "point", where), _text(item, "channel", where)
    minutes, values, statuses = item.get("minutes"), item.get("values"), item.get("statuses")
    if not _is_int(minutes):
        raise SourceRejected(f"{where}: minutes must be a number, not {minutes!r}")
    if not isinstance(values, list) or not all(v is None or (_is_int(v) and v >= 0) for v in values):
        raise SourceRejected(f"{where}: values must be a list of Wh (whole, not negative) or null: {_cut(values)}")
    if statuses is not None and (not isinstance(statuses, list)
                                 or not all(_is_int(s) and s >= 0 for s in statuses)):
        raise SourceRejected(f"{where}: statuses must be a list of status bits or null: {_cut(statuses)}")
    start = _moment(item, "start", where)
    return seq, make_series(where, seq, point, channel, start, minutes, values, statuses)


def _event_item(item: Any, where: str) -> tuple[int, MeterEvent]:
    seq = _seq(item, where)
    where = f"{where} (seq {seq})"
    details = item.get("details") or {}
    if not isinstance(details, dict):
        raise SourceRejected(f"{where}: details must be an object, not {_cut(details)}")
    return seq, MeterEvent(_text(item, "point", where), _moment(item, "at", where), _text(item, "kind", where),
                           details)


def _seq(item: Any, where: str) -> int:
    if not isinstance(item, dict):
        raise SourceRejected(f"{where} is not a JSON object: {_cut(item)}")
    seq = item.get("seq")
    if not _is_int(seq) or seq < 1:
        raise SourceRejected(f"{where}: seq must be a positive integer, not {seq!r}")
    return seq


def _text(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SourceRejected(f"{where}: {key} must be a non-empty string, not {value!r}")
    return value


def _moment(item: dict, key: str, where: str) -> datetime:
    value = item.get(key)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SourceRejected(f"{where}: {key} must be an ISO 8601 moment with its UTC offset, not {value!r}")
    return moment


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _cut(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit] + "…"
