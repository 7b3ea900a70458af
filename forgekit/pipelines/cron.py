"""Cron expressions with a seconds field: `sec min hour day-of-month month day-of-week`.

A small parser of our own (no dependency): `*`, `?`, numbers, ranges `a-b`, steps `*/n`
and `a-b/n`, lists `a,b`, month and weekday names (`jan`, `mon`), weekday 0 or 7 = Sunday.
As in Vixie cron, when both day-of-month and day-of-week are restricted a day matches
either of them.

Example:
    >>> from datetime import datetime, timezone
    >>> expr = CronExpr.parse("*/15 * * * * *")
    >>> expr.next_after(datetime(2026, 1, 1, 0, 0, 7, tzinfo=timezone.utc)).second
    15
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {
    m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
# (name, low, high, names)
_FIELDS = [
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
]
_HORIZON_DAYS = 366 * 5


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    key = text.lower()
    if key in names:
        return names[key]
    if not text.isdigit():
        raise ValueError(f"{name}: {text!r} is not a number")
    v = int(text)
    if not low <= v <= high:
        raise ValueError(f"{name}: {v} is outside {low}-{high}")
    return v


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ValueError(f"{name}: empty list item in {text!r}")
        rng, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name}: bad step {step_text!r}")
            step = int(step_text)
        if rng in ("*", "?"):
            a, b = low, high
        elif "-" in rng:
            lo, _, hi = rng.partition("-")
            a, b = _value(lo, name, low, high, names), _value(hi, name, low, high, names)
            if a > b:
                raise ValueError(f"{name}: range {rng!r} runs backwards")
        else:
            a = _value(rng, name, low, high, names)
            b = high if step_text else a
        out.update(range(a, b + 1, step))
    return out


@dataclass(frozen=True)
class CronExpr:
    """A parsed six-field cron expression."""

    text: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    dom_any: bool
    dow_any: bool

    @classmethod
    def parse(cls, text: str) -> CronExpr:
        """Parse `text`; a ValueError says which field is wrong and why."""
        parts = text.split()
        if len(parts) != 6:
            hint = (
                " (a 5-field crontab line needs a seconds field first, e.g. '0 ' + it)"
                if len(parts) == 5
                else ""
            )
            raise ValueError(
                f"cron {text!r} has {len(parts)} fields; expected 6: "
                f"second minute hour day-of-month month day-of-week{hint}"
            )
        sets = [_parse_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[5])
        seconds, minutes, hours, days, months = (frozenset(s) for s in sets[:5])
        return cls(
            text,
            seconds,
            minutes,
            hours,
            days,
            months,
            weekdays,
            dom_any=parts[3] in ("*", "?"),
            dow_any=parts[5] in ("*", "?"),
        )

    def _day_ok(self, d: datetime) -> bool:
        if d.month not in self.months:
            return False
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        if self.dom_any or self.dow_any:
            return dom and dow
        return dom or dow

    def _next_local(self, t: datetime) -> datetime:
        """The first matching naive wall time strictly after naive `t`."""
        t = t.replace(microsecond=0) + timedelta(seconds=1)
        limit = t + timedelta(days=_HORIZON_DAYS)
        while t < limit:
            if not self._day_ok(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if t.minute not in self.minutes:
                t = (t + timedelta(minutes=1)).replace(second=0)
                continue
            if t.second not in self.seconds:
                t = t + timedelta(seconds=1)
                continue
            return t
        raise ValueError(f"cron {self.text!r} never fires in the next {_HORIZON_DAYS} days")

    def next_after(self, t: datetime, tz: str | ZoneInfo = "UTC") -> datetime:
        """The first slot strictly after aware datetime `t`, as an aware UTC datetime."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        if t.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        local = t.astimezone(zone).replace(tzinfo=None)
        nxt = self._next_local(local).replace(tzinfo=zone)
        return nxt.astimezone(UTC)
