"""A stand-in of an ASKUE server on loopback, for tests and the demo: both forms of our contract
(askue/sources/README.md) from one HTTP server — REST at /api/v1, SOAP at /soap, the WSDL at /soap?wsdl.

The server "collects" N measuring points (PT000001, ...) every `collect_minutes` of its clock
(injectable, default now): each collection appends to the log, per point and channel, one record with
the 30-minute intervals that ended since that point's last collection, and the point's events of that
time. A point is now and then unreachable for a collection (its next record then carries the backlog),
so records differ in length. Everything follows from the point code and the moment, so a run is
reproducible and a test can compute what must arrive:

- A+ is the `VirtualMeter`'s load: an interval's Wh is its power × 0.5 h, the very rate its counters
  grow at, so a day's sum matches `counters_at` (to the counters' 10 Wh and the rounding of each value);
- every 5th point also exports (A-): a solar plant, daytime only;
- about 1 point-day in 20 has a power cut (power_off / power_on events; the intervals it touches carry
  Status.POWER_OFF and only the energy of the time with power), 1 in 50 a cover_opened event
  (Status.COVER_OPENED on its interval), and about 1 interval in 200 is a gap (null) that `late_data`
  can fill later.

Test controls: `fail_next(n, status)`, `duplicate_next_page(feed)`, `malform_next_page(**fields)`
(REST only), `late_data(point, start)`, `expire_tokens()`; inspection: `expected_values()`,
`expected_events()`, `request_counts`. Only the standard library and lxml.

    python -m askue.simulators.askue_server --port 8805 --points 50
"""
import argparse
import bisect
import functools
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from askue.series import Status
from askue.simulators.meters import MOSCOW, VirtualMeter, utc_now
from integrations.standin import LoopbackHandler, LoopbackServer

REST_PREFIX = "/api/v1"
SOAP_PATH = "/soap"
NAMESPACE = "urn:gridcase:askue-server:1"
WSDL_PATH = Path(__file__).resolve().parents[1] / "sources" / "askue_server.wsdl"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS, WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/", "http://schemas.xmlsoap.org/wsdl/soap/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
JSON_TYPE, XML_TYPE = "application/json; charset=utf-8", "text/xml; charset=utf-8"
MINUTES = 30
STEP = timedelta(minutes=MINUTES)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
MAX_REQUEST_BYTES = 1024 * 1024
EXPORTER_EVERY = 5
OUTAGE_SHARE, COVER_SHARE, GAP_SHARE, UNREACHABLE_SHARE = 0.05, 0.02, 0.005, 0.04


