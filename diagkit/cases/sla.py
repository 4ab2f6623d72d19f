"""SLA clocks: targets per severity, business-hours calendars, pauses, time left.

A :class:`SlaPolicy` gives, for one :class:`~diagkit.cases.triage.CaseSeverity`, two targets
measured in *calendar time* of its :class:`Calendar`:

* **first response** - from case creation to the first customer update;
* **resolution** - from case creation to the case being resolved.

A calendar is either 24x7 (every second counts) or business hours: open weekdays, a daily
start and end time (wall clock in the calendar's IANA time zone, so a day stays "09:00-17:00"
across DST changes) and a list of holidays. Clocks *pause* while the case waits on the customer:
:func:`elapsed` removes the pause intervals (see :func:`pauses_from_history`) from the counted
time. :func:`sla_state` turns that into what the UI shows: time left, breached, warning (less
than ``warn_share`` of the target left, 25 % by default) and the instant it falls due.

Default policies (:func:`default_policies`; a business day is the calendar's day, 8 h by default):

========  ===========  ==============  ================
severity  calendar     first response  resolution
========  ===========  ==============  ================
S1        24x7         1 h             4 h
S2        business     4 h             2 business days
S3        business     1 business day  5 business days
S4        business     2 business days 10 business days
========  ===========  ==============  ================

All datetimes must be timezone-aware; arithmetic is done in UTC, because subtracting two aware
datetimes that share a ``ZoneInfo`` gives *wall-clock* difference, wrong across a DST change.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from diagkit.cases.lifecycle import Status, parse_status
from diagkit.cases.triage import CaseSeverity
from diagkit.errors import ConfigError

Pause = tuple[datetime, datetime | None]
"""A pause interval; ``None`` as the end means "still paused"."""

_ZERO = timedelta(0)
# A calendar with every day a holiday would make add_business_time loop forever.
_MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    """When SLA time runs. ``weekdays`` uses Monday = 0 .. Sunday = 6.

    ``start``/``end`` are wall-clock times in ``timezone``; ``holidays`` are local dates on
    which the calendar is closed. ``always_open=True`` is 24x7 and ignores the other fields.
    """

    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset(range(5))
    start: time = time(9)
    end: time = time(17)
    holidays: frozenset[date] = frozenset()
    always_open: bool = False
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Lists are accepted for convenience (config files); stored frozen so the calendar hashes.
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"Unknown time zone {self.timezone!r} in an SLA calendar. Use an IANA name "
                "such as 'Europe/Berlin' or 'UTC'."
            ) from exc
        if self.always_open:
            return
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ConfigError(
                f"SLA calendar weekdays {sorted(self.weekdays)} are invalid: give at least one "
                "day, 0 (Monday) to 6 (Sunday)."
            )
        if self.start >= self.end:
            raise ConfigError(
                f"SLA calendar opens at {self.start:%H:%M} but closes at {self.end:%H:%M}: the "
                "end must be after the start on the same day."
            )

    @classmethod
    def twenty_four_seven(cls) -> Calendar:
        """Every second counts."""
        return cls(always_open=True)

    @property
    def day_length(self) -> timedelta:
        """One business day (24 h for 24x7); wall-clock length, as the targets are phrased."""
        if self.always_open:
            return timedelta(days=1)
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_open_day(self, day: date) -> bool:
        return self.always_open or (day.weekday() in self.weekdays and day not in self.holidays)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals (UTC) within ``[start, end)``, in order."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        # One day of margin each side: a local day can begin on the previous UTC date.
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date() + timedelta(days=1)
        while day <= last:
            if self.is_open_day(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, start), min(closes, end)
                if lo < hi:
                    yield lo, hi
            day += timedelta(days=1)


TWENTY_FOUR_SEVEN = Calendar.twenty_four_seven()
BUSINESS_HOURS = Calendar()
"""Monday to Friday, 09:00-17:00 UTC, no holidays: a starting point to configure."""


class Clock(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class SlaPolicy:
    """Targets for one severity, in calendar time of ``calendar``."""

    severity: CaseSeverity
    first_response: timedelta
    resolution: timedelta
    calendar: Calendar = BUSINESS_HOURS
    warn_share: float = 0.25

    def __post_init__(self) -> None:
        if self.first_response <= _ZERO or self.resolution <= _ZERO:
            raise ConfigError(
                f"SLA policy for {self.severity}: targets must be positive durations."
            )
        if not 0.0 <= self.warn_share < 1.0:
            raise ConfigError(
                f"SLA policy for {self.severity}: warn_share {self.warn_share} must be between "
                "0 (never warn) and 1 (e.g. 0.25 warns when a quarter of the time is left)."
            )

    def target(self, clock: Clock | str) -> timedelta:
        return self.first_response if Clock(clock) is Clock.FIRST_RESPONSE else self.resolution


def default_policies(calendar: Calendar = BUSINESS_HOURS) -> dict[CaseSeverity, SlaPolicy]:
    """The default policy set (table in the module docstring). S1 is always 24x7."""
    day = calendar.day_length
    h = timedelta(hours=1)
    return {
        CaseSeverity.S1: SlaPolicy(CaseSeverity.S1, 1 * h, 4 * h, TWENTY_FOUR_SEVEN),
        CaseSeverity.S2: SlaPolicy(CaseSeverity.S2, 4 * h, 2 * day, calendar),
        CaseSeverity.S3: SlaPolicy(CaseSeverity.S3, 1 * day, 5 * day, calendar),
        CaseSeverity.S4: SlaPolicy(CaseSeverity.S4, 2 * day, 10 * day, calendar),
    }


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"SLA times must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _merge(pauses: Iterable[Pause], start: datetime,
           end: datetime) -> list[tuple[datetime, datetime]]:
    clipped = []
    for p_start, p_end in pauses:
        lo = max(_utc(p_start), start)
        hi = min(end if p_end is None else _utc(p_end), end)
        if lo < hi:
            clipped.append((lo, hi))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _as_calendar(rules: SlaPolicy | Calendar) -> Calendar:
    return rules.calendar if isinstance(rules, SlaPolicy) else rules


def elapsed(rules: SlaPolicy | Calendar, start: datetime, end: datetime,
            pauses: Iterable[Pause] = ()) -> timedelta:
    """Calendar time counted between ``start`` and ``end``, minus the ``pauses``.

    Only open hours count (all hours for 24x7); pauses may overlap each other, start before
    ``start`` or still be running (end ``None`` = until ``end``).
    """
    cal = _as_calendar(rules)
    start, end = _utc(start), _utc(end)
    if end <= start:
        return _ZERO
    holes = _merge(pauses, start, end)
    total = _ZERO
    for lo, hi in cal.open_intervals(start, end):
        total += hi - lo
        for p_lo, p_hi in holes:
            overlap = min(hi, p_hi) - max(lo, p_lo)
            if overlap > _ZERO:
                total -= overlap
    return total


def add_business_time(rules: SlaPolicy | Calendar, start: datetime,
                      amount: timedelta) -> datetime:
    """The first instant at which ``amount`` of calendar time has run since ``start``.

    Returned in ``start``'s time zone. Future pauses are unknown, so none are assumed.
    """
    cal = _as_calendar(rules)
    tz = start.tzinfo
    begin = _utc(start)
    if amount <= _ZERO:
        return start
    if cal.always_open:
        return (begin + amount).astimezone(tz)
    left = amount
    day = begin.astimezone(cal.zone).date() - timedelta(days=1)
    for _ in range(_MAX_SEARCH_DAYS):
        if cal.is_open_day(day):
            opens, closes = cal._window(day)
            lo = max(opens, begin)
            if lo < closes:
                if closes - lo >= left:
                    return (lo + left).astimezone(tz)
                left -= closes - lo
        day += timedelta(days=1)
    raise ConfigError(
        f"The SLA calendar has no open hours within {_MAX_SEARCH_DAYS} days of "
        f"{start.isoformat()}: check its weekdays and holidays."
    )


@dataclass(frozen=True)
class SlaState:
    """One SLA clock as the UI shows it.

    ``remaining`` is negative once breached (``overdue`` gives the positive amount). ``due_at``
    is when the clock runs out if nothing pauses it; ``None`` when stopped, paused or breached.
    """

    clock: Clock
    target: timedelta
    elapsed: timedelta
    remaining: timedelta
    breached: bool
    warning: bool
    paused: bool
    stopped: bool
    due_at: datetime | None

    @property
    def overdue(self) -> timedelta:
        return max(_ZERO, -self.remaining)


def sla_state(policy: SlaPolicy, clock: Clock | str, *, started: datetime, now: datetime,
              pauses: Sequence[Pause] = (), stopped_at: datetime | None = None,
              warn_share: float | None = None) -> SlaState:
    """The state of ``clock`` for a case created at ``started``, seen at ``now``.

    ``stopped_at`` ends the clock (first response sent, case resolved); a clock stopped after
    its target stays breached. Breached means *more* than the target elapsed: answering at
    exactly the target meets it. Warning means not breached, still running, and strictly less
    than ``warn_share`` (default: the policy's) of the target left.
    """
    clock = Clock(clock)
    target = policy.target(clock)
    share = policy.warn_share if warn_share is None else warn_share
    stopped = stopped_at is not None and _utc(stopped_at) <= _utc(now)
    end = stopped_at if stopped and stopped_at is not None else now
    spent = elapsed(policy, started, end, pauses)
    remaining = target - spent
    breached = spent > target
    now_utc = _utc(now)
    paused = not stopped and any(
        _utc(p_start) <= now_utc and (p_end is None or now_utc < _utc(p_end))
        for p_start, p_end in pauses
    )
    warning = not stopped and not breached and remaining < target * share
    due_at = None
    if not (stopped or paused or breached):
        due_at = add_business_time(policy, now, remaining)
    return SlaState(clock, target, spent, remaining, breached, warning, paused, stopped, due_at)


def pauses_from_history(
    changes: Iterable[tuple[datetime, Status | str]],
    paused_states: Collection[Status] = (Status.WAITING_ON_CUSTOMER,),
) -> tuple[Pause, ...]:
    """Pause intervals from a case's status history (``(when, new_status)`` in time order).

    By default the clock pauses while waiting on the customer. For the resolution clock of a
    reopened case also pass ``RESOLVED`` and ``CLOSED``, so the time it sat resolved is not
    counted. A pause still running at the end of the history has end ``None``.
    """
    paused = {parse_status(s) for s in paused_states}
    out: list[Pause] = []
    since: datetime | None = None
    for when, status in changes:
        if parse_status(status) in paused:
            if since is None:
                since = when
        elif since is not None:
            out.append((since, when))
            since = None
    if since is not None:
        out.append((since, None))
    return tuple(out)
