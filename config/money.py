"""Money sums that stay exact on every database: the one home of "add up yuan".

SQLite keeps a DecimalField as a float, and its SUM adds floats (1,000 x 100.01 came to
100009.999999999). Each amount is turned into whole fen first (rounded: a stored amount has two
decimal places), so the database adds integers, and the result comes back as a Decimal.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import BigIntegerField, F, Q, Sum
from django.db.models.functions import Cast, Round

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def fen_sum(field: str, filter: Q | None = None) -> Sum:  # noqa: A002 (Django's own name)
    """SUM of a money field in whole fen (an integer, or None when there are no rows)."""
    return Sum(Cast(Round(F(field) * 100), BigIntegerField()), filter=filter)


def yuan(fen: int | None) -> Decimal:
    """Whole fen from `fen_sum` as yuan, two decimal places; none is 0.00."""
    return (Decimal(fen or 0) * CENT).quantize(CENT)
