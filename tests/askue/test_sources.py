"""ASKUE server sources (REST and SOAP) against the stand-in server on loopback: no database, no Flask."""
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests
from lxml import etree

from askue.series import Status
from askue.simulators.askue_server import AskueServerSimulator, Problem, load_schema
from askue.sources import SourceError, SourceRejected, join_cursor, split_cursor
from askue.sources.rest import RestSource
from askue.sources.soap import SoapSource
from tests.helpers import Clock

NOW = datetime(2026, 11, 3, 12, 7, tzinfo=timezone.utc)
NS = {"a": "urn:gridcase:askue-server:1", "soap": "http://schemas.xmlsoap.org/soap/envelope/"}


pytestmark = pytest.mark.usefixtures("no_threads_left")


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def server(clock):
    # 25 points over two days: some 450 records and a handful of events of every kind.
    with AskueServerSimulator(points=25, clock=clock, history=timedelta(days=2), collect_minutes=180) as sim:
        yield sim


@pytest.fixture
def small(clock):
    # Enough for a few pages; for the failures, where the data itself does not matter.
    with AskueServerSimulator(points=10, clock=clock, history=timedelta(days=1)) as sim:
        yield sim


def rest_source(server, **options):
    options = {"page_size": 100, "timeout": 2, "retry_delay": 0.01, **options}
    return RestSource(server.rest_url, server.client_id, server.client_secret, **options)


def soap_source(server, **options):
    options = {"page_size": 100, "timeout": 2, "retry_delay": 0.01, **options}
    return SoapSource(endpoint=server.soap_url, username=server.username, password=server.password, **options)


@pytest.fixture(params=["rest", "soap"])
def make_source(request):
    """make_source(server, **options): a RestSource or a SoapSource of the server, closed after the test."""
    make = rest_source if request.param == "rest" else soap_source
    sources = []

    def made(server, **options):
        sources.append(make(server, **options))
        return sources[-1]

    yield made
    for source in sources:
        source.close()


class Store:
    """What a poller keeps: values by (point, channel, start), the later record winning; events."""

    def __init__(self):
        self.values, self.events, self.received = {}, [], Counter()
        self.cursor = None

    def take(self, page) -> None:
        for series in page.series:
            for start, value in zip(series.starts(), series.values):
                key = (series.meter, series.channel, start)
                self.values[key] = value
                self.received[key] += 1
        self.events += [(event.meter, event.at, event.kind) for event in page.events]
        self.cursor = page.cursor

    def read(self, source, cursor=None) -> list:
        pages = list(source.pages(cursor))
        for page in pages:
            self.take(page)
        return pages


def wh_by_channel(values: dict) -> Counter:
    totals = Counter()
    for (point, channel, _), value in values.items():
        totals[point, channel] += value or 0
    return totals


def seqs(pages) -> list[int]:
    return [series.extra["seq"] for page in pages for series in page.series]


# ---- reading everything --------------------------------------------------------------------------------

def test_reading_from_the_start_gets_exactly_what_the_server_holds(server, make_source):
    store = Store()
    pages = store.read(make_source(server))

    expected = server.expected_values()
    assert len(pages) >= 4 and not pages[-1].has_more
    assert store.values == expected
    assert wh_by_channel(store.values) == wh_by_channel(expected)
    assert set(store.received.values()) == {1}  # no interval twice
    assert store.events == server.expected_events()
    assert {kind for _, _, kind in store.events} == {"power_off", "power_on", "cover_opened"}
    assert seqs(pages) == sorted(seqs(pages))
    # The data has the features the poller must cope with: gaps, statuses, export, several lengths.
    assert None in store.values.values()
    statuses = {status for page in pages for series in page.series for status in series.statuses or []}
    assert Status.POWER_OFF in statuses and Status.COVER_OPENED in statuses
    assert {channel for _, channel, _ in store.values} == {"A+", "A-"}
    assert len({len(series) for page in pages for series in page.series}) > 1
    assert split_cursor(pages[-1].cursor) == (str(server.records[-1]["seq"]), str(server.events[-1]["seq"]))


def test_rest_and_soap_hand_over_the_same_pages(server):
    with rest_source(server) as rest, soap_source(server) as soap:
        by_rest, by_soap = list(rest.pages()), list(soap.pages())
    assert by_rest == by_soap


