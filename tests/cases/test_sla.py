"""SLA arithmetic against hand-computed expectations.

Week used: Mon 2026-11-23 .. Sun 2026-11-29, calendar Europe/Berlin Mon-Fri 09:00-17:00.
Berlin DST 2026: spring forward Sun 2026-03-29 02:00 -> 03:00, fall back Sun 2026-10-25
03:00 -> 02:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from diagkit.cases.lifecycle import Status
from diagkit.cases.sla import (
    BUSINESS_HOURS,
    TWENTY_FOUR_SEVEN,
    Calendar,
    Clock,
    SlaPolicy,
    add_business_time,
    default_policies,
    elapsed,
    pauses_from_history,
    sla_state,
)
from diagkit.cases.triage import CaseSeverity
from diagkit.errors import ConfigError

BER = ZoneInfo("Europe/Berlin")
CAL = Calendar(timezone="Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def b(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Berlin wall-clock time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=BER)


MON, TUE, WED, THU, FRI, SAT, SUN, NMON = 23, 24, 25, 26, 27, 28, 29, 30


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (b(MON, 10), b(MON, 15, 30), 5 * H + 30 * M),  # same day
        (b(MON, 16), b(TUE, 10), 2 * H),  # overnight: 16-17 + 9-10
        (b(FRI, 15), b(NMON, 11), 4 * H),  # weekend: Fri 15-17 + Mon 9-11
        (b(SAT, 12), b(NMON, 10, 30), 90 * M),  # starts on a weekend
        (b(MON, 6), b(MON, 9, 45), 45 * M),  # starts before opening
        (b(MON, 20), b(TUE, 9, 15), 15 * M),  # starts after closing
        (b(SAT, 1), b(SUN, 23), timedelta(0)),  # only closed time
        (b(MON, 9), b(NMON, 9), 40 * H),  # a whole week
        (b(TUE, 10), b(MON, 10), timedelta(0)),  # end before start
    ],
)
def test_business_hours(start: datetime, end: datetime, expected: timedelta) -> None:
    assert elapsed(CAL, start, end) == expected


def test_holiday() -> None:
    xmas = Calendar(timezone="Europe/Berlin", holidays=[date(2026, 12, 25)])
    start, end = b(24, 16, month=12), b(28, 10, month=12)  # Thu 16:00 -> Mon 10:00
    assert elapsed(xmas, start, end) == 2 * H  # Thu 16-17, Fri closed, Mon 9-10
    assert elapsed(CAL, start, end) == 10 * H  # the same without the holiday


def test_inputs_in_other_zones_are_converted() -> None:
    # 08:00 UTC on Fri 27 March is 09:00 CET; 08:00 UTC on Mon 30 March is 10:00 CEST.
    start = datetime(2026, 3, 27, 8, tzinfo=UTC)
    end = datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert elapsed(CAL, start, end) == 9 * H  # Fri 8 h + Mon 09-10 local


def test_dst_in_the_calendar_zone() -> None:
    # 24x7 counts real time: Sat 12:00 -> Sun 12:00 across spring forward is 23 h.
    assert elapsed(TWENTY_FOUR_SEVEN, b(28, 12, month=3), b(29, 12, month=3)) == 23 * H
    assert elapsed(TWENTY_FOUR_SEVEN, b(24, 12, month=10), b(25, 12, month=10)) == 25 * H
    # A 01:00-05:00 window every day: 3 real hours on spring-forward day, 5 on fall-back day.
    night = Calendar(timezone="Europe/Berlin", weekdays=range(7), start=time(1), end=time(5))
    assert elapsed(night, b(29, 0, month=3), b(29, 6, month=3)) == 3 * H
    assert elapsed(night, b(25, 0, month=10), b(25, 6, month=10)) == 5 * H
    # Business days keep their 8 wall-clock hours across the change.
    assert elapsed(CAL, b(27, 16, month=3), b(30, 10, month=3)) == 2 * H


def test_pauses_spanning_nights() -> None:
    start, end = b(MON, 10), b(WED, 12)
    assert elapsed(CAL, start, end) == 18 * H  # Mon 7 + Tue 8 + Wed 3
    # Waiting Mon 14:00 -> Tue 11:00 removes Mon 14-17 and Tue 9-11 = 5 h, not the night.
    assert elapsed(CAL, start, end, [(b(MON, 14), b(TUE, 11))]) == 13 * H
    # A pause still running (end None) since Wed 11:00 removes Wed 11-12 too.
    assert elapsed(CAL, start, end, [(b(MON, 14), b(TUE, 11)), (b(WED, 11), None)]) == 12 * H
    # Overlapping pauses are not subtracted twice: Mon 14-17 + Tue 9-10 = 4 h.
    assert elapsed(CAL, start, end, [(b(MON, 14), b(MON, 16)), (b(MON, 15), b(TUE, 10))]) == 14 * H
    # A pause that began before the clock started only counts from the start.
    assert elapsed(CAL, start, end, [(b(SUN - 7, 12), b(MON, 11))]) == 17 * H
    # Pauses on 24x7 remove real time.
    assert elapsed(TWENTY_FOUR_SEVEN, b(MON, 22), b(TUE, 6), [(b(MON, 23), b(TUE, 1))]) == 6 * H


def test_add_business_time() -> None:
    assert add_business_time(CAL, b(FRI, 15), 4 * H) == b(NMON, 11)
    assert add_business_time(CAL, b(SAT, 12), 1 * H) == b(NMON, 10)
    assert add_business_time(CAL, b(MON, 16), 1 * H) == b(MON, 17)
    assert add_business_time(CAL, b(MON, 16), timedelta(0)) == b(MON, 16)
    assert add_business_time(TWENTY_FOUR_SEVEN, b(28, 12, month=3), 23 * H) == b(29, 12, month=3)
    for start in (b(MON, 8), b(WED, 12, 17), b(FRI, 16, 59), b(SUN, 3)):
        for amount in (M, 3 * H, 8 * H, 17 * H + 5 * M, 45 * H):
            due = add_business_time(CAL, start, amount)
            assert elapsed(CAL, start, due) == amount
            assert elapsed(CAL, start, due - timedelta(seconds=1)) < amount


S1 = default_policies()[CaseSeverity.S1]  # 24x7, 1 h / 4 h, warn under 25 %


def test_warning_and_breach_boundaries() -> None:
    t0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
    sec = timedelta(seconds=1)

    st = sla_state(S1, Clock.FIRST_RESPONSE, started=t0, now=t0 + 45 * M)
    assert (st.remaining, st.warning, st.breached) == (15 * M, False, False)
    assert st.due_at == t0 + H
    st = sla_state(S1, "first_response", started=t0, now=t0 + 45 * M + sec)
    assert st.warning and not st.breached
    st = sla_state(S1, Clock.FIRST_RESPONSE, started=t0, now=t0 + H)
    assert (st.remaining, st.warning, st.breached) == (timedelta(0), True, False)
    st = sla_state(S1, Clock.FIRST_RESPONSE, started=t0, now=t0 + H + sec)
    assert st.breached and not st.warning and st.overdue == sec and st.due_at is None
    assert st.remaining == -sec
    # Configurable share.
    st = sla_state(S1, Clock.FIRST_RESPONSE, started=t0, now=t0 + 30 * M + sec, warn_share=0.5)
    assert st.warning
    st = sla_state(S1, Clock.RESOLUTION, started=t0, now=t0 + 3 * H)
    assert st.target == 4 * H and st.remaining == H and not st.warning


def test_stopped_clock() -> None:
    t0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
    st = sla_state(S1, Clock.FIRST_RESPONSE, started=t0, now=t0 + 5 * H, stopped_at=t0 + 59 * M)
    assert st.stopped and not st.breached and not st.warning and st.elapsed == 59 * M
    assert st.due_at is None
    st = sla_state(S1, Clock.FIRST_RESPONSE, started=t0, now=t0 + 5 * H, stopped_at=t0 + 61 * M)
    assert st.stopped and st.breached and st.overdue == M


def test_business_policy_due_and_pause() -> None:
    s2 = default_policies(CAL)[CaseSeverity.S2]  # 4 business hours first response
    st = sla_state(s2, Clock.FIRST_RESPONSE, started=b(FRI, 15), now=b(FRI, 16))
    # 3 h left: Fri 16-17, then Mon 09-11.
    assert st.elapsed == H and st.remaining == 3 * H and st.due_at == b(NMON, 11)
    # Seen on Sunday: the clock has not moved since Friday 17:00.
    st = sla_state(s2, Clock.FIRST_RESPONSE, started=b(FRI, 15), now=b(SUN, 12))
    assert st.elapsed == 2 * H and st.due_at == b(NMON, 11)
    # Waiting on the customer since Fri 16:00: paused, no due time, 1 h counted.
    st = sla_state(s2, Clock.RESOLUTION, started=b(FRI, 15), now=b(NMON, 12),
                   pauses=[(b(FRI, 16), None)])
    assert st.paused and st.due_at is None and st.elapsed == H
    assert st.remaining == 15 * H


def test_default_policies() -> None:
    pol = default_policies()
    assert set(pol) == set(CaseSeverity)
    assert pol[CaseSeverity.S1].calendar.always_open
    assert (pol[CaseSeverity.S1].first_response, pol[CaseSeverity.S1].resolution) == (H, 4 * H)
    assert (pol[CaseSeverity.S2].first_response, pol[CaseSeverity.S2].resolution) == (4 * H, 16 * H)
    assert pol[CaseSeverity.S3].calendar == BUSINESS_HOURS
    long_days = Calendar(start=time(8), end=time(18))
    assert default_policies(long_days)[CaseSeverity.S2].resolution == 20 * H
    for p in pol.values():
        assert p.first_response < p.resolution


def test_pauses_from_history() -> None:
    t = [datetime(2026, 11, 23, h, tzinfo=UTC) for h in range(10)]
    history = [(t[0], "new"), (t[1], "triaged"), (t[2], Status.WAITING_ON_CUSTOMER),
               (t[3], "in_progress"), (t[4], "waiting_on_customer"), (t[5], "resolved")]
    assert pauses_from_history(history) == ((t[2], t[3]), (t[4], t[5]))
    assert pauses_from_history(history[:5]) == ((t[2], t[3]), (t[4], None))
    reopened = [*history, (t[7], "in_progress")]
    assert pauses_from_history(
        reopened, (Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED)
    ) == ((t[2], t[3]), (t[4], t[7]))


def test_invalid_configuration() -> None:
    with pytest.raises(ConfigError, match="Unknown time zone 'Mars/Base'"):
        Calendar(timezone="Mars/Base")
    with pytest.raises(ConfigError, match="end must be after the start"):
        Calendar(start=time(17), end=time(9))
    with pytest.raises(ConfigError, match="weekdays"):
        Calendar(weekdays=[])
    with pytest.raises(ConfigError, match="warn_share"):
        SlaPolicy(CaseSeverity.S3, H, 2 * H, warn_share=1.5)
    with pytest.raises(ConfigError, match="positive"):
        SlaPolicy(CaseSeverity.S3, timedelta(0), 2 * H)
    every_day_off = Calendar(weekdays=[0], holidays=[date(2026, 11, 23) + timedelta(weeks=w)
                                                     for w in range(200)])
    with pytest.raises(ConfigError, match="no open hours"):
        add_business_time(every_day_off, b(MON, 8), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        elapsed(CAL, datetime(2026, 11, 23, 10), b(MON, 12))


def test_calendar_is_hashable_and_comparable() -> None:
    assert Calendar(timezone="Europe/Berlin", weekdays=[0, 1, 2, 3, 4]) == CAL
    assert hash(Calendar(holidays=[date(2026, 1, 1)])) == hash(Calendar(holidays={date(2026, 1, 1)}))
