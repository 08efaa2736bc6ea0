"""Trading sessions of the paper venue: when orders are accepted and may match, and when DAY orders expire.

`AlwaysOpen` is the 24/7 schedule of crypto venues (DAY orders expire at the next 00:00 UTC).
`CalendarSessions` reads an exchange calendar from ``exchange_calendars`` (e.g. ``XNYS`` for US equities,
``CMES`` for CME Globex futures) and classifies each instant as REGULAR, EXTENDED (pre/post-market, an
offset around each regular session) or CLOSED. DAY orders expire at the regular close of the session
they belong to (the next close at or after their acknowledgement).

References
----------
exchange_calendars: https://github.com/gerrymanoim/exchange_calendars (``ExchangeCalendar.schedule`` with
``open``/``break_start``/``break_end``/``close`` columns in UTC). NYSE extended hours (04:00-09:30 and
16:00-20:00 America/New_York) are exchange rules not encoded in the calendar, hence the offsets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_right
from typing import ClassVar, Final

from mypy_extensions import mypyc_attr

from tradewire.model.enums import StrEnum

_DAY_NS: Final = 86_400_000_000_000
_MIN_NS: Final = 60_000_000_000


class SessionState(StrEnum):
    """Market state at an instant."""

    REGULAR = "regular"
    EXTENDED = "extended"
    CLOSED = "closed"


@mypyc_attr(allow_interpreted_subclasses=True)
class TradingSessions(ABC):
    """When the venue trades.

    Attributes
    ----------
    always_open : bool
        True if :meth:`state` is REGULAR at every instant (lets the matching engine skip checks).
    """

    always_open: bool = False

    @abstractmethod
    def state(self, ts_ns: int) -> SessionState:
        """Session state at ``ts_ns`` (UTC ns)."""

    @abstractmethod
    def session_close(self, ts_ns: int) -> int:
        """The first regular close strictly after ``ts_ns`` (DAY orders acknowledged at ``ts_ns`` expire then)."""

    @abstractmethod
    def next_open(self, ts_ns: int) -> int:
        """The first regular open at or after ``ts_ns`` (``ts_ns`` itself when it is inside a session)."""

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly description."""
        return {"type": type(self).__name__}


