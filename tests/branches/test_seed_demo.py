"""`manage.py seed_demo`: the small demo set is complete, consistent and reproducible."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from accounts.models import Role, User
from branches import demo, selectors
from branches.dates import add_months
from branches.models import (
    COLLEGE_OR_ABOVE,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    PartyDuty,
    Term,
    Unit,
    years_ago,
)
from branches.rules import branch_structure_warnings

K = OrganizationKind


def seed(*args, **options) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """The demo hashes its one password once; PBKDF2's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    return seed(scale="small")


def test_small_scale_counts(seeded):
    assert Unit.objects.count() == 6
    assert 30 <= Organization.objects.count() <= 60
    assert 350 <= Member.objects.count() <= 500
    for kind in K.values:
        assert Organization.objects.filter(kind=kind).exists(), kind
    assert set(Organization.objects.values_list("host_type", flat=True)) == {
        "organ",
        "public_institution",
        "enterprise",
    }
    assert "Demo data built" in seeded


def test_tree_is_consistent(seeded):
    orgs = {o.pk: o for o in Organization.objects.all()}
    assert len({o.code for o in orgs.values()}) == len(orgs)
    for org in orgs.values():
        parent = orgs.get(org.parent_id)
        parent_path = parent.path if parent else "/"
        assert org.path == Organization.build_path(parent_path, org.pk)
        assert org.depth == (parent.depth + 1 if parent else 0)
        if org.kind == K.GROUP:
            assert parent.kind == K.BRANCH
        if org.kind == K.GENERAL_BRANCH:
            assert parent.kind == K.COMMITTEE
    # Subtree lookups work on the computed paths.
    committee = Organization.objects.filter(kind=K.COMMITTEE, parent=None).first()
    assert Organization.objects.subtree_of(committee).count() > 1