def test_a_days_profile_adds_up_to_the_meters_counters(server):
    day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    store = Store()
    with rest_source(server) as source:
        store.read(source)
    checked = 0
    for code, point in server.points.items():
        day_values = [store.values[code, "A+", day + timedelta(minutes=30 * i)] for i in range(48)]
        if None in day_values or any(server.interval(code, "A+", day + timedelta(minutes=30 * i))[1]
                                     for i in range(48)):
            continue  # a gap or a power cut: the counters do not see those
        counted = point.meter.counters_at(day + timedelta(days=1))["total"] - point.meter.counters_at(day)["total"]
        # Counters are cut to 10 Wh; each of the 48 values is rounded to 1 Wh.
        assert abs(sum(day_values) - counted * 1000) <= 10 + 48 * 0.5
        checked += 1
    assert checked >= len(server.points) // 2


# ---- cursors and restarts --------------------------------------------------------------------------------

def test_resuming_from_a_saved_cursor_yields_only_newer_records(server, clock, make_source):
    store = Store()
    store.read(make_source(server))
    seen = server.last_seq

    assert list(make_source(server).pages(store.cursor)) == []  # nothing new

    clock.now += timedelta(hours=3)
    later = store.read(make_source(server), store.cursor)
    assert later and min(seqs(later)) > seen
    assert {start for page in later for series in page.series for start in series.starts()} \
        >= {NOW.replace(minute=0) + timedelta(minutes=30 * i) for i in range(6)}
    assert store.values == server.expected_values()
    assert set(store.received.values()) == {1}
    assert store.events == server.expected_events()


def test_late_data_comes_after_the_cursor_and_fills_the_gap(server, make_source):
    store = Store()
    store.read(make_source(server))
    point, channel, start = next(key for key, value in store.values.items() if value is None and key[1] == "A+")

    seq = server.late_data(point, start)
    pages = store.read(make_source(server), store.cursor)

    assert seqs(pages) == [seq]
    assert store.values[point, channel, start] == server.interval(point, channel, start, gaps=False)[0] > 0
    assert store.values == server.expected_values()


def test_a_crash_after_page_k_repeats_page_k_and_loses_nothing(server, make_source):
    store = Store()
    pages = make_source(server).pages()
    taken = [next(pages) for _ in range(4)]
    for page in taken[:3]:
        store.take(page)  # page 4 was received but the process died before committing it
    pages.close()

    resumed = store.read(make_source(server), taken[2].cursor)

    assert resumed[0] == taken[3]
    assert store.values == server.expected_values()
    assert set(store.received.values()) == {1}
    assert store.events == server.expected_events()


def test_cursors_cover_both_feeds_and_are_checked(small, make_source):
    assert split_cursor(join_cursor("12", None)) == ("12", None)
    assert split_cursor(None) == (None, None)
    with pytest.raises(ValueError):
        next(make_source(small).pages("12"))
    with pytest.raises(SourceRejected, match="(?i)cursor_ahead"):
        next(make_source(small).pages(join_cursor(str(small.last_seq + 100), None)))


# ---- failures --------------------------------------------------------------------------------------------

def test_a_failure_or_two_is_retried(small, make_source):
    source = make_source(small, retries=2)
    small.fail_next(2)
    store = Store()
    store.read(source)
    assert store.values == small.expected_values()


def test_a_server_that_keeps_failing_is_a_source_error_after_bounded_retries(small, make_source):
    source = make_source(small, retries=2)
    small.fail_next(100)
    with pytest.raises(SourceError) as caught:
        next(source.pages())
    assert not isinstance(caught.value, SourceRejected)
    assert "3 attempts" in str(caught.value)
    requests_made = sum(small.request_counts.values())
    assert requests_made == 3


def test_service_unavailable_from_a_proxy_is_temporary(small, make_source):
    small.fail_next(100, status=503)
    with pytest.raises(SourceError) as caught:
        next(make_source(small, retries=0).pages())
    assert not isinstance(caught.value, SourceRejected) and "503" in str(caught.value)


