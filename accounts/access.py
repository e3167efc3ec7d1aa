"""Access: who may do what, as named capabilities (after pretix's `permission` and
`write_permission`). The one home of every "may this user ...?" in the project.

A capability grants each role a list of conditions on the object it is asked about; a role
that is not named does not hold it. `can(user, name, obj)`:

- is false for an anonymous or inactive user, and for a role the capability does not name;
- with no object, says whether the user holds the capability anywhere (a route's gate);
- with an object, also checks every condition of the user's role on it, e.g. `in_scope`: the
  object's organization is one the user may see (`branches.selectors.visible_organizations`).

Every portal view, API viewset and admin class declares the capability it reads with and the
one it writes with (`portal_view`, `config.api_permissions.CapabilityPermission`,
`config.admin.CapabilityAdmin`), and the services call the same `can()`. Roles are data here:
there is no `if user.role == ...` anywhere else.

Superusers act as committee staff.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from branches.models import Organization

    from .models import User

Condition = Callable[["User", Any], bool]


# --- conditions on the object asked about ----------------------------------------------------


def organization_of(obj: Any) -> Organization | None:
    """The organization an object hangs on: itself, `.organization`, or a record's."""
    from branches.models import Organization

    if isinstance(obj, Organization):
        return obj
    organization = getattr(obj, "organization", None)
    if organization is None and hasattr(obj, "record"):
        organization = obj.record.organization
    return organization


def in_scope(user: User, obj: Any) -> bool:
    """The object's organization is one the user may see (a member: their branch or group)."""
    from branches.models import Member
    from branches.selectors import visible_members, visible_organizations

    if sees_whole_city(user):
        return True
    if isinstance(obj, Member):
        return visible_members(user).filter(pk=obj.pk).exists()
    organization = organization_of(obj)
    if organization is None:
        return False
    return visible_organizations(user).filter(pk=organization.pk).exists()


def within_edit_window(user: User, record: Any) -> bool:
    """Filed within the last ACTIVITY_EDIT_WINDOW_DAYS days (30 by default)."""
    window = datetime.timedelta(days=settings.ACTIVITY_EDIT_WINDOW_DAYS)
    return record.filed_at >= timezone.now() - window


def is_owner(user: User, obj: Any) -> bool:
    """The object was made by this user (an export job)."""
    return getattr(obj, "owner_id", None) == user.pk


def in_inspection_group(user: User, obj: Any) -> bool:
    """The user is a member of the inspection group that found the problem (campaigns; a
    problem without a group, from an annual report, has none)."""
    inspectors = getattr(obj, "inspectors", None)
    return inspectors is not None and inspectors.filter(pk=user.pk).exists()


def assigned_reviewer(user: User, obj: Any) -> bool:
    """The user is among the reviewers of the object's program (evaluations; an object
    without reviewers has none)."""
    reviewers = getattr(obj, "reviewers", None)
    return reviewers is not None and reviewers.filter(pk=user.pk).exists()


# --- the capabilities ------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    name: str
    label: str
    # role -> the conditions that must all hold on the object; a role not named never holds it.
    grants: dict[str, tuple[Condition, ...]] = field(default_factory=dict)


def capability(
    name: str,
    label: str,
    *,
    staff: Iterable[Condition] | None = None,
    secretary: Iterable[Condition] | None = None,
    inspector: Iterable[Condition] | None = None,
) -> Capability:
    grants = {
        role: tuple(conditions)
        for role, conditions in (
            (Role.STAFF, staff),
            (Role.SECRETARY, secretary),
            (Role.INSPECTOR, inspector),
        )
        if conditions is not None
    }
    return Capability(name, label, grants)


ALWAYS: tuple[Condition, ...] = ()