def _unit(*key) -> float:
    """A number in [0, 1) fixed by `key`: the simulator's only source of chance."""
    digest = hashlib.blake2b(":".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Problem(Exception):
    """A request the server refuses: HTTP status, code, reason (a soap:Client fault in SOAP)."""

    def __init__(self, status: int, code: str, reason: str):
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


class _Point:
    def __init__(self, index: int):
        self.code = f"PT{index:06d}"
        self.meter = VirtualMeter(f"askue:{self.code}")
        self.exports = index % EXPORTER_EVERY == 0
        self.solar_kw = 1 + 9 * _unit("solar", self.code) if self.exports else 0.0
        self.channels = ("A+", "A-") if self.exports else ("A+",)


class _Handler(LoopbackHandler):
    simulator: "AskueServerSimulator"
    server_version = "AskueServerStandIn/1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == SOAP_PATH and parts.query.lower() == "wsdl":
            self._send(200, XML_TYPE, self.simulator.wsdl())
        elif parts.path.startswith(REST_PREFIX + "/"):
            self._send(*self.simulator.rest("GET", parts.path[len(REST_PREFIX) + 1:], parse_qs(parts.query),
                                            self.headers, b""))
        else:
            self._send(404, "text/plain; charset=utf-8", f"ASKUE server stand-in: REST at {REST_PREFIX}, "
                                                         f"SOAP at {SOAP_PATH}, WSDL at {SOAP_PATH}?wsdl\n".encode())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self._send(413, "text/plain; charset=utf-8", b"a Content-Length up to 1 MiB is required\n")
            return
        raw = self.rfile.read(length)
        if path == SOAP_PATH:
            self._send(*self.simulator.soap(raw))
        elif path.startswith(REST_PREFIX + "/"):
            self._send(*self.simulator.rest("POST", path[len(REST_PREFIX) + 1:], {}, self.headers, raw))
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")


class AskueServerSimulator(LoopbackServer):
    """The server on http://host:port in a daemon thread: `rest_url`, `soap_url`, `wsdl_url`.

    `records` and `events` are the two logs (dicts in seq order, as the API shows them, with datetimes);
    `request_counts` counts requests by kind: token, values, events, GetValues, GetEvents, wsdl.
    """

    handler = _Handler
    name = "askue-server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, points: int = 10,
                 clock: Callable[[], datetime] | None = None, history: timedelta = timedelta(days=1),
                 collect_minutes: int = 60, client_id: str = "gridcase", client_secret: str = "askue-secret",
                 username: str = "gridcase", password: str = "askue-secret", token_ttl: int = 3600,
                 verbose: bool = False):
        super().__init__(host, port)
        if collect_minutes <= 0 or collect_minutes % MINUTES:
            raise ValueError(f"collect_minutes must be a multiple of {MINUTES}")
        self.clock = clock or utc_now
        self.points = {point.code: point for point in map(_Point, range(1, points + 1))}
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password = username, password
        self.token_ttl, self.verbose = token_ttl, verbose
        self.records: list[dict] = []
        self.events: list[dict] = []
        self.request_counts: Counter = Counter()
        self._seq = 0
        self._every = timedelta(minutes=collect_minutes)
        begin = self.clock() - history
        self._round = datetime.fromtimestamp(begin.timestamp() // self._every.total_seconds()
                                             * self._every.total_seconds(), timezone.utc)
        self._collected = dict.fromkeys(self.points, self._round)  # end of what each point delivered
        self._tokens: dict[str, datetime] = {}  # token -> expiry by the simulator's clock
        self._failures, self._failure_status = 0, 500
        self._duplicate: Counter = Counter()  # feed -> requests left to answer with the last page
        self._malform: dict = {}
        self.page_delay = 0.0
        self._last_page: dict[str, dict] = {}
        self._schema = load_schema()
        self._wsdl = WSDL_PATH.read_bytes()
        # Handlers run in threads of their own; one lock keeps the logs, the controls and the schema's
        # error log (shared by every validation) consistent.
        self._lock = threading.RLock()

    @property
    def rest_url(self) -> str:
        return self.root + REST_PREFIX

    @property
    def soap_url(self) -> str:
        return self.root + SOAP_PATH

    @property
    def wsdl_url(self) -> str:
        return self.soap_url + "?wsdl"

    # ---- test controls ---------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` API requests (REST or SOAP, not the WSDL) answer HTTP `status` and change nothing."""
        with self._lock:
            self._failures, self._failure_status = n, status

    def duplicate_next_page(self, feed: str = "values", times: int = 1) -> None:
        """The next `times` requests of `feed` ("values" or "events") get the page last answered on it again."""
        with self._lock:
            self._duplicate[feed] = times

    def malform_next_page(self, **fields) -> None:
        """The next REST values page has these fields of its first item replaced (e.g. start="yesterday")."""
        with self._lock:
            self._malform = fields

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401), as after a server restart."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, datetime.min.replace(tzinfo=timezone.utc))

    def late_data(self, point: str, start: datetime, channel: str = "A+") -> int:
        """Append a record of the one interval at `start` (its true value, never a gap), as when the server
        reads a meter's memory again; returns its seq."""
        with self._lock:
            self._catch_up()
            start = start.astimezone(timezone.utc)
            if point not in self.points or channel not in self.points[point].channels:
                raise ValueError(f"no channel {channel} of point {point}")
            if start.timestamp() % STEP.total_seconds() or start + STEP > self._collected[point]:
                raise ValueError(f"{start.isoformat()} is not a collected 30-minute interval of {point}")
            value, status = self.interval(point, channel, start, gaps=False)
            return self._append_record(point, channel, start, [value], [status])

    # ---- inspection ------------------------------------------------------------------------------------

    def expected_values(self) -> dict[tuple[str, str, datetime], int | None]:
        """(point, channel, interval start) -> Wh or None, the latest record winning, as storage keeps it."""
        with self._lock:
            self._catch_up()
            found = {}
            for record in self.records:
                for index, value in enumerate(record["values"]):
                    found[record["point"], record["channel"], record["start"] + STEP * index] = value
            return found

    def expected_events(self) -> list[tuple[str, datetime, str]]:
        with self._lock:
            self._catch_up()
            return [(event["point"], event["at"], event["kind"]) for event in self.events]

    @property
    def last_seq(self) -> int:
        with self._lock:
            self._catch_up()
            return self._seq

    # ---- the meters --------------------------------------------------------------------------------------

    def interval(self, point: str, channel: str, start: datetime, gaps: bool = True) -> tuple[int | None, int]:
        """(Wh or None, status bits) of one 30-minute interval of a point's channel."""
        place = self.points[point]
        if gaps and _unit("gap", point, channel, start.isoformat()) < GAP_SHARE:
            return None, 0
        end, status = start + STEP, 0
        if channel == "A+":
            kw = place.meter.power_kw(start)
        else:
            kw = self._solar_kw(place, start + STEP / 2)
        off = 0.0
        outage = _outage(point, start)
        if outage and outage[0] < end and start < outage[1]:
            off = (min(end, outage[1]) - max(start, outage[0])) / STEP
            status |= Status.POWER_OFF
        cover = _cover(point, start)
        if cover and start <= cover < end:
            status |= Status.COVER_OPENED
        return round(kw * 1000 * MINUTES / 60 * (1 - off)), int(status)

    @staticmethod
    def _solar_kw(place: _Point, when: datetime) -> float:
        local = when.astimezone(MOSCOW)
        hour = local.hour + local.minute / 60
        if not 6 <= hour < 20:
            return 0.0
        sky = 0.3 + 0.7 * _unit("sky", place.code, local.date().isoformat())
        return place.solar_kw * sky * math.sin(math.pi * (hour - 6) / 14)

    def _catch_up(self) -> None:
        """Run the collections due by the clock, each appending what the points delivered."""
        now = self.clock()
        while self._round + self._every <= now:
            self._round += self._every
            for code, place in self.points.items():
                begin = self._collected[code]
                if _unit("unreachable", code, self._round.isoformat()) < UNREACHABLE_SHARE or begin >= self._round:
                    continue
                starts = [begin + STEP * i for i in range((self._round - begin) // STEP)]
                for channel in place.channels:
                    values, statuses = zip(*(self.interval(code, channel, start) for start in starts))
                    self._append_record(code, channel, begin, list(values), list(statuses))
                for at, kind, details in _events(code, begin, self._round):
                    self._seq += 1
                    self.events.append({"seq": self._seq, "point": code, "at": at, "kind": kind, "details": details})
                self._collected[code] = self._round

    def _append_record(self, point: str, channel: str, start: datetime, values: list, statuses: list) -> int:
        self._seq += 1
        self.records.append({"seq": self._seq, "point": point, "channel": channel, "start": start,
                             "minutes": MINUTES, "values": values, "statuses": statuses})
        return self._seq

    # ---- the feeds -------------------------------------------------------------------------------------

    def page(self, feed: str, since: str | None, limit: int) -> dict:
        """{"items", "next_cursor", "has_more"} of a feed after the cursor `since`; raises Problem."""
        if self.page_delay:
            time.sleep(self.page_delay)  # a slow server, for catching a client mid-read
        with self._lock:
            self._catch_up()
            if self._duplicate[feed] > 0 and feed in self._last_page:
                self._duplicate[feed] -= 1
                return self._last_page[feed]
            after = self._cursor(since)
            log = self.records if feed == "values" else self.events
            index = bisect.bisect_right(log, after, key=lambda record: record["seq"])
            items = log[index:index + limit]
            page = {"items": items, "next_cursor": str(items[-1]["seq"] if items else after),
                    "has_more": index + limit < len(log)}
            self._last_page[feed] = page
            return page

    def _cursor(self, since: str | None) -> int:
        if not since:
            return 0
        if not since.isascii() or not since.isdigit():
            raise Problem(400, "BAD_CURSOR", f"{since!r} is not a cursor of this server")
        if int(since) > self._seq:
            raise Problem(400, "CURSOR_AHEAD", f"the cursor {since} is ahead of the log (last seq {self._seq}): "
                                               "was the server's database restored from a backup?")
        return int(since)

    def _take_failure(self) -> int | None:
        with self._lock:
            if self._failures <= 0:
                return None
            self._failures -= 1
            return self._failure_status

    # ---- REST ------------------------------------------------------------------------------------------

    def rest(self, method: str, route: str, query: dict, headers, raw: bytes) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) of a request to /api/v1/<route>."""
        if (method, route) not in {("POST", "auth/token"), ("GET", "values"), ("GET", "events")}:
            return _json_answer(404, {"error": "not_found", "description": f"no {method} {REST_PREFIX}/{route}"})
        with self._lock:
            self.request_counts["token" if route == "auth/token" else route] += 1
        failure = self._take_failure()
        if failure:
            return _json_answer(failure, {"error": "server_error", "description": "simulated failure"})
        try:
            if route == "auth/token":
                return _json_answer(200, self._issue_token(raw))
            self._check_bearer(headers.get("Authorization") or "")
            since = query.get("since", [None])[0]
            limit = _limit(query.get("limit", [str(DEFAULT_LIMIT)])[0])
            page = self.page(route, since, limit)
        except Problem as problem:
            return _json_answer(problem.status, {"error": problem.code.lower(), "description": problem.reason})
        render = _value_json if route == "values" else _event_json
        items = [render(item) for item in page["items"]]
        with self._lock:
            if route == "values" and self._malform and items:
                items[0].update(self._malform)
                self._malform = {}
        return _json_answer(200, {"items": items, "next_cursor": page["next_cursor"], "has_more": page["has_more"]})

    def _issue_token(self, raw: bytes) -> dict:
        try:
            body = json.loads(raw)
        except ValueError:
            raise Problem(400, "INVALID_REQUEST", "the body must be JSON with client_id and client_secret") from None
        if not isinstance(body, dict) or not (
                hmac.compare_digest(str(body.get("client_id", "")).encode(), self.client_id.encode())
                & hmac.compare_digest(str(body.get("client_secret", "")).encode(), self.client_secret.encode())):
            raise Problem(401, "INVALID_CLIENT", "unknown client_id or wrong client_secret")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self.clock() + timedelta(seconds=self.token_ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}

    def _check_bearer(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if expiry is None or expiry <= self.clock():
                raise Problem(401, "INVALID_TOKEN", "the token is unknown or has expired: get a new one")

    # ---- SOAP ------------------------------------------------------------------------------------------

    def soap(self, raw: bytes) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) of a SOAP request."""
        try:
            envelope = etree.fromstring(raw, _parser())
        except etree.XMLSyntaxError as exc:
            return _client_fault("MALFORMED", f"the request is not XML: {exc}")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        elements = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope" or len(elements) != 1:
            return _client_fault("MALFORMED", "the request is not a SOAP 1.1 envelope with one element in its Body")
        request = elements[0]
        operation = etree.QName(request).localname if etree.QName(request).namespace == NAMESPACE else None
        if operation not in ("GetValues", "GetEvents"):
            return _client_fault("SCHEMA", f"no operation {etree.QName(request).text}")
        with self._lock:
            self.request_counts[operation] += 1
        failure = self._take_failure()
        if failure:
            return _server_fault(failure, "simulated failure")
        if not self._soap_user_ok(envelope):
            return _client_fault("AUTH", "a WS-Security UsernameToken with a known user and password is required")
        with self._lock:
            if not self._schema.validate(request):
                return _client_fault("SCHEMA", "; ".join(f"line {e.line}: {e.message}"
                                                          for e in list(self._schema.error_log)[:5]))
        feed = "values" if operation == "GetValues" else "events"
        try:
            page = self.page(feed, request.findtext(f"{{{NAMESPACE}}}since"),
                             int(request.findtext(f"{{{NAMESPACE}}}limit")))
        except Problem as problem:
            return _client_fault(problem.code, problem.reason)
        return 200, XML_TYPE, _soap_page(operation, feed, page)

    def _soap_user_ok(self, envelope: etree._Element) -> bool:
        token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        username = (token.findtext(f"{{{WSSE}}}Username") or "").encode()
        password = (token.findtext(f"{{{WSSE}}}Password") or "").encode()
        return (hmac.compare_digest(username, self.username.encode())
                & hmac.compare_digest(password, self.password.encode()))

    def wsdl(self) -> bytes:
        """Our WSDL with this server's SOAP address in place of the placeholder."""
        with self._lock:
            self.request_counts["wsdl"] += 1
        wsdl = etree.fromstring(self._wsdl, _parser())
        for address in wsdl.iter(f"{{{WSDL_SOAP_NS}}}address"):
            address.set("location", self.soap_url)
        return etree.tostring(wsdl, xml_declaration=True, encoding="UTF-8")


# ---- what happens at a point -----------------------------------------------------------------------------

def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _outage(point: str, moment: datetime) -> tuple[datetime, datetime] | None:
    """The power cut of the point on the UTC day of `moment`, if it has one; it never crosses midnight."""
    return _day_incidents(point, _midnight(moment))[0]


def _cover(point: str, moment: datetime) -> datetime | None:
    """When the point's cover was opened on the UTC day of `moment`, if it was."""
    return _day_incidents(point, _midnight(moment))[1]


@functools.lru_cache(maxsize=4096)  # asked for every interval of the day
def _day_incidents(point: str, day: datetime) -> tuple[tuple[datetime, datetime] | None, datetime | None]:
    outage = cover = None
    if _unit("outage", point, day.date()) < OUTAGE_SHARE:
        begin = day + timedelta(minutes=int(_unit("outage-at", point, day.date()) * (24 * 60 - 120)))
        outage = begin, begin + timedelta(minutes=5 + int(_unit("outage-for", point, day.date()) * 85))
    if _unit("cover", point, day.date()) < COVER_SHARE:
        cover = day + timedelta(minutes=int(_unit("cover-at", point, day.date()) * 24 * 60))
    return outage, cover


def _events(point: str, begin: datetime, end: datetime) -> list[tuple[datetime, str, dict]]:
    """The point's events in [begin, end), by time."""
    found = []
    day = _midnight(begin)
    while day < end:
        outage, cover = _outage(point, day), _cover(point, day)
        if outage:
            found.append((outage[0], "power_off", {}))
            found.append((outage[1], "power_on", {"off_seconds": str(int((outage[1] - outage[0]).total_seconds()))}))
        if cover:
            found.append((cover, "cover_opened", {}))
        day += timedelta(days=1)
    return sorted((event for event in found if begin <= event[0] < end), key=lambda event: event[:2])


# ---- answers ---------------------------------------------------------------------------------------------

def _limit(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise Problem(400, "BAD_LIMIT", f"limit must be 1..{MAX_LIMIT}, not {text!r}")
    return int(text)


def _value_json(record: dict) -> dict:
    statuses = record["statuses"] if any(record["statuses"]) else None
    return {"seq": record["seq"], "point": record["point"], "channel": record["channel"],
            "start": _iso(record["start"]), "minutes": record["minutes"], "values": list(record["values"]),
            "statuses": list(statuses) if statuses else None}


def _event_json(event: dict) -> dict:
    return {"seq": event["seq"], "point": event["point"], "at": _iso(event["at"]), "kind": event["kind"],
            "details": dict(event["details"])}


def _json_answer(status: int, body: dict) -> tuple[int, str, bytes]:
    return status, JSON_TYPE, json.dumps(body, ensure_ascii=False).encode()


def _parser() -> etree.XMLParser:
    """No DTD, no entities, no network: whatever arrives is data. A parser is not shared between threads."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def load_schema() -> etree.XMLSchema:
    schema = etree.parse(str(WSDL_PATH), _parser()).find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    # Serialising the element carries the namespace declarations it inherits from <definitions>.
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _soap_page(operation: str, feed: str, page: dict) -> bytes:
    envelope, body = _envelope()
    answer = etree.SubElement(body, _tag(operation + "Response"), nsmap={None: NAMESPACE})
    for record in page["items"]:
        item = etree.SubElement(answer, _tag("item" if feed == "values" else "event"))
        etree.SubElement(item, _tag("seq")).text = str(record["seq"])
        etree.SubElement(item, _tag("point")).text = record["point"]
        if feed == "values":
            etree.SubElement(item, _tag("channel")).text = record["channel"]
            etree.SubElement(item, _tag("start")).text = _iso(record["start"])
            etree.SubElement(item, _tag("minutes")).text = str(record["minutes"])
            for value, status in zip(record["values"], record["statuses"]):
                interval = etree.SubElement(item, _tag("interval"))
                if value is not None:
                    interval.set("wh", str(value))
                if status:
                    interval.set("status", str(status))
        else:
            etree.SubElement(item, _tag("at")).text = _iso(record["at"])
            etree.SubElement(item, _tag("kind")).text = record["kind"]
            for name, value in record["details"].items():
                etree.SubElement(item, _tag("detail"), name=name, value=str(value))
    etree.SubElement(answer, _tag("nextCursor")).text = page["next_cursor"]
    etree.SubElement(answer, _tag("hasMore")).text = "true" if page["has_more"] else "false"
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _client_fault(code: str, reason: str) -> tuple[int, str, bytes]:
    """A soap:Client fault with a Problem in its detail; SOAP 1.1 sends every fault as HTTP 500."""
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Client"
    etree.SubElement(fault, "faultstring").text = reason
    problem = etree.SubElement(etree.SubElement(fault, "detail"), _tag("Problem"), nsmap={None: NAMESPACE})
    etree.SubElement(problem, _tag("code")).text = code
    etree.SubElement(problem, _tag("reason")).text = reason
    return 500, XML_TYPE, etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _server_fault(status: int, reason: str) -> tuple[int, str, bytes]:
    if status != 500:  # not SOAP's fault status: what a proxy in front of the server would answer
        return status, "text/plain; charset=utf-8", f"{reason}\n".encode()
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Server"
    etree.SubElement(fault, "faultstring").text = reason
    return 500, XML_TYPE, etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


# ---- running it by hand ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in of an ASKUE server: REST (/api/v1) and SOAP (/soap).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8805)
    parser.add_argument("--points", type=int, default=50, help="measuring points PT000001...")
    parser.add_argument("--history-hours", type=int, default=48, help="hours of data already collected at start")
    parser.add_argument("--collect-minutes", type=int, default=60, help="how often the points are collected")
    parser.add_argument("--client-id", default="gridcase")
    parser.add_argument("--client-secret", default="askue-secret")
    parser.add_argument("--username", default="gridcase", help="the SOAP UsernameToken's user")
    parser.add_argument("--password", default="askue-secret", help="the SOAP UsernameToken's password")
    parser.add_argument("--token-ttl", type=int, default=3600, help="seconds a REST token is valid")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    server = AskueServerSimulator(args.host, args.port, points=args.points,
                                  history=timedelta(hours=args.history_hours), collect_minutes=args.collect_minutes,
                                  client_id=args.client_id, client_secret=args.client_secret,
                                  username=args.username, password=args.password, token_ttl=args.token_ttl,
                                  verbose=not args.quiet)
    server.run(lambda: (f"ASKUE server stand-in, {args.points} points\n"
                        f"REST: {server.rest_url} (client {args.client_id} / {args.client_secret})\n"
                        f"SOAP: {server.soap_url}, WSDL {server.wsdl_url} (user {args.username} / {args.password})\n"
                        "Ctrl-C stops it"),
               "ASKUE server stand-in stopped")


if __name__ == "__main__":
    main()
