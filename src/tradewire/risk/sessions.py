"""Trading-day boundaries and trading-session providers.

:func:`next_session_end_ns` gives the end of the risk trading day (daily-loss reset, end-of-day
trailing) from a local close time and timezone. :class:`ExchangeCalendarSessions` answers "is the
market open now?" for the pre-trade session check from ``exchange_calendars`` calendars, caching the
current open or closed interval so the hot path is two integer comparisons; the pre-trade checker
keeps the interval per instrument (:meth:`ExchangeCalendarSessions.interval`) and asks again only when
the clock leaves it.

This module stays interpreted in the optional mypyc build: it is calendar lookups (pandas), off the
order path, and tests count :meth:`ExchangeCalendarSessions._lookup` calls by replacing it on an instance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from tradewire.model.identifiers import InstrumentId

_NS = 1_000_000_000
_ALWAYS = (-(2**63), 2**63, True)  # every int64 ns timestamp


def next_session_end_ns(ts_ns: int, tz: ZoneInfo, close: dtime) -> int:
    """First local ``close`` in ``tz`` strictly after ``ts_ns`` (UTC ns).

    A timestamp exactly at a close belongs to the next session. Daylight-saving changes are handled
    by building the close as a local wall time on each date (a close inside a skipped hour moves to
    the first valid instant after it).

    Parameters
    ----------
    ts_ns : int
        UTC nanoseconds.
    tz : ZoneInfo
        Session timezone, e.g. ``ZoneInfo("America/Chicago")``.
    close : datetime.time
        Local close time, e.g. ``time(17, 0)``.

    Returns
    -------
    int
        The boundary as UTC nanoseconds.
    """
    local = datetime.fromtimestamp(ts_ns // _NS, tz=UTC).astimezone(tz)
    day = local.date()
    for offset in (0, 1, 2):
        candidate = datetime.combine(day + timedelta(days=offset), close, tzinfo=tz)
        cand_ns = int(candidate.astimezone(UTC).timestamp()) * _NS + candidate.microsecond * 1000
        if cand_ns > ts_ns:
            return cand_ns
    raise AssertionError("unreachable: a close exists within two days")  # pragma: no cover


class ExchangeCalendarSessions:
    """Session provider backed by ``exchange_calendars`` (e.g. ``"CMES"``, ``"XNYS"``).

    Parameters
    ----------
    calendars : dict[str, str]
        Venue code -> calendar name, e.g. ``{"XCME": "CMES", "XNAS": "XNYS"}``.
    always_open : frozenset[str]
        Venues trading around the clock (crypto): always open.

    Raises
    ------
    KeyError
        From a call for an instrument whose venue has no calendar and is not always open (an
        unknown venue must not pass as "open").

    Notes
    -----
    Open intervals follow the calendar's minute rules (``side="left"``: open at the open minute,
    closed at the close minute); a session's break (e.g. XHKG's lunch) is a closed interval of its own. The
    first call for a venue at a new interval costs a calendar lookup (tens of microseconds); later calls in the
    same interval are a dict read and two comparisons.
    """

    def __init__(self, calendars: dict[str, str], always_open: frozenset[str] = frozenset()) -> None:
        import exchange_calendars as xcals

        self._cals = {venue: xcals.get_calendar(name, side="left") for venue, name in calendars.items()}
        self._always = always_open
        self._interval: dict[str, tuple[int, int, bool]] = {}  # venue -> [start, end) and open flag
        self._bounds: dict[str, tuple[Any, Any]] = {}  # venue -> (first minute, last minute) of the calendar

    def __call__(self, instrument_id: InstrumentId, ts_ns: int) -> bool:
        """True when ``instrument_id``'s venue is in session at ``ts_ns``."""
        return self.interval(instrument_id, ts_ns)[2]

    def interval(self, instrument_id: InstrumentId, ts_ns: int) -> tuple[int, int, bool]:
        """The session interval of ``instrument_id``'s venue that contains ``ts_ns``.

        Returns
        -------
        (start_ns, end_ns, is_open)
            ``[start_ns, end_ns)`` in UTC ns: an open session (``is_open`` True, from its open minute to
            its close minute) or the closed gap between two sessions. An always-open venue gives one
            interval covering every int64 nanosecond timestamp.

        Raises
        ------
        KeyError
            If the venue has no calendar and is not always open, or ``ts_ns`` is outside the calendar.
        """
        venue = instrument_id.rpartition(".")[2]
        iv = self._interval.get(venue)
        if iv is not None and iv[0] <= ts_ns < iv[1]:
            return iv
        if venue in self._always:
            return _ALWAYS
        cal = self._cals.get(venue)
        if cal is None:
            raise KeyError(f"no trading calendar configured for venue {venue} ({instrument_id})")
        return self._lookup(venue, cal, ts_ns)

    def _lookup(self, venue: str, cal, ts_ns: int) -> tuple[int, int, bool]:
        import pandas as pd

        minute = pd.Timestamp(ts_ns, unit="ns", tz="UTC").floor("min")
        bounds = self._bounds.get(venue)
        if bounds is None:
            # the first open minute and the last trading minute of the calendar, read from the per-session
            # arrays: ``cal.first_minute``/``last_minute`` build the array of every trading minute of the
            # calendar's ~20 years first (about 0.6 s and tens of MB on the first pre-trade check)
            bounds = self._bounds[venue] = (
                pd.Timestamp(int(cal.first_minutes_nanos[0]), unit="ns", tz="UTC"),
                pd.Timestamp(int(cal.last_minutes_nanos[-1]), unit="ns", tz="UTC"),
            )
        first, last = bounds
        if minute < first or minute > last:
            raise KeyError(f"{ts_ns} is outside calendar {cal.name} ({first} .. {last})")
        is_open = bool(cal.is_open_on_minute(minute))
        if is_open:
            start = cal.previous_open(minute + pd.Timedelta(minutes=1))
            end = cal.next_close(minute)
        else:
            start = cal.previous_close(minute + pd.Timedelta(minutes=1))
            end = cal.next_open(minute)
        if cal.has_break:
            # ``previous_open``/``next_close`` give the session's open and close and ignore a break inside it
            # (e.g. XHKG's lunch): the break's minutes are closed, so the interval stops at or starts from it
            session = cal.minute_to_session(minute, direction="previous")
            b_start, b_end = cal.session_break_start(session), cal.session_break_end(session)
            if not pd.isna(b_start):
                if is_open:
                    if minute < b_start:
                        end = min(end, b_start)
                    else:
                        start = max(start, b_end)
                elif b_start <= minute < b_end:
                    start, end = b_start, b_end
        iv = self._interval[venue] = (start.value, end.value, is_open)
        return iv
