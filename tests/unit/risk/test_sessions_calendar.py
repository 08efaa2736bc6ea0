"""ExchangeCalendarSessions against exchange_calendars itself (CME Globex, XNYS)."""

from __future__ import annotations

import itertools

import exchange_calendars as xcals
import pandas as pd
import pytest

from tradewire.model import InstrumentId
from tradewire.risk.sessions import ExchangeCalendarSessions

ES = InstrumentId("ESH4.XCME")
SPY = InstrumentId("SPY.XNAS")


def _ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_open_and_closed_minutes_agree_with_the_calendar():
    sessions = ExchangeCalendarSessions({"XCME": "CMES", "XNAS": "XNYS"}, always_open=frozenset({"BINANCE"}))
    cmes = xcals.get_calendar("CMES", side="left")
    xnys = xcals.get_calendar("XNYS", side="left")
    # Tuesday 2024-01-02: CME Globex open at 15:00 UTC, closed in its 22:00-23:00 UTC maintenance hour;
    # NYSE open 14:30-21:00 UTC; minutes around the edges included
    for text in ("2024-01-02 15:00", "2024-01-02 21:59", "2024-01-02 22:00", "2024-01-02 22:59",
                 "2024-01-02 23:00", "2024-01-06 12:00", "2024-01-02 14:29", "2024-01-02 14:30",
                 "2024-01-02 20:59", "2024-01-02 21:00"):  # fmt: skip
        ts = _ns(text)
        minute = pd.Timestamp(text, tz="UTC")
        assert sessions(ES, ts) == bool(cmes.is_open_on_minute(minute)), text
        assert sessions(SPY, ts) == bool(xnys.is_open_on_minute(minute)), text
        assert sessions(ES, ts + 30_000_000_000) == bool(cmes.is_open_on_minute(minute)), text  # cached interval
    assert sessions(InstrumentId("BTCUSDT.BINANCE"), _ns("2024-01-06 12:00")) is True
    with pytest.raises(KeyError, match="no trading calendar"):
        sessions(InstrumentId("X.UNKNOWN"), _ns("2024-01-02 15:00"))


def test_calendar_bounds_are_the_calendars_first_and_last_minute():
    sessions = ExchangeCalendarSessions({"XNAS": "XNYS"})
    cal = xcals.get_calendar("XNYS", side="left")
    sessions(SPY, _ns("2024-01-02 15:00"))
    assert sessions._bounds["XNAS"] == (cal.first_minute, cal.last_minute)  # the slow reference
    with pytest.raises(KeyError, match="outside calendar"):
        sessions(SPY, _ns("1990-01-02 15:00"))


@pytest.mark.parametrize(("venue", "name"), [("XHKG", "XHKG"), ("XCME", "CMES")])
def test_every_minute_of_a_week_agrees_with_the_calendar_including_breaks(venue, name):
    """XHKG closes for lunch inside its session (a break): the cached interval must not span it."""
    sessions = ExchangeCalendarSessions({venue: name})
    cal = xcals.get_calendar(name, side="left")
    iid = InstrumentId(f"X.{venue}")
    lookups = 0
    real_lookup = sessions._lookup

    def counting_lookup(*args):
        nonlocal lookups
        lookups += 1
        return real_lookup(*args)

    sessions._lookup = counting_lookup  # type: ignore[method-assign]
    start = pd.Timestamp("2024-01-08", tz="UTC")  # Monday
    truth = [bool(cal.is_open_on_minute(start + pd.Timedelta(minutes=m))) for m in range(7 * 24 * 60)]
    for m, is_open in enumerate(truth):
        ts = (start + pd.Timedelta(minutes=m)).value
        assert sessions(iid, ts) is is_open, start + pd.Timedelta(minutes=m)
        assert sessions(iid, ts + 59_999_999_999) is is_open, (start + pd.Timedelta(minutes=m), "end of minute")
    # one calendar lookup per open or closed stretch (breaks included), and one more where a session's close
    # is the next session's open (CMES: sessions abut, the market stays open across them)
    stretches = 1 + sum(1 for a, b in itertools.pairwise(truth) if a != b)
    end = start + pd.Timedelta(days=7)
    sched = cal.schedule.loc[(start - pd.Timedelta(days=3)).tz_localize(None) : end.tz_localize(None)]
    abutting = sum(
        1 for close, next_open in zip(sched["close"].iloc[:-1], sched["open"].iloc[1:], strict=True)
        if close == next_open and start <= close < end
    )  # fmt: skip
    assert lookups == stretches + abutting
    if venue == "XHKG":
        assert truth[4 * 60 + 30] is False and truth[3 * 60] is True  # 04:30 UTC lunch, 03:00 UTC morning
