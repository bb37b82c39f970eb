"""The SOAP form of the ASKUE server contract (askue_server.wsdl): GetValues and GetEvents since a
cursor, with zeep.

    source = SoapSource(WSDL_PATH, "https://askue.example/soap", "gridcase", password)
    for page in source.pages(saved_cursor): ...

Authentication is a WS-Security UsernameToken with the password as text in the header of every
request (no session to expire, nothing to renew), so the endpoint must be https outside a test.
`wsdl` is our file (default: no request to load it) or the server's ?wsdl URL; `endpoint` overrides
the WSDL's address, which in our file is a placeholder. The zeep client is made on the first request,
so a server that is down at start-up is a SourceError of the first poll, not of the constructor.
"""
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
from zeep.wsse.username import UsernameToken

from askue.series import MeterEvent
from askue.sources import FeedPage, FeedSource, SourceError, SourceRejected, make_series

NAMESPACE = "urn:gridcase:askue-server:1"
WSDL_PATH = Path(__file__).with_name("askue_server.wsdl")
BINDING = f"{{{NAMESPACE}}}AskueServerBinding"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


class SoapSource(FeedSource):
    def __init__(self, wsdl: str | Path = WSDL_PATH, endpoint: str | None = None, username: str = "",
                 password: str = "", page_size: int = 500, timeout: float = 30,
                 session: requests.Session | None = None, retries: int = 2, retry_delay: float = 0.5):
        self.wsdl, self.endpoint = str(wsdl), endpoint
        self.username, self.password = username, password
        self.page_size, self.timeout = page_size, timeout
        self.retries, self.retry_delay = retries, retry_delay
        self._own_session = session is None
        self._session = session or requests.Session()
        self._service = None

    def fetch_values(self, since: str | None, limit: int) -> FeedPage:
        answer = self._call("GetValues", since, limit)
        where = f"the values page after cursor {since!r}"
        items = [_value_item(item, f"item {index} of {where}") for index, item in enumerate(answer.item or [])]
        return FeedPage(items, _cursor(answer, where), bool(answer.hasMore))

    def fetch_events(self, since: str | None, limit: int) -> FeedPage:
        answer = self._call("GetEvents", since, limit)
        where = f"the events page after cursor {since!r}"
        items = [_event_item(item, f"event {index} of {where}") for index, item in enumerate(answer.event or [])]
        return FeedPage(items, _cursor(answer, where), bool(answer.hasMore))

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def _call(self, operation: str, since: str | None, limit: int) -> Any:
        try:
            service = self._service or self._connect()
            return getattr(service, operation)(since=since, limit=limit)
        except zeep.exceptions.Fault as fault:
            raise _fault_error(fault) from fault
        except zeep.exceptions.TransportError as exc:
            message = f"the ASKUE server answered HTTP {exc.status_code} to {operation}: {_cut(exc.message)}"
            if exc.status_code in (408, 429) or exc.status_code >= 500:
                raise SourceError(message) from exc
            raise SourceRejected(message) from exc
        except requests.Timeout as exc:
            raise SourceError(f"the ASKUE server did not answer {operation} in {self.timeout} s") from exc
        except requests.RequestException as exc:
            raise SourceError(f"the ASKUE server cannot be reached: {exc}") from exc
        except (zeep.exceptions.Error, ValueError) as exc:
            # An answer that is not our SOAP (a proxy's page, a cut-off body): most likely temporary.
            raise SourceError(f"the ASKUE server sent an answer to {operation} that cannot be read: "
                              f"{_cut(str(exc))}") from exc

    def _connect(self):
        # `operation_timeout` covers the SOAP calls; `timeout`, loading the WSDL from a URL.
        transport = zeep.Transport(session=self._session, timeout=self.timeout, operation_timeout=self.timeout)
        client = zeep.Client(self.wsdl, transport=transport, wsse=UsernameToken(self.username, self.password))
        self._service = client.create_service(BINDING, self.endpoint) if self.endpoint else client.service
        return self._service


def _value_item(item: Any, where: str) -> tuple[int, Any]:
    where = f"{where} (seq {item.seq})"
    # zeep gives None for an <interval/> without attributes (a gap with status 0), and the schema's
    # default of an absent status as its text "0".
    values = [interval.wh if interval is not None else None for interval in item.interval]
    statuses = [int(interval.status or 0) if interval is not None else 0 for interval in item.interval]
    return item.seq, make_series(where, item.seq, item.point, item.channel, _aware(item.start, where),
                                 item.minutes, values, statuses)


def _event_item(item: Any, where: str) -> tuple[int, MeterEvent]:
    where = f"{where} (seq {item.seq})"
    details = {detail.name: detail.value for detail in item.detail or []}
    return item.seq, MeterEvent(item.point, _aware(item.at, where), item.kind, details)


def _aware(moment: Any, where: str) -> datetime:
    # The schema's pattern asks for an offset, but zeep does not check patterns on what it receives.
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise SourceRejected(f"{where}: a moment without its UTC offset: {moment!r}")
    return moment


def _cursor(answer: Any, where: str) -> str:
    if not answer.nextCursor:
        raise SourceRejected(f"{where} has no nextCursor")
    return answer.nextCursor


def _fault_error(fault: zeep.exceptions.Fault) -> SourceError:
    """SourceRejected for a soap:Client fault (the code of its Problem first); SourceError otherwise."""
    code = (fault.code or "").rpartition(":")[2].split(".", 1)[0]
    detail = fault.detail if getattr(fault.detail, "tag", None) is not None else None
    problem = detail.find(f"{{{NAMESPACE}}}Problem") if detail is not None else None
    reason = fault.message or "a fault without a message"
    if problem is not None:
        reason = f"{(problem.findtext(f'{{{NAMESPACE}}}code') or '').strip()}: {reason}"
    if code == "Client":
        return SourceRejected(f"the ASKUE server refused the request: {reason}")
    return SourceError(f"the ASKUE server failed: {reason}")


def _cut(text: str | None, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