def test_members_are_plausible(seeded):
    members = list(Member.objects.select_related("branch", "group"))
    assert len({m.member_no for m in members}) == len(members)
    for m in members:
        assert m.branch.kind == K.BRANCH
        if m.group_id:
            assert m.group.kind == K.GROUP and m.group.parent_id == m.branch_id
        assert m.joined_on >= years_ago(m.birth_date, -18)
        if m.status == MemberStatus.FULL:
            assert m.full_member_on == add_months(m.joined_on, 12)
        else:
            assert m.full_member_on is None
            assert m.joined_on > years_ago(timezone.localdate(), 1)
    assert {m.birth_date.year // 10 * 10 for m in members} >= {1950, 1960, 1970, 1980, 1990}
    probationary = sum(m.status == MemberStatus.PROBATIONARY for m in members)
    assert 0.02 < probationary / len(members) < 0.1
    college = sum(m.education in COLLEGE_OR_ABOVE for m in members)
    assert college / len(members) > 0.8
    female = sum(m.sex == "female" for m in members)
    assert 0.3 < female / len(members) < 0.6
    assert any(m.community for m in members)
    assert any(m.first_secretary_village for m in members)
    assert any(m.is_hardship for m in members)
    assert any(m.is_party_worker for m in members)
    assert Member.objects.filter(group__isnull=False).exists()


def test_duties_secretaries_and_structure_warnings(seeded):
    branches = selectors.with_member_counts(Organization.objects.filter(kind=K.BRANCH))
    warnings = []
    for branch in branches:
        secretaries = Member.objects.filter(branch=branch, duty=PartyDuty.SECRETARY)
        assert secretaries.count() <= 1
        if branch.secretary_id:
            assert secretaries.get().pk == branch.secretary_id
        warnings += branch_structure_warnings(
            branch.kind,
            branch.member_count,
            branch.full_member_count,
            branch.committee_size,
            bool(branch.secretary_id),
        )
    # The deliberate breaches show up: too few full members, too many members, no committee,
    # no secretary.
    assert len(warnings) >= 4
    assert any(b.full_member_count < 3 for b in branches)
    assert any(b.member_count > 50 for b in branches)
    assert any(b.full_member_count >= 7 and b.committee_size < 3 for b in branches)
    assert any(not b.secretary_id for b in branches)
    # The others with 7+ full members have a committee of 3 to 5.
    committees = [
        b.committee_size for b in branches if b.full_member_count >= 7 and b.committee_size > 1
    ]
    assert committees and all(3 <= size <= 5 for size in committees)
    assert Organization.objects.filter(kind=K.COMMITTEE, secretary__isnull=False).exists()


def test_joint_committee_spans_two_units(seeded):
    joint = Organization.objects.get(joint_units__isnull=False)
    assert joint.kind == K.COMMITTEE
    assert joint.unit.name == "市统计局"
    assert "联合党委" in joint.name
    other = joint.joint_units.get()
    assert "调查队" in other.name
    assert joint.children.filter(unit=other).exists()


def test_terms(seeded):
    elected = Organization.objects.exclude(kind=K.GROUP)
    assert Term.objects.filter(ended_on__isnull=True).count() == elected.count()
    assert not Term.objects.filter(organization__kind=K.GROUP).exists()
    for term in Term.objects.all():
        assert term.due_on == Term.compute_due_on(
            term.started_on, term.length_years, term.extension_months
        )
    assert selectors.overdue_elections(Organization.objects.all()).exists()
    assert selectors.elections_due_soon(Organization.objects.all()).exists()
    extended = Term.objects.exclude(extension_months=0)
    assert extended.exists()
    assert not extended.filter(extension_approval="").exists()
    committee_term = Term.objects.filter(organization__kind=K.COMMITTEE).first()
    assert committee_term.length_years == 5
    assert not Term.objects.filter(ended_on__lt=F("started_on")).exists()


def test_demo_accounts(seeded):
    staff = User.objects.get(username="admin")
    assert staff.role == Role.STAFF and staff.is_staff and staff.is_superuser
    assert staff.check_password(demo.DEMO_PASSWORD)

    secretaries = User.objects.filter(role=Role.SECRETARY)
    assert secretaries.count() == 2
    assert secretaries.values("organization__unit").distinct().count() == 2
    for user in secretaries:
        assert user.organization.kind == K.BRANCH
        scope = selectors.visible_organizations(user)
        assert scope.filter(pk=user.organization_id).exists()
        assert selectors.visible_members(user).exists()

    inspector = User.objects.get(role=Role.INSPECTOR, city_wide=False)
    assert inspector.units.count() == 1
    assert selectors.visible_organizations(inspector).exists()
    city = User.objects.get(role=Role.INSPECTOR, city_wide=True)
    assert selectors.visible_organizations(city).count() == Organization.objects.count()

    for username in ("admin", "secretary1", "secretary2", "inspector1", "inspector_city"):
        assert username in seeded
    assert demo.DEMO_PASSWORD in seeded
    assert "/admin/" in seeded and "/portal/" in seeded


def _snapshot():
    return list(
        Member.objects.order_by("member_no").values_list(
            "member_no", "name", "birth_date", "branch__name", "duty"
        )
    )


def test_deterministic(db):
    seed(scale="small", seed=5)
    first = _snapshot()
    seed(scale="small", seed=5, flush=True)
    assert _snapshot() == first
    assert User.objects.filter(username="admin").count() == 1
    seed(scale="small", seed=6, flush=True)
    assert [row[1] for row in _snapshot()] != [row[1] for row in first]


def test_if_empty_is_a_no_op_on_seeded_data(seeded):
    before = (Unit.objects.count(), Member.objects.count(), User.objects.count())
    out = seed(scale="small", if_empty=True)
    assert "already" in out
    assert (Unit.objects.count(), Member.objects.count(), User.objects.count()) == before


def test_second_run_refuses_without_flags(seeded):
    with pytest.raises(CommandError, match="--flush"):
        seed(scale="small")


def test_if_empty_builds_on_an_empty_database(db):
    seed(scale="small", if_empty=True)
    assert Unit.objects.exists()


def test_flush_keeps_other_accounts(tree, staff, secretary_a):
    """Flush deletes all organization data, but only the accounts the demo itself made."""
    with pytest.raises(CommandError):
        seed(scale="small")
    seed(scale="small", flush=True)
    assert not Unit.objects.filter(name="市水务局", organizations__code="B").exists()
    staff.refresh_from_db()
    secretary_a.refresh_from_db()
    assert staff.is_active
    assert secretary_a.organization is None and not secretary_a.is_active
    assert User.objects.filter(username="admin").exists()
