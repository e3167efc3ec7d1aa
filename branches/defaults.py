"""The seven types of organizational life and their minimum frequencies (domain.md).

Used by the data migration that seeds them and by `ensure_default_activity_types()`; after
that they are data that staff edit in the admin.
"""

import datetime

RULES_IN_FORCE_FROM = datetime.date(2018, 1, 1)

# code, name, filed by kinds, committee only, period, minimum, basis
DEFAULT_ACTIVITY_TYPES = [
    (
        "general_meeting",
        "支部党员大会",
        ["branch"],
        False,
        "quarter",
        1,
        "支部工作条例：每季度召开一次",
    ),
    ("committee_meeting", "支部委员会", ["branch"], True, "month", 1, "支部工作条例：每月召开一次"),
    ("group_meeting", "党小组会", ["group"], False, "month", 1, "支部工作条例：每月召开一次"),
    ("party_lecture", "党课", ["branch"], False, "quarter", 1, "本市规定：每季度至少一次"),
    ("theme_day", "主题党日", ["branch"], False, "month", 1, "每月相对固定一天"),
    ("life_meeting", "组织生活会", ["branch"], False, "year", 1, "一般每年召开一次"),
    ("democratic_appraisal", "民主评议党员", ["branch"], False, "year", 1, "一般每年开展一次"),
]


def seed_activity_types(activity_type_model, rule_model) -> None:
    """Create the default types and rules that are missing (idempotent)."""
    for order, (code, name, kinds, committee_only, period, minimum, note) in enumerate(
        DEFAULT_ACTIVITY_TYPES
    ):
        activity_type, _ = activity_type_model.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name,
                organization_kinds=kinds,
                committee_only=committee_only,
                sort_order=order * 10,
            ),
        )
        if not rule_model.objects.filter(activity_type=activity_type).exists():
            rule_model.objects.create(
                activity_type=activity_type,
                period=period,
                minimum_count=minimum,
                organization_kinds=kinds,
                active_from=RULES_IN_FORCE_FROM,
                note=note,
            )
