"""Interval data as every source hands it over: a series of consecutive intervals of one channel of
one meter.

Meters, ASKUE servers and exchange files all deliver load profiles as runs of equal intervals
(a day of 48 half-hours, a page of a server's answer), so the series is the unit the storage takes:
kept as lists, a batch of millions of values costs a few hundred thousand objects, not millions.

- `meter`: the meter's code at the source: the measuring point's code in an ASKUE server or an
  80020 file, the serial number for a meter polled directly;
- `channel`: "A+" (active import), "A-" (active export), "R+", "R-" (reactive);
- `start`: the first interval's start, aware, UTC; each next interval starts `minutes` later;
- `values`: energy per interval in Wh, None where the source has no value (a gap);
- `statuses`: status bits per interval (see `Status`), or None when all are 0.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntFlag

CHANNELS = {"A+": 1, "A-": 2, "R+": 3, "R-": 4}
CHANNEL_NAMES = {number: name for name, number in CHANNELS.items()}
INTERVAL_MINUTES = (15, 30, 60)


class Status(IntFlag):
    """Status bits of an interval value, as meters and ASKUE servers report them."""

    POWER_OFF = 1  # the meter was off for part of the interval
    CLOCK_SET = 2  # the meter's clock was set during the interval (the interval is shorter or longer)
    COVER_OPENED = 4
    MAGNETIC_FIELD = 8
    OVERFLOW = 16  # the value does not fit the register: not to be trusted
    NOT_COMMERCIAL = 32  # the source marks the value as not for billing (80020 status 1)
    INVALID = 64  # set by our validation (negative, above the permitted power): kept, but not summed


class SeriesError(ValueError):
    """A series that cannot be stored as it is."""


@dataclass
class Series:
    meter: str
    channel: str
    start: datetime
    minutes: int
    values: list[int | None]
    statuses: list[int] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise SeriesError(f"unknown channel {self.channel!r}: expected one of {', '.join(CHANNELS)}")
        if self.minutes not in INTERVAL_MINUTES:
            raise SeriesError(f"an interval of {self.minutes} min: expected 15, 30 or 60")
        if self.start.tzinfo is None:
            raise SeriesError("the series start must carry its time zone")
        self.start = self.start.astimezone(timezone.utc)
        if (self.start.minute % self.minutes) or self.start.second or self.start.microsecond:
            raise SeriesError(f"{self.start.isoformat()} is not the start of a {self.minutes}-minute interval")
        if self.statuses is not None and len(self.statuses) != len(self.values):
            raise SeriesError(f"{len(self.statuses)} statuses for {len(self.values)} values")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes * len(self.values))

    def starts(self):
        step = timedelta(minutes=self.minutes)
        return (self.start + step * index for index in range(len(self.values)))

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class MeterEvent:
    """Something a meter or a source reported about a meter: "power_off", "power_on", "cover_opened",
    "magnetic_field", "clock_set", ... at a moment (aware)."""

    meter: str
    at: datetime
    kind: str
    details: dict = field(default_factory=dict)
