"""The standing cast: two units with a small tree each, and one user per role.

unit_a (市统计局): committee_a > branch_a (> group_a), branch_a2
unit_b (市水务局): committee_b > general_b > branch_b

Built per test by default (fixtures `tree`, `staff`, ..., `users`, `client_for`,
`activity_types`). A module of many small tests (the permission tables) can build it once
instead, like Django's TestCase.setUpTestData:

    pytestmark = pytest.mark.usefixtures("module_cast")

`module_cast` opens a transaction around the whole module (rolled back at its end), with media
files in a temporary directory. Every test still runs in its own savepoint, rolled back after
it, so what one test writes never reaches the next; the fixtures above then hand out the test's
own copies of the module's objects instead of building a second cast, and `client_for` reuses
one login per role. Data of the module's own is built the same way: a module-scoped fixture that
requests `module_cast` and creates its objects under `django_db_blocker.unblock()`, and a
function-scoped one that returns `fresh(those objects)`. Not for transactional tests.
"""

import copy
import datetime
from collections.abc import Mapping
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client as DjangoClient
from django.test import override_settings

from accounts.models import Role, User
from branches.models import Member, Organization, OrganizationKind, Unit


class Client(DjangoClient):
    """The test client, plus `language="en"` on any request: the request then carries the
    language cookie, as a browser does after the user chose English with the switch (the
    portal ignores the browser's Accept-Language)."""

    def generic(self, method, path, *args, language=None, **extra):
        if language:
            sent = [f"{m.key}={m.coded_value}" for m in self.cookies.values()]
            sent.append(f"{django_settings.LANGUAGE_COOKIE_NAME}={language}")
            extra["HTTP_COOKIE"] = "; ".join(sent)
        return super().generic(method, path, *args, **extra)


@pytest.fixture
def client():
    """pytest-django's `client`, as our Client."""
    return Client()


