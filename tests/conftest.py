"""The standing cast: two units with a small tree each, and one user per role.

unit_a (市统计局): committee_a > branch_a (> group_a), branch_a2
unit_b (市水务局): committee_b > general_b > branch_b
"""

import datetime

import pytest
from django.test import Client

from accounts.models import Role, User
from branches.models import Member, Organization, OrganizationKind, Unit

PASSWORD = "Jiguan-test-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 for the standing users costs about 2 s per test; tests need no real hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Tests run tasks in process unless they ask for a real worker (marker celery_worker)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def make_member(branch, member_no, name="党员", group=None, **extra):
    defaults = dict(
        sex="male",
        birth_date=datetime.date(1985, 6, 1),
        joined_on=datetime.date(2010, 7, 1),
        status="full",
        education="bachelor",
    )
    defaults.update(extra)
    return Member.objects.create(
        member_no=member_no, name=name, branch=branch, group=group, **defaults
    )


@pytest.fixture
def tree(db):
    unit_a = Unit.objects.create(name="市统计局", short_name="统计局", sort_order=1)
    unit_b = Unit.objects.create(name="市水务局", short_name="水务局", sort_order=2)
    committee_a = Organization.objects.create(
        code="A", name="市统计局机关党委", kind=OrganizationKind.COMMITTEE, unit=unit_a
    )
    branch_a = Organization.objects.create(
        code="A-1",
        name="统计局第一党支部",
        kind=OrganizationKind.BRANCH,
        unit=unit_a,
        parent=committee_a,
    )
    group_a = Organization.objects.create(
        code="A-1-1",
        name="统计局第一党小组",
        kind=OrganizationKind.GROUP,
        unit=unit_a,
        parent=branch_a,
    )
    branch_a2 = Organization.objects.create(
        code="A-2",
        name="统计局第二党支部",
        kind=OrganizationKind.BRANCH,
        unit=unit_a,
        parent=committee_a,
    )
    committee_b = Organization.objects.create(
        code="B", name="市水务局机关党委", kind=OrganizationKind.COMMITTEE, unit=unit_b
    )
    general_b = Organization.objects.create(
        code="B-G",
        name="水务局机关党总支",
        kind=OrganizationKind.GENERAL_BRANCH,
        unit=unit_b,
        parent=committee_b,
    )
    branch_b = Organization.objects.create(
        code="B-1",
        name="水务局第一党支部",
        kind=OrganizationKind.BRANCH,
        unit=unit_b,
        parent=general_b,
    )
    members = {
        "a1": make_member(branch_a, "A0001", "张伟", group=group_a, duty="secretary"),
        "a2": make_member(branch_a, "A0002", "王芳", sex="female", group=group_a),
        "a3": make_member(branch_a, "A0003", "李娜", sex="female", status="probationary"),
        "a2_1": make_member(branch_a2, "A0101", "刘洋"),
        "b1": make_member(branch_b, "B0001", "陈静", sex="female", duty="secretary"),
        "b2": make_member(branch_b, "B0002", "杨帆"),
    }
    return type(
        "Tree",
        (),
        dict(
            unit_a=unit_a,
            unit_b=unit_b,
            committee_a=committee_a,
            branch_a=branch_a,
            group_a=group_a,
            branch_a2=branch_a2,
            committee_b=committee_b,
            general_b=general_b,
            branch_b=branch_b,
            members=members,
        ),
    )


def _user(username, **fields):
    user = User(username=username, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def staff(tree):
    return _user("staff", role=Role.STAFF, is_staff=True, is_superuser=True)


@pytest.fixture
def secretary_a(tree):
    return _user("sec_a", role=Role.SECRETARY, organization=tree.branch_a)


@pytest.fixture
def secretary_b(tree):
    return _user("sec_b", role=Role.SECRETARY, organization=tree.branch_b)


@pytest.fixture
def inspector_a(tree):
    user = _user("insp_a", role=Role.INSPECTOR)
    user.units.add(tree.unit_a)
    return user


@pytest.fixture
def inspector_city(tree):
    return _user("insp_city", role=Role.INSPECTOR, city_wide=True)


@pytest.fixture
def users(staff, secretary_a, secretary_b, inspector_a, inspector_city):
    return {
        "staff": staff,
        "secretary_a": secretary_a,
        "secretary_b": secretary_b,
        "inspector_a": inspector_a,
        "inspector_city": inspector_city,
        "anonymous": None,
    }


@pytest.fixture
def client_for(users):
    """client_for("secretary_a") -> a test Client logged in as that standing user."""

    def make(role_name):
        client = Client()
        user = users[role_name]
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def activity_types(db):
    """The seven default types and rules (a flushed transactional test may have lost them)."""
    from branches.defaults import seed_activity_types
    from branches.models import ActivityType, ComplianceRule

    seed_activity_types(ActivityType, ComplianceRule)
    return {t.code: t for t in ActivityType.objects.all()}


def add_record(organization, activity_type, date, topic="学习", **extra):
    from branches.models import ActivityRecord

    return ActivityRecord.objects.create(
        organization=organization,
        activity_type=activity_type,
        type_name=activity_type.name,
        date=date,
        topic=topic,
        **extra,
    )
