"""The schemes seeded on migrate (staff change them in the admin): the rules of the real
schemes in shared/docs/domain.md, as data."""

from __future__ import annotations

ORGAN = ["committee", "general_branch", "branch"]

# code, name, description, organization kinds, partner kinds, universal,
# organizations per partner (min, max), partners per organization (max),
# projects each organization leads (min), members pair too
DEFAULT_SCHEMES = [
    (
        "one_plus_one",
        "“1+1”好支部共建",
        "每个机关党支部与一个村党组织结对共建；党员与村党员、重点户结对。",
        ["branch"],
        ["village"],
        True,
        (1, 1),
        1,
        0,
        True,
    ),
    (
        "one_plus_two",
        "“1+2”邻里中心共建",
        "一个社区党组织（邻里中心）由两个机关党组织共建，每个机关党组织至少牵头一个共建项目。",
        ORGAN,
        ["community", "neighbourhood_centre"],
        False,
        (2, 2),
        None,
        1,
        False,
    ),
    (
        "village_support",
        "挂钩帮扶",
        "机关党组织挂钩帮扶村。",
        ORGAN,
        ["village"],
        False,
        (1, None),
        None,
        0,
        False,
    ),
    (
        "neighbourhood",
        "近邻党建",
        "机关党组织与社区党组织近邻共建。",
        ORGAN,
        ["community", "neighbourhood_centre"],
        False,
        (1, None),
        None,
        0,
        False,
    ),
    (
        "co_creation",
        "联创",
        "企业与村联创共建。",
        ORGAN,
        ["village", "enterprise"],
        False,
        (1, None),
        None,
        0,
        False,
    ),
]


def seed_schemes(scheme_model) -> None:
    """Create the default schemes that are missing (by code); never change existing ones."""
    for order, row in enumerate(DEFAULT_SCHEMES, start=1):
        (
            code,
            name,
            description,
            org_kinds,
            partner_kinds,
            universal,
            per_partner,
            per_org,
            projects,
            member_pairs,
        ) = row
        scheme_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "organization_kinds": org_kinds,
                "partner_kinds": partner_kinds,
                "universal": universal,
                "min_organizations_per_partner": per_partner[0],
                "max_organizations_per_partner": per_partner[1],
                "max_partners_per_organization": per_org,
                "min_projects_per_organization": projects,
                "member_pairs": member_pairs,
                "sort_order": order,
            },
        )