def test_a_repeated_page_is_skipped(small, make_source):
    store = Store()
    pages = make_source(small).pages()
    store.take(next(pages))
    small.duplicate_next_page("values")
    for page in pages:
        store.take(page)
    assert set(store.received.values()) == {1}
    assert store.values == small.expected_values()
    value_requests = small.request_counts["values"] + small.request_counts["GetValues"]
    assert value_requests == -(-len(small.records) // 100) + 1  # the pages, and the repeated one


def test_a_server_stuck_on_one_page_is_a_source_error(small, make_source):
    pages = make_source(small).pages()
    next(pages)
    small.duplicate_next_page("values", times=100)
    with pytest.raises(SourceError, match="no progress") as caught:
        next(pages)
    assert not isinstance(caught.value, SourceRejected)


def test_a_stale_token_is_renewed_once(small):
    with rest_source(small) as source:
        pages = source.pages()
        store = Store()
        store.take(next(pages))
        small.expire_tokens()
        for page in pages:
            store.take(page)
    assert small.request_counts["token"] == 2
    assert store.values == small.expected_values()


def test_a_token_refused_right_after_issue_is_rejected(small, monkeypatch):
    def refuse(authorization):
        raise Problem(401, "INVALID_TOKEN", "no token is good enough")

    monkeypatch.setattr(small, "_check_bearer", refuse)
    with rest_source(small) as source, pytest.raises(SourceRejected, match="just issued"):
        next(source.pages())
    assert small.request_counts["token"] == 2


def test_bad_credentials_are_rejected(small):
    with RestSource(small.rest_url, small.client_id, "wrong", retry_delay=0.01) as source:
        with pytest.raises(SourceRejected, match="credentials"):
            next(source.pages())
    with SoapSource(endpoint=small.soap_url, username=small.username, password="wrong",
                    retry_delay=0.01) as source:
        with pytest.raises(SourceRejected, match="AUTH"):
            next(source.pages())
    assert small.request_counts["token"] == 1 and small.request_counts["GetValues"] == 1  # not retried


@pytest.mark.parametrize("fields, named", [
    ({"start": "2026-11-01T00:00:00"}, "start"),
    ({"channel": "B+"}, "channel"),
    ({"values": [1, -5]}, "values"),
    ({"statuses": [0]}, "statuses"),
    ({"seq": "12"}, "seq"),
])
def test_a_malformed_item_is_rejected_naming_it(small, fields, named):
    small.malform_next_page(**fields)
    with rest_source(small) as source, pytest.raises(SourceRejected) as caught:
        next(source.pages())
    message = str(caught.value)
    assert "item 0 of the values page" in message and named in message


def test_an_answer_that_is_not_json_is_temporary(small):
    def maintenance_page(response, *args, **kwargs):
        # What a proxy in front of the small answers while it is being updated.
        if "/values" in response.url:
            response._content = b"<html><body>Service is being updated</body></html>"
        return response

    with requests.Session() as session:
        session.hooks["response"].append(maintenance_page)
        with rest_source(small, retries=0, session=session) as source:
            with pytest.raises(SourceError, match="not JSON") as caught:
                next(source.pages())
    assert not isinstance(caught.value, SourceRejected)


def test_a_server_that_is_down_is_a_source_error():
    with AskueServerSimulator(points=1, clock=lambda: NOW) as gone:
        url = gone.rest_url
    with RestSource(url, "gridcase", "askue-secret", timeout=1, retries=1, retry_delay=0.01) as source:
        with pytest.raises(SourceError, match="cannot be reached"):
            next(source.pages())


# ---- the SOAP contract ------------------------------------------------------------------------------------

def test_the_wsdl_is_served_with_the_servers_address_and_works_as_it_is(server):
    wsdl = etree.fromstring(requests.get(server.wsdl_url, timeout=2).content)
    addresses = wsdl.xpath("//s:address/@location", namespaces={"s": "http://schemas.xmlsoap.org/wsdl/soap/"})
    assert addresses == [server.soap_url]
    with SoapSource(server.wsdl_url, None, server.username, server.password, page_size=500) as source:
        store = Store()
        store.read(source)
    assert store.values == server.expected_values()


def test_the_servers_soap_answers_follow_the_schema(small):
    schema = load_schema()
    for operation in ("GetValues", "GetEvents"):
        envelope = (
            f'<soap:Envelope xmlns:soap="{NS["soap"]}"><soap:Header>'
            '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-'
            f'secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>{small.username}</wsse:Username>'
            f'<wsse:Password>{small.password}</wsse:Password></wsse:UsernameToken></wsse:Security>'
            f'</soap:Header><soap:Body><{operation} xmlns="{NS["a"]}"><limit>1000</limit></{operation}>'
            '</soap:Body></soap:Envelope>')
        answer = requests.post(small.soap_url, data=envelope.encode(), timeout=2,
                               headers={"Content-Type": "text/xml; charset=utf-8"})
        assert answer.status_code == 200
        body = etree.fromstring(answer.content).find("soap:Body", NS)[0]
        assert schema.validate(body), schema.error_log
        assert body.find("a:hasMore", NS).text in ("true", "false")


def test_a_request_against_the_schema_is_refused(small):
    with soap_source(small, page_size=5000) as source, pytest.raises(SourceRejected, match="SCHEMA"):
        next(source.pages())