class AlwaysOpen(TradingSessions):
    """24/7 trading (crypto). DAY orders expire at the next 00:00 UTC."""

    always_open = True

    def state(self, ts_ns: int) -> SessionState:
        """Always REGULAR."""
        return SessionState.REGULAR

    def session_close(self, ts_ns: int) -> int:
        """Next UTC midnight strictly after ``ts_ns``."""
        return (ts_ns // _DAY_NS + 1) * _DAY_NS

    def next_open(self, ts_ns: int) -> int:
        """``ts_ns``."""
        return ts_ns


class CalendarSessions(TradingSessions):
    """Sessions from an ``exchange_calendars`` calendar.

    Parameters
    ----------
    calendar : str
        Calendar code, e.g. ``"XNYS"`` or ``"CMES"``.
    start, end : str
        First and last session date (``YYYY-MM-DD``) to load; instants outside raise ValueError.
    pre_open_minutes, post_close_minutes : int | None
        Extended-hours window around each regular session. Default: 330 and 240 for XNYS/XNAS (04:00 and
        20:00 New York time on regular days), 0 otherwise. On early-close days the post-market window is
        measured from the early close.

    Raises
    ------
    ValueError
        If the calendar code is unknown, or from :meth:`state` etc. for a time outside ``start``..``end``.
    """

    _EXT_DEFAULTS: ClassVar[dict[str, tuple[int, int]]] = {"XNYS": (330, 240), "XNAS": (330, 240)}

    def __init__(
        self, calendar: str, start: str, end: str, pre_open_minutes: int | None = None,
        post_close_minutes: int | None = None,
    ) -> None:  # fmt: skip
        import exchange_calendars as xcals  # heavy import, only when a calendar is used

        try:
            cal = xcals.get_calendar(calendar, start=start, end=end)
        except xcals.errors.InvalidCalendarName:
            raise ValueError(f"unknown exchange calendar {calendar!r}") from None
        sched = cal.schedule
        self.calendar = calendar
        self.start = start
        self.end = end
        pre_d, post_d = self._EXT_DEFAULTS.get(calendar, (0, 0))
        self.pre_open_minutes = pre_d if pre_open_minutes is None else pre_open_minutes
        self.post_close_minutes = post_d if post_close_minutes is None else post_close_minutes
        self._opens: list[int] = [int(t.value) for t in sched["open"]]
        self._closes: list[int] = [int(t.value) for t in sched["close"]]
        self._breaks: list[tuple[int, int] | None] = [
            None if (bs is None or bs != bs) else (int(bs.value), int(be.value))  # NaT != NaT
            for bs, be in zip(sched["break_start"], sched["break_end"], strict=True)
        ]
        if not self._opens:
            raise ValueError(f"calendar {calendar} has no sessions between {start} and {end}")
        self._pre = self.pre_open_minutes * _MIN_NS
        self._post = self.post_close_minutes * _MIN_NS

    def _index(self, ts_ns: int) -> int:
        if ts_ns < self._opens[0] - self._pre - _DAY_NS or ts_ns >= self._closes[-1] + self._post:
            raise ValueError(f"time {ts_ns} ns is outside the loaded {self.calendar} sessions {self.start}..{self.end}")
        return bisect_right(self._closes, ts_ns)  # first session whose close is after ts

    def state(self, ts_ns: int) -> SessionState:
        """REGULAR inside a session (outside its break), EXTENDED in the pre/post window, else CLOSED."""
        i = self._index(ts_ns)
        if i < len(self._opens):
            if ts_ns >= self._opens[i]:
                brk = self._breaks[i]
                if brk is not None and brk[0] <= ts_ns < brk[1]:
                    return SessionState.CLOSED
                return SessionState.REGULAR
            if ts_ns >= self._opens[i] - self._pre:
                return SessionState.EXTENDED
        if i > 0 and ts_ns < self._closes[i - 1] + self._post:
            return SessionState.EXTENDED
        return SessionState.CLOSED

    def session_close(self, ts_ns: int) -> int:
        """Regular close of the session containing ``ts_ns``, or of the next one when closed."""
        i = self._index(ts_ns)
        if i >= len(self._closes):
            raise ValueError(f"no {self.calendar} session after {ts_ns} ns within {self.start}..{self.end}")
        return self._closes[i]

    def next_open(self, ts_ns: int) -> int:
        """See :meth:`TradingSessions.next_open`."""
        i = self._index(ts_ns)
        if i >= len(self._opens):
            raise ValueError(f"no {self.calendar} session after {ts_ns} ns within {self.start}..{self.end}")
        return max(ts_ns, self._opens[i])

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly description (enough to rebuild it)."""
        return {
            "type": "CalendarSessions", "calendar": self.calendar, "start": self.start, "end": self.end,
            "pre_open_minutes": self.pre_open_minutes, "post_close_minutes": self.post_close_minutes,
        }  # fmt: skip


def sessions_from_dict(data: dict[str, object]) -> TradingSessions:
    """Rebuild sessions from :meth:`TradingSessions.to_dict` output; raises ValueError on an unknown type."""
    kind = data.get("type")
    if kind == "AlwaysOpen":
        return AlwaysOpen()
    if kind == "CalendarSessions":
        return CalendarSessions(
            str(data["calendar"]), str(data["start"]), str(data["end"]),
            int(data["pre_open_minutes"]), int(data["post_close_minutes"]),  # type: ignore[call-overload]
        )  # fmt: skip
    raise ValueError(f"unknown trading sessions type {kind!r}")


__all__ = ["AlwaysOpen", "CalendarSessions", "SessionState", "TradingSessions", "sessions_from_dict"]
