"""Six-field cron expressions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forgekit.pipelines import CronExpr

T0 = datetime(2026, 11, 21, 10, 0, 7, tzinfo=UTC)  # a Saturday


def _seq(expr: str, n: int, start: datetime = T0, tz: str = "UTC") -> list[datetime]:
    e, out, t = CronExpr.parse(expr), [], start
    for _ in range(n):
        t = e.next_after(t, tz)
        out.append(t)
    return out


def test_seconds_step() -> None:
    assert [t.second for t in _seq("*/15 * * * * *", 4)] == [15, 30, 45, 0]


def test_weekday_range_and_names() -> None:
    (t,) = _seq("0 30 2 * * mon-fri", 1)
    assert (t.weekday(), t.hour, t.minute) == (0, 2, 30)  # Monday
    assert _seq("0 0 12 * jan sun", 1)[0].month == 1


def test_dom_or_dow_when_both_restricted() -> None:
    days = {(t.day, t.weekday()) for t in _seq("0 0 0 1 * mon", 6)}
    assert all(d == 1 or wd == 0 for d, wd in days)


def test_time_zone() -> None:
    (t,) = _seq("0 0 9 * * *", 1, tz="Europe/Paris")
    assert t.hour == 8 and t.tzinfo == UTC


@pytest.mark.parametrize(
    "bad,why",
    [
        ("* * * * *", "seconds field"),
        ("60 * * * * *", "outside"),
        ("* * * * * funday", "not a number"),
        ("5-1 * * * * *", "backwards"),
        ("*/0 * * * * *", "step"),
    ],
)
def test_bad_expressions(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        CronExpr.parse(bad)
