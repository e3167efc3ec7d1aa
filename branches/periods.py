"""Reporting periods: a month, a quarter or a year, with the arithmetic the rules need."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .dates import add_months

MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}


# The years a period may fall in: wide enough for any record, and every period in it can be
# computed (one ending in the year 10000 cannot). The schemas' patterns say the same.
FIRST_YEAR, LAST_YEAR = 1900, 2999
YEAR_PATTERN = r"(19|2\d)\d{2}"


@dataclass(frozen=True, order=True)
class Period:
    kind: str  # "month" | "quarter" | "year" (PeriodKind values)
    start: datetime.date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls("month", datetime.date(year, month, 1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls("quarter", datetime.date(year, 3 * (quarter - 1) + 1, 1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("year", datetime.date(year, 1, 1))

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> Period:
        if kind == "month":
            return cls.month(day.year, day.month)
        if kind == "quarter":
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.year(day.year)

    @classmethod
    def parse(cls, text: str) -> Period:
        """'2026-03' (month), '2026-Q1' (quarter) or '2026' (year), in FIRST_YEAR..LAST_YEAR."""
        text = text.strip().upper()
        if (m := re.match(r"(\d{4})", text)) and not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
            raise ValueError(
                _("Use a year from %(first)d to %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            if 1 <= int(m[2]) <= 12:
                return cls.month(int(m[1]), int(m[2]))
        elif m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return cls.quarter(int(m[1]), int(m[2]))
        elif re.fullmatch(r"\d{4}", text):
            return cls.year(int(text))
        raise ValueError(
            _("Not a period: %(text)s (use 2026-03, 2026-Q1 or 2026).") % {"text": text}
        )

    @property
    def months(self) -> int:
        return MONTHS_IN[self.kind]

    @property
    def end(self) -> datetime.date:
        return add_months(self.start, self.months) - datetime.timedelta(days=1)

    def __contains__(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def subperiods(self, kind: str) -> list[Period]:
        """The periods of `kind` that make up this one (empty when `kind` is coarser)."""
        step = MONTHS_IN[kind]
        if step > self.months:
            return []
        return [Period(kind, add_months(self.start, i)) for i in range(0, self.months, step)]

    def previous(self) -> Period:
        return Period(self.kind, add_months(self.start, -self.months))

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(month)d/%(year)d") % {"year": self.start.year, "month": self.start.month}
        if self.kind == "quarter":
            return _("Q%(quarter)d %(year)d") % {
                "year": self.start.year,
                "quarter": (self.start.month - 1) // 3 + 1,
            }
        return _("Year %(year)d") % {"year": self.start.year}

    def __str__(self) -> str:
        return self.label
