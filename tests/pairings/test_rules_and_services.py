"""Scheme rules, help records and the progress figures of the pairings app."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.compliance import compute_compliance
from branches.models import ActivityRecord, Organization, OrganizationKind
from branches.periods import Period
from pairings import selectors
from pairings.models import (
    HelpKind,
    HelpRecord,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
)
from pairings.services import HelpInput, ProjectInput, add_project, file_help_record

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def messages(exc: ValidationError) -> str:
    return " ".join(m for ms in exc.message_dict.values() for m in ms)


# --- scheme rules ------------------------------------------------------------------------------


def test_a_second_organ_organization_for_a_one_plus_one_village_is_refused(
    tree, schemes, partners, pair
):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"])
    with pytest.raises(ValidationError) as caught:
        pair(schemes["one_plus_one"], tree.branch_a2, partners["village1"])
    assert "东村党支部" in caught.value.message_dict["partner"][0]
    assert "最多" in caught.value.message_dict["partner"][0]
    assert "override_reason" in caught.value.message_dict
    assert Pairing.objects.filter(partner=partners["village1"]).count() == 1


def test_a_branch_takes_one_village_in_one_plus_one(tree, schemes, partners, pair):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"])
    with pytest.raises(ValidationError) as caught:
        pair(schemes["one_plus_one"], tree.branch_a, partners["village2"])
    assert "organization" in caught.value.message_dict


def test_an_override_keeps_its_reason_and_is_flagged(tree, schemes, partners, pair, staff):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"])
    second = pair(
        schemes["one_plus_one"],
        tree.branch_a2,
        partners["village1"],
        override_reason="两个支部均派驻第一书记",
    )
    second.refresh_from_db()
    assert second.override_reason == "两个支部均派驻第一书记" and second.flagged
    assert list(selectors.flagged_pairings(staff)) == [second]


def test_an_override_where_nothing_is_broken_leaves_no_flag(tree, schemes, partners, pair):
    made = pair(schemes["one_plus_one"], tree.branch_a, partners["village1"], override_reason="x")
    assert not made.flagged


def test_a_partner_of_another_kind_is_refused_even_with_a_reason(tree, schemes, partners, pair):
    with pytest.raises(ValidationError) as caught:
        pair(
            schemes["one_plus_one"],
            tree.branch_a,
            partners["enterprise"],
            override_reason="试点",
        )
    assert "企业" in caught.value.message_dict["partner"][0]
    with pytest.raises(ValidationError) as caught:
        pair(schemes["one_plus_one"], tree.committee_a, partners["village1"])
    assert "党支部" in caught.value.message_dict["organization"][0]
    assert not Pairing.objects.exists()


def test_a_one_plus_two_community_with_one_organ_organization_is_incomplete(
    tree, schemes, partners, pair, staff, secretary_a
):
    scheme = schemes["one_plus_two"]
    pair(scheme, tree.committee_a, partners["community"])
    rows = list(selectors.incomplete_partners(staff))
    assert [(r["partner__name"], r["organizations"], r["wanted"]) for r in rows] == [
        ("南街社区党委", 1, 2)
    ]
    pair(scheme, tree.committee_b, partners["community"])
    assert list(selectors.incomplete_partners(staff)) == []
    # A third is refused: "1+2" means two.
    with pytest.raises(ValidationError):
        pair(scheme, tree.branch_a2, partners["community"])


def test_an_organ_organization_in_one_plus_two_with_no_project_is_listed(
    tree, schemes, partners, pair, staff
):
    scheme = schemes["one_plus_two"]
    first = pair(scheme, tree.committee_a, partners["community"])
    second = pair(scheme, tree.committee_b, partners["community"])
    assert {p.pk for p in selectors.pairings_lacking_projects(staff)} == {first.pk, second.pk}
    add_project(
        staff,
        ProjectInput(first, "邻里中心书屋", Decimal("12000.50"), D(2026, 2, 1), D(2026, 6, 30)),
    )
    assert [p.pk for p in selectors.pairings_lacking_projects(staff)] == [second.pk]


def test_only_staff_make_pairings(tree, schemes, partners, secretary_a):
    from pairings.services import PairingInput, create_pairing

    with pytest.raises(PermissionDenied):
        create_pairing(
            secretary_a,
            PairingInput(
                schemes["one_plus_one"], tree.branch_a, partners["village1"], D(2026, 1, 1)
            ),
        )


# --- help records ------------------------------------------------------------------------------


@pytest.fixture
def pairing_a(tree, schemes, partners, pair):
    return pair(
        schemes["one_plus_one"],
        tree.branch_a,
        partners["village1"],
        started_on=D(2025, 1, 1),
        status=PairingStatus.DOCKED,
    )


def visit(pairing, **fields):
    values = {
        "pairing": pairing,
        "kind": HelpKind.VISIT,
        "date": today(),
        "description": "走访困难户，召开共建座谈会",
    }
    values.update(fields)
    return HelpInput(**values)


def test_a_secretary_files_a_visit_with_a_photo(tree, pairing_a, secretary_a):
    record = file_help_record(
        secretary_a,
        visit(
            pairing_a,
            participant_ids={tree.members["a1"].pk, tree.members["a2"].pk},
            photos=[SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
        ),
    )
    assert record.filed_by == secretary_a
    assert set(record.participants.values_list("name", flat=True)) == {"张伟", "王芳"}
    assert record.photos.get().content_type == "image/png"
    assert record.activity_record is None


def test_a_visit_as_theme_day_counts_once_in_compliance_and_once_in_the_pairing(
    tree, pairing_a, secretary_a, staff, activity_types
):
    day = today()
    record = file_help_record(
        secretary_a,
        visit(pairing_a, date=day, as_theme_day=True, participant_ids={tree.members["a1"].pk}),
    )
    linked = record.activity_record
    assert linked is not None and linked.activity_type.code == "theme_day"
    assert ActivityRecord.objects.count() == 1
    assert (linked.present_count, linked.absent_count) == (1, 2)
    month = Period.month(day.year, day.month)
    result = compute_compliance(Organization.objects.filter(pk=tree.branch_a.pk), month, today=day)
    theme = [o for o in result[tree.branch_a.pk].obligations if o.type_name == "主题党日"]
    assert [o.held for o in theme] == [1]
    assert selectors.help_totals(staff)["total"].visits == 1


def test_a_theme_day_twice_the_same_day_is_refused_and_nothing_is_saved(
    tree, pairing_a, secretary_a, activity_types
):
    members = {tree.members["a1"].pk}
    file_help_record(secretary_a, visit(pairing_a, as_theme_day=True, participant_ids=members))
    with pytest.raises(ValidationError) as caught:
        file_help_record(secretary_a, visit(pairing_a, as_theme_day=True, participant_ids=members))
    assert "as_theme_day" in caught.value.message_dict
    assert HelpRecord.objects.count() == 1 and ActivityRecord.objects.count() == 1


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"kind": HelpKind.FUNDS, "amount": Decimal("-5")}, "amount", "大于零"),
        ({"kind": HelpKind.FUNDS}, "amount", "金额"),
        ({"date": "future"}, "date", "未来"),
        (
            {
                "kind": HelpKind.GOODS,
                "item": "棉被",
                "quantity": Decimal("0"),
                "unit_of_measure": "床",
            },
            "quantity",
            "大于零",
        ),
        (
            {"kind": HelpKind.GOODS, "item": "棉被", "quantity": Decimal("3")},
            "unit_of_measure",
            "单位",
        ),
        (
            {"kind": HelpKind.FUNDS, "amount": Decimal("5"), "as_theme_day": True},
            "as_theme_day",
            "走访",
        ),
        ({"description": "  "}, "description", "做了什么"),
    ],
)
def test_bad_help_gets_a_chinese_error_and_nothing_is_saved(
    pairing_a, secretary_a, fields, field, words
):
    if fields.get("date") == "future":
        fields["date"] = today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        file_help_record(secretary_a, visit(pairing_a, **fields))
    assert words in " ".join(caught.value.message_dict[field])
    assert not HelpRecord.objects.exists() and not ActivityRecord.objects.exists()


def test_a_stranger_among_who_went_is_refused(tree, pairing_a, secretary_a):
    with pytest.raises(ValidationError) as caught:
        file_help_record(secretary_a, visit(pairing_a, participant_ids={tree.members["b1"].pk}))
    assert str(tree.members["b1"].pk) in messages(caught.value)


def test_money_is_exact_and_goods_keep_their_unit_of_measure(pairing_a, secretary_a, staff):
    for amount in ("0.10", "0.20", "400000.00"):
        file_help_record(secretary_a, visit(pairing_a, kind=HelpKind.FUNDS, amount=Decimal(amount)))
    goods = [
        ("棉被", "206", "床", "20600.00"),
        ("棉被", "10", "件", "800.00"),
        ("大米", "50", "袋", "2500.50"),
    ]
    for item, quantity, unit, value in goods:
        file_help_record(
            secretary_a,
            visit(
                pairing_a,
                kind=HelpKind.GOODS,
                item=item,
                quantity=Decimal(quantity),
                unit_of_measure=unit,
                value=Decimal(value),
            ),
        )
    totals = selectors.help_totals(staff)
    assert totals["total"].funds == Decimal("400000.30")
    assert totals["total"].goods_value == Decimal("23900.50")
    assert [(g["item"], g["unit_of_measure"], g["quantity"]) for g in totals["goods"]] == [
        ("大米", "袋", Decimal("50")),
        ("棉被", "件", Decimal("10")),
        ("棉被", "床", Decimal("206")),
    ]


# --- scope -------------------------------------------------------------------------------------


def test_a_secretary_reports_only_on_their_own_pairings(
    tree, schemes, partners, pair, secretary_a, secretary_b, inspector_a
):
    theirs = pair(
        schemes["one_plus_one"], tree.branch_b, partners["village2"], started_on=D(2025, 1, 1)
    )
    with pytest.raises(PermissionDenied):
        file_help_record(secretary_a, visit(theirs))
    with pytest.raises(PermissionDenied):
        file_help_record(inspector_a, visit(theirs))
    assert list(selectors.visible_pairings(secretary_a)) == []
    assert list(selectors.visible_pairings(secretary_b)) == [theirs]
    assert list(selectors.visible_pairings(inspector_a)) == []


def test_an_inspector_reads_their_units_pairings(pairing_a, inspector_a, inspector_city):
    assert list(selectors.visible_pairings(inspector_a)) == [pairing_a]
    assert list(selectors.visible_pairings(inspector_city)) == [pairing_a]
    with pytest.raises(PermissionDenied):
        file_help_record(inspector_a, visit(pairing_a))


# --- progress in a constant number of queries --------------------------------------------------


def _many_pairings(tree, schemes, n, start=0):
    """n docked "挂钩帮扶" pairings of branch_a2 (no per-organization limit), n villages."""
    partners = PartnerOrganization.objects.bulk_create(
        PartnerOrganization(name=f"村{i}", kind=PartnerKind.VILLAGE, town="河口镇")
        for i in range(start, start + n)
    )
    pairings = Pairing.objects.bulk_create(
        Pairing(
            scheme=schemes["village_support"],
            organization=tree.branch_a2,
            partner=p,
            started_on=D(2025, 1, 1),
            status=PairingStatus.DOCKED,
            docked_on=D(2025, 2, 1),
        )
        for p in partners
    )
    HelpRecord.objects.bulk_create(
        HelpRecord(
            pairing=p,
            kind=HelpKind.FUNDS,
            date=D(2025, 3, 1),
            description="慰问",
            amount=Decimal("100.01"),
        )
        for p in pairings
    )


@pytest.mark.parametrize("role", ["staff", "secretary_a", "inspector_a"])
def test_progress_costs_the_same_queries_for_10_and_1000_pairings(
    tree, schemes, users, role, django_assert_max_num_queries
):
    user = users[role]

    def measure():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            docking = selectors.docking(user)
            totals = selectors.help_totals(user)
            list(selectors.unvisited_pairings(user))
            list(selectors.overdue_projects(user))
            list(selectors.incomplete_partners(user))
            list(selectors.pairings_lacking_projects(user))
            list(selectors.pairings_for_display(user)[:50])
        return len(queries), docking, totals

    _many_pairings(tree, schemes, 10)
    few, _, _ = measure()
    _many_pairings(tree, schemes, 990, start=10)
    many, docking, totals = measure()
    assert few == many
    if role != "secretary_a":
        support = next(d for d in docking if d.total.scheme.code == "village_support")
        assert (support.total.enrolled, support.total.docked) == (1, 1)  # one organization
        assert totals["total"].funds == Decimal("100010.00")


def test_docking_rate_counts_every_branch_of_a_universal_scheme(
    tree, schemes, partners, pair, staff, inspector_a
):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"], status=PairingStatus.DOCKED)
    pair(schemes["one_plus_one"], tree.branch_b, partners["village2"])
    one_plus_one = next(
        d for d in selectors.docking(staff) if d.total.scheme.code == "one_plus_one"
    )
    branches = Organization.objects.filter(kind=OrganizationKind.BRANCH).count()
    assert (one_plus_one.total.enrolled, one_plus_one.total.paired, one_plus_one.total.docked) == (
        branches,
        2,
        1,
    )
    by_unit = {d.unit.pk: (d.enrolled, d.docked) for d in one_plus_one.units}
    assert by_unit[tree.unit_a.pk] == (2, 1)
    assert [o.pk for o in selectors.unpaired_organizations(staff, schemes["one_plus_one"])] == [
        tree.branch_a2.pk
    ]
    mine = next(d for d in selectors.docking(inspector_a) if d.total.scheme.code == "one_plus_one")
    assert (mine.total.enrolled, mine.total.docked) == (2, 1)