CAPABILITIES: dict[str, Capability] = {
    c.name: c
    for c in [
        # Today's set.
        capability(
            "organization.view",
            _("View an organization and its records"),
            staff=ALWAYS,
            secretary=[in_scope],
            inspector=[in_scope],
        ),
        capability(
            "member.view_private",
            _("View a member's phone and birth date"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
        capability(
            "activity.file",
            _("File activity records"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
        capability(
            "activity.change",
            _("Change or delete an activity record"),
            staff=ALWAYS,
            secretary=[in_scope, within_edit_window],
        ),
        capability(
            "roster.import",
            _("Import the member roster"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
        capability(
            "ledger.download",
            _("Download ledgers"),
            staff=[is_owner],
            secretary=[is_owner],
            inspector=[is_owner],
        ),
        capability(
            "bulletin.view",
            _("Read the monthly bulletins"),
            staff=ALWAYS,
            secretary=ALWAYS,
            inspector=ALWAYS,
        ),
        capability(
            "bulletin.view_ranking",
            _("See the units' ranking in a bulletin"),
            staff=ALWAYS,
            inspector=ALWAYS,
        ),
        capability(
            "bulletin.build",
            _("Build monthly bulletins"),
            staff=ALWAYS,
        ),
        capability(
            "account.password",
            _("Change one's own password"),
            staff=ALWAYS,
            secretary=ALWAYS,
            inspector=ALWAYS,
        ),
        capability(
            "notice.read",
            _("Read and mark one's own notices"),
            staff=ALWAYS,
            secretary=ALWAYS,
            inspector=ALWAYS,
        ),
        capability(
            "dashboard.view",
            _("See the dashboard of one's scope (charts and the big screen)"),
            staff=ALWAYS,
            secretary=ALWAYS,
            inspector=ALWAYS,
        ),
        capability(
            "committee.admin",
            _("Work in the committee's administration"),
            staff=ALWAYS,
        ),
        # Room for the next apps: each is one line of who, on what.
        capability(
            "pairing.manage",
            _("Make and change pairings, schemes and partners"),
            staff=ALWAYS,
        ),
        capability(
            "pairing.report",
            _("Report pairing work"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
        capability(
            "evaluation.manage",
            _("Run evaluation programs: criteria, nominations, stages, awards, re-reviews"),
            staff=ALWAYS,
        ),
        capability(
            "evaluation.apply",
            _("Apply for an evaluation"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
        capability(
            "evaluation.score",
            _("Score evaluation applications"),
            staff=ALWAYS,
            inspector=[assigned_reviewer],
        ),
        capability(
            "inspection.record_problem",
            _("Record problems found in an inspection"),
            staff=ALWAYS,
            inspector=[in_scope],
        ),
        capability(
            "problem.answer",
            _("Answer a problem with its rectification"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
        capability(
            "problem.accept",
            _("Accept or send back a rectification"),
            staff=ALWAYS,
            inspector=[in_inspection_group],
        ),
        capability(
            "campaign.manage",
            _("Run campaigns: targets, inspection groups, annual reports, key tasks"),
            staff=ALWAYS,
        ),
        capability(
            "campaign.participate",
            _("File an organization's participation in a campaign"),
            staff=ALWAYS,
            secretary=[in_scope],
        ),
    ]
}

# A route anybody may open (the login page, the API schema): declared, not forgotten.
PUBLIC = "public"


def role_of(user: User | None) -> str | None:
    """The role the capabilities read: None for anonymous and inactive users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Role.STAFF if user.is_superuser else user.role


def is_active_user(user: User | None) -> bool:
    return role_of(user) is not None


def sees_whole_city(user: User | None) -> bool:
    """Committee staff and city-wide inspectors: the scope is the whole tree."""
    role = role_of(user)
    return role == Role.STAFF or (role == Role.INSPECTOR and user.city_wide)


def get_capability(name: str) -> Capability:
    try:
        return CAPABILITIES[name]
    except KeyError:
        raise KeyError(f"No capability named {name!r}") from None


def can(user: User | None, name: str, obj: Any = None) -> bool:
    """May `user` do `name` (on `obj`)? Without an object: does the user hold it anywhere."""
    if name == PUBLIC:
        return True
    conditions = get_capability(name).grants.get(role_of(user))
    if conditions is None:
        return False
    if obj is None:
        return True
    return all(condition(user, obj) for condition in conditions)


def require(user: User | None, name: str, obj: Any = None, message: str | None = None) -> None:
    """`can()` or PermissionDenied (a 403 with `message`)."""
    if not can(user, name, obj):
        raise PermissionDenied(message or _("You may not do this."))


def organizations_where(user: User | None, name: str) -> QuerySet[Organization]:
    """The organizations on which `user` holds `name` by scope (lists, choice fields)."""
    from branches.models import Organization
    from branches.selectors import visible_organizations

    conditions = get_capability(name).grants.get(role_of(user))
    if conditions is None:
        return Organization.objects.none()
    if in_scope in conditions:
        return visible_organizations(user)
    return Organization.objects.all() if not conditions else Organization.objects.none()


# --- declarations on views -------------------------------------------------------------------


def declare(view: Callable, *, read: str | None, write: str | None = None) -> Callable:
    """Mark a view (function, or `as_view()`'s result) with the capabilities it reads and
    writes with. `None` for write: the view changes nothing."""
    for name in (read, write):
        if name is not None:
            get_capability(name) if name != PUBLIC else None
    view.read_capability = read
    view.write_capability = write
    return view


def portal_view(*, read: str, write: str | None = None) -> Callable[[Callable], Callable]:
    """A portal page: declares its capabilities and lets in only users who hold the read one
    somewhere (anonymous visitors go to the login page; others get a 403 page).

    Whether the user may act on *this* object is asked inside, with `can(user, name, obj)`,
    after the object was looked up in the user's scope (outside it: a 404).
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not is_active_user(request.user):
                return redirect_to_login(request.get_full_path())
            if not can(request.user, read):
                raise PermissionDenied(_("Your account may not open this page."))
            return view(request, *args, **kwargs)

        return declare(wrapper, read=read, write=write)

    return decorator
