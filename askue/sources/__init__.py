"""Reading an ASKUE server (a head-end system that collects the meters) page by page since a cursor.

`RestSource` (askue.sources.rest) and `SoapSource` (askue.sources.soap) speak the two forms of our
contract (README.md, askue_server.wsdl); both are a `Source`:

    for page in source.pages(saved_cursor):      # None: from the beginning
        with transaction():
            store(page.series, page.events)       # idempotent on (meter, channel, start)
            save_cursor(page.cursor)

A generator runs no further than the `yield` until the caller asks for the next page, so the next
request is made only after the caller has stored a page's data and its cursor in ONE transaction.
That is what makes a restart safe: whatever was committed is not asked for again, and whatever was not
committed is asked for again from the last committed cursor (and stored again without harm, the
storage being idempotent). Never save a cursor apart from the data it covers.

The server keeps two feeds, interval values and meter events, each ordered by `seq`. A page holds the
next answer of each feed, and its `cursor` covers both ("values=<cursor>&events=<cursor>"), so the
REST and the SOAP adapter of one server can take over each other's cursor.

Errors tell the caller what to do next:
- `SourceError`: temporary (HTTP 5xx, a time-out, no connection, an unreadable answer): poll again
  later from the last saved cursor; each request was already retried a few times.
- `SourceRejected`: the server refused us or broke the contract (bad credentials, another 4xx, a
  malformed record): polling again will not help, an operator must look.
"""
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlencode

from askue.series import MeterEvent, Series, SeriesError

__all__ = ["Page", "Source", "FeedSource", "FeedPage", "SourceError", "SourceRejected",
           "join_cursor", "make_series", "split_cursor"]


@dataclass
class Page:
    series: list[Series]  # each with extra["seq"], the server's seq of the record
    events: list[MeterEvent]
    cursor: str  # store it with this page's data; pass it to the next pages() call
    has_more: bool  # the server had more at the time of this page


class SourceError(Exception):
    """Temporary: nothing was lost; read again later from the last saved cursor."""


class SourceRejected(SourceError):
    """The server refused the request or answered against the contract: an operator must look."""


class Source(Protocol):
    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        """Pages of what the server received after `cursor` (None: from the beginning), one at a time."""


def join_cursor(values: str | None, events: str | None) -> str:
    return urlencode({name: cursor for name, cursor in (("values", values), ("events", events)) if cursor})


def split_cursor(cursor: str | None) -> tuple[str | None, str | None]:
    """The values feed's and the events feed's cursors; ValueError for a cursor no source made."""
    if not cursor:
        return None, None
    try:
        parts = parse_qs(cursor, keep_blank_values=False, strict_parsing=True)
    except ValueError:
        parts = None
    if not parts or set(parts) - {"values", "events"} or any(len(v) != 1 for v in parts.values()):
        raise ValueError(f"{cursor!r} is not a cursor of an ASKUE source")
    return parts.get("values", [None])[0], parts.get("events", [None])[0]


@dataclass
class FeedPage:
    """One answer of one feed as a transport read it: (seq, record) in the server's order."""

    items: list[tuple[int, Series | MeterEvent]]
    next_cursor: str
    has_more: bool


class _Feed:
    """Where one feed stands in a run of pages(): its cursor and the last seq handed out."""

    def __init__(self, name: str, fetch: Callable[[str | None, int], FeedPage], cursor: str | None):
        self.name, self.fetch, self.cursor = name, fetch, cursor
        self.done = False
        self.last_seq: int | None = None
        self.idle = 0  # answers in a row that brought nothing new though the server said there was more

    def advance(self, source: "FeedSource") -> list:
        page = source.call(self.fetch, self.cursor, self.name)
        seqs = [seq for seq, _ in page.items]
        if any(later <= earlier for earlier, later in zip(seqs, seqs[1:])):
            raise SourceRejected(f"the {self.name} page after cursor {self.cursor!r} is not ordered by seq: "
                                 f"{_short(seqs)}")
        # A buggy server may answer a page again (or overlap the last one): what this run has already
        # handed out is dropped, so the caller never gets a record twice in one run.
        fresh = [record for seq, record in page.items if self.last_seq is None or seq > self.last_seq]
        if fresh:
            self.last_seq, self.idle = seqs[-1], 0
        elif page.has_more:
            self.idle += 1
            if self.idle > source.idle_limit:
                raise SourceError(f"the {self.name} feed makes no progress after cursor {self.cursor!r}: "
                                  f"{self.idle} answers in a row brought nothing new")
        # The cursor of a repeated page is not trusted (it may point back); an empty page's is.
        if fresh or not page.items:
            self.cursor = page.next_cursor
        self.done = not page.has_more
        return fresh


class FeedSource(ABC):
    """Paging, retries and duplicate detection shared by the adapters; they implement the two fetches.

    A fetch asks for one page after `since` (None: from the beginning) and returns a FeedPage, or
    raises SourceError (retried `retries` times, `retry_delay` doubling) or SourceRejected (not retried).
    """

    page_size: int
    retries: int = 2
    retry_delay: float = 0.5
    idle_limit: int = 3

    @abstractmethod
    def fetch_values(self, since: str | None, limit: int) -> FeedPage: ...

    @abstractmethod
    def fetch_events(self, since: str | None, limit: int) -> FeedPage: ...

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        """Pages until both feeds are read to their end. A page that brings nothing new and leaves the
        cursor where it was is not yielded."""
        values_cursor, events_cursor = split_cursor(cursor)
        values = _Feed("values", self.fetch_values, values_cursor)
        events = _Feed("events", self.fetch_events, events_cursor)
        current = join_cursor(values_cursor, events_cursor)
        while not (values.done and events.done):
            series = [] if values.done else values.advance(self)
            found = [] if events.done else events.advance(self)
            after = join_cursor(values.cursor, events.cursor)
            if series or found or after != current:
                current = after
                yield Page(series, found, after, not (values.done and events.done))

    def call(self, fetch: Callable[[str | None, int], FeedPage], since: str | None, feed: str) -> FeedPage:
        """`fetch` with quick retries of temporary failures; the last failure is raised."""
        attempt = 0
        while True:
            try:
                return fetch(since, self.page_size)
            except SourceRejected:
                raise
            except SourceError as exc:
                attempt += 1
                if attempt > self.retries:
                    raise SourceError(f"{feed} after cursor {since!r}: {exc} "
                                      f"({attempt} attempt{'s' if attempt > 1 else ''})") from exc
            time.sleep(self.retry_delay * 2 ** (attempt - 1))

    def close(self) -> None:
        """Release connections; the adapters override it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def make_series(where: str, seq: int, point: str, channel: str, start, minutes: int,
                values: list[int | None], statuses: list[int] | None) -> Series:
    """A Series of one record, statuses that are all 0 as None (as the two transports differ there);
    a record that cannot be one is SourceRejected, `where` naming it."""
    if not values:
        raise SourceRejected(f"{where}: a record without intervals")
    if statuses is not None and len(statuses) != len(values):
        raise SourceRejected(f"{where}: {len(statuses)} statuses for {len(values)} values")
    if statuses is not None and not any(statuses):
        statuses = None
    try:
        return Series(point, channel, start, minutes, list(values), statuses, extra={"seq": seq})
    except SeriesError as exc:
        raise SourceRejected(f"{where}: {exc}") from None


def _short(items: list, limit: int = 10) -> str:
    return ", ".join(map(str, items[:limit])) + (", …" if len(items) > limit else "")
