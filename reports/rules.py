"""The committee's rules of the reports app, as plain functions: how units are ranked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from branches.compliance import OrganizationCompliance

RATE_PLACES = Decimal("0.0001")


@dataclass
class UnitLine:
    """A unit's line of the ranking: its organizations that owed something this month."""

    unit_id: int
    name: str = ""
    order: int = 0
    organizations: int = 0
    compliant: int = 0
    owed: int = 0
    held: int = 0

    @property
    def rate(self) -> Decimal:
        """Share of its organizations that held everything they owed (four places)."""
        return (Decimal(self.compliant) / self.organizations).quantize(RATE_PLACES)


def rank_units(
    results: Iterable[tuple[int, str, int, OrganizationCompliance]],
) -> list[UnitLine]:
    """The bulletin's unit ranking (the one home of the rule: the bulletin, the dashboard).

    `results` is (unit id, unit name, unit sort order, the organization's compliance) for each
    organization judged (groups are judged inside their branch's line). An organization that
    owed nothing does not count. Units rank by the share of compliant organizations, then by
    the share of activities held, then by the unit's sort order.
    """
    per_unit: dict[int, UnitLine] = {}
    for unit_id, name, order, result in results:
        if not result.owed:
            continue
        line = per_unit.setdefault(unit_id, UnitLine(unit_id))
        line.name, line.order = name, order
        line.organizations += 1
        line.compliant += result.compliant
        line.owed += result.owed
        line.held += result.held
    return sorted(per_unit.values(), key=lambda u: (-u.rate, -(u.held / u.owed), u.order))
