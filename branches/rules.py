"""Structure rules of the branch work regulations (支部工作条例, 2018)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import OrganizationKind

MIN_FULL_MEMBERS = 3
USUAL_MAX_MEMBERS = 50
COMMITTEE_FROM_FULL_MEMBERS = 7
COMMITTEE_MIN, COMMITTEE_USUAL_MAX, COMMITTEE_MAX = 3, 5, 7


def committee_quorum_met(present: int, expected: int) -> bool:
    """A committee meeting (支委会) counts only when more than half of the committee came."""
    return present * 2 > expected


def counts_for_compliance(committee_only: bool, present: int, expected: int) -> bool:
    """Whether a held activity counts towards what the organization owes: always, except a
    committee meeting without a quorum. The one home of the rule (portal, API, admin)."""
    return not committee_only or committee_quorum_met(present, expected)


def branch_structure_warnings(
    kind: str, member_count: int, full_member_count: int, committee_size: int, has_secretary: bool
) -> list[str]:
    """What a branch breaks of the regulations; empty when it is in order.

    Takes counts (annotated by `selectors.with_member_counts`): a list page costs no query
    per row.
    """
    if kind != OrganizationKind.BRANCH:
        return []
    warnings = []
    if full_member_count < MIN_FULL_MEMBERS:
        warnings.append(
            _("Fewer than %(n)d full members (has %(count)d): a branch needs at least %(n)d.")
            % {"n": MIN_FULL_MEMBERS, "count": full_member_count}
        )
    if member_count > USUAL_MAX_MEMBERS:
        warnings.append(
            _("More than %(n)d members (has %(count)d): consider splitting the branch.")
            % {"n": USUAL_MAX_MEMBERS, "count": member_count}
        )
    if full_member_count >= COMMITTEE_FROM_FULL_MEMBERS and not (
        COMMITTEE_MIN <= committee_size <= COMMITTEE_MAX
    ):
        warnings.append(
            _(
                "With %(count)d full members the branch should elect a committee of "
                "%(min)d to %(max)d (has %(size)d)."
            )
            % {
                "count": full_member_count,
                "min": COMMITTEE_MIN,
                "max": COMMITTEE_USUAL_MAX,
                "size": committee_size,
            }
        )
    if not has_secretary:
        warnings.append(_("No secretary recorded."))
    return warnings