PASSWORD = "Jiguan-test-2026"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker:
        options = dict(zip(("transaction", "reset_sequences"), marker.args, strict=False))
        options.update(marker.kwargs)
        if options.get("transaction") or options.get("reset_sequences"):
            return True
    return bool(
        {"transactional_db", "live_server", "django_db_reset_sequences"} & set(item.fixturenames)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test on the module's cast runs in the test database, in its own savepoint.

    Also keeps the module's tests together: pytest-django runs tests without the database last.
    A transactional test cannot use it: it would commit into the module's transaction, or flush it.
    """
    for item in items:
        if "module_cast" not in getattr(item, "fixturenames", ()):
            continue
        if _transactional(item):
            raise pytest.UsageError(f"{item.nodeid}: module_cast cannot serve a transactional test")
        if not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 for the standing users costs about 2 s per test; tests need no real hashing."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _no_language_left_active():
    """A request leaves its language active in the thread (the middleware activates it, as
    Django's does): every test starts from none, the portal's zh-hans, whichever ran before."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache holds the API's throttle counts: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


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


def add_joint_committee(tree):
    """committee_a spans a second unit (a survey team), whose branch C-1 sits under it.
    Returns (unit_c, branch_c), no members yet."""
    unit_c = Unit.objects.create(name="国家统计局调查队", short_name="调查队", sort_order=3)
    tree.committee_a.joint_units.add(unit_c)
    branch_c = Organization.objects.create(
        code="C-1",
        name="调查队党支部",
        kind=OrganizationKind.BRANCH,
        unit=unit_c,
        parent=tree.committee_a,
    )
    return unit_c, branch_c


class Tree(SimpleNamespace):
    """The organizations of the standing cast by name, and `members` by key ("a1", "b2", ...)."""


def build_tree() -> Tree:
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
    return Tree(
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
    )


def _user(username, **fields):
    user = User(username=username, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def build_user(role_name: str, tree: Tree) -> User:
    """One standing user: "staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city"."""
    if role_name == "staff":
        return _user("staff", role=Role.STAFF, is_staff=True, is_superuser=True)
    if role_name == "secretary_a":
        return _user("sec_a", role=Role.SECRETARY, organization=tree.branch_a)
    if role_name == "secretary_b":
        return _user("sec_b", role=Role.SECRETARY, organization=tree.branch_b)
    if role_name == "inspector_a":
        user = _user("insp_a", role=Role.INSPECTOR)
        user.units.add(tree.unit_a)
        return user
    if role_name == "inspector_city":
        return _user("insp_city", role=Role.INSPECTOR, city_wide=True)
    raise ValueError(f"no standing user {role_name!r}")


STANDING_ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city")


def seed_activity_types() -> dict:
    """The seven default types and rules (a flushed transactional test may have lost them)."""
    from branches.defaults import seed_activity_types as seed
    from branches.models import ActivityType, ComplianceRule

    seed(ActivityType, ComplianceRule)
    return {t.code: t for t in ActivityType.objects.all()}


# --- The cast built once per module -------------------------------------------------------------


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory):
    """For the whole module: media files in a temporary directory, fast password hashing."""
    with override_settings(
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), PASSWORD_HASHERS=FAST_HASHERS
    ):
        yield


@pytest.fixture(scope="module")
def module_cast(module_settings, django_db_setup, django_db_blocker):
    """The standing cast, built once in a module-wide transaction (rolled back at module end).

    .tree, .users and .activity_types as the per-test fixtures make them, and .sessions: one
    login per role. Request it statically (usefixtures, or from another module-scoped fixture)
    so that it opens before any test's own transaction. Tests get their own copies through
    `cast` / `fresh`; module-scoped fixtures build on it directly.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        raise RuntimeError(
            "module_cast was requested inside a test's transaction; request it statically "
            "(pytest.mark.usefixtures('module_cast') or from a module-scoped fixture)"
        )
    with django_db_blocker.unblock():
        outer = transaction.atomic(using=DEFAULT_DB_ALIAS)
        outer.__enter__()
        try:
            tree = build_tree()
            users = {name: build_user(name, tree) for name in STANDING_ROLES}
            cast = SimpleNamespace(
                tree=tree,
                users=users,
                activity_types=seed_activity_types(),
                sessions=_login_once(users),
            )
        except BaseException:
            transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
            outer.__exit__(None, None, None)
            raise
    yield cast
    with django_db_blocker.unblock():
        transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
        outer.__exit__(None, None, None)


def _login_once(users) -> dict:
    """role -> the session cookie of a login made once for the module (database sessions only:
    a test that ends the session, e.g. by logging out, is rolled back with the test)."""
    if django_settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return {}  # a session kept outside the database would not roll back: log in per test
    cookies = {"anonymous": None}
    for role_name, user in users.items():
        client = Client()
        client.force_login(user)
        cookies[role_name] = client.cookies[django_settings.SESSION_COOKIE_NAME]
    return cookies


class _FreshNamespace:
    """A test's view of a module-scoped namespace: each attribute copied on first read."""

    def __init__(self, source, memo):
        self._source, self._memo, self._read = source, memo, {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._read:
            self._read[name] = fresh_view(getattr(self._source, name), self._memo)
        return self._read[name]

    def __repr__(self):
        return f"<fresh view of {self._source!r}>"


class _FreshMapping(Mapping):
    """A test's view of a module-scoped dict: each value copied on first read."""

    def __init__(self, source, memo):
        self._source, self._memo, self._read = source, memo, {}

    def __getitem__(self, key):
        if key not in self._read:
            self._read[key] = fresh_view(self._source[key], self._memo)
        return self._read[key]

    def __contains__(self, key):
        return key in self._source

    def __iter__(self):
        return iter(self._source)

    def __len__(self):
        return len(self._source)


def fresh_view(data, memo):
    """Copy-on-read view of module-scoped data for one test (fixture `fresh`).

    Namespaces (the Tree), dicts and tuples are walked lazily; anything else (model instances)
    is deep-copied with the test's memo, as Django's TestCase copies setUpTestData's objects, so
    a test may change what it was given without reaching the next test, the copies keep their
    relations (users["secretary_a"].organization is tree.branch_a), and a test pays only for
    the objects it reads.
    """
    if isinstance(data, SimpleNamespace):
        return _FreshNamespace(data, memo)
    if isinstance(data, dict):
        return _FreshMapping(data, memo)
    if type(data) is tuple:
        return tuple(fresh_view(item, memo) for item in data)
    return copy.deepcopy(data, memo)


@pytest.fixture
def fresh(module_cast, db):
    """fresh(data) -> this test's copy-on-read view of data built once for the module.

    The rows live in the module's transaction; what the test writes stays in its own savepoint,
    rolled back after it.
    """
    if len(connections[DEFAULT_DB_ALIAS].atomic_blocks) < 2:
        # A transactional test has no savepoint of its own: it would write into (and flush)
        # the module's transaction.
        pytest.fail("module_cast serves tests in their own savepoint (`db`), not transactional")
    memo = {}
    return lambda data: fresh_view(data, memo)


@pytest.fixture
def cast(fresh, module_cast):
    """This test's view of the module's cast: .tree, .users, .activity_types."""
    return fresh(module_cast)


def _module_cast(request):
    """The test's view of the module cast if the test runs on one, else None."""
    if "module_cast" in request.fixturenames:
        return request.getfixturevalue("cast")
    return None


# --- The cast built per test (or copied from the module's) --------------------------------------


@pytest.fixture
def tree(request, db):
    shared = _module_cast(request)
    return shared.tree if shared else build_tree()


def _standing_user(request, role_name, tree):
    shared = _module_cast(request)
    return shared.users[role_name] if shared else build_user(role_name, tree)


@pytest.fixture
def staff(request, tree):
    return _standing_user(request, "staff", tree)


@pytest.fixture
def secretary_a(request, tree):
    return _standing_user(request, "secretary_a", tree)


@pytest.fixture
def secretary_b(request, tree):
    return _standing_user(request, "secretary_b", tree)


@pytest.fixture
def inspector_a(request, tree):
    return _standing_user(request, "inspector_a", tree)


@pytest.fixture
def inspector_city(request, tree):
    return _standing_user(request, "inspector_city", tree)


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
def client_for(request, db):
    """client_for("secretary_a") -> a test Client logged in as that standing user."""
    shared = "module_cast" in request.fixturenames
    sessions = request.getfixturevalue("module_cast").sessions if shared else {}
    users = None if sessions else request.getfixturevalue("users")

    def make(role_name):
        client = Client()
        if sessions:  # logged in once for the module
            cookie = sessions[role_name]
            if cookie is not None:
                client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie.copy()
        else:
            user = users[role_name]
            if user is not None:
                client.force_login(user)
        return client

    return make


@pytest.fixture
def activity_types(request, db):
    """The seven default types and rules (a flushed transactional test may have lost them)."""
    shared = _module_cast(request)
    return shared.activity_types if shared else seed_activity_types()


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
