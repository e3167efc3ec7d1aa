"""Shared base for every app's API viewsets: rows come from the one scoping rule, nowhere else.

A viewset says *which* rows a user may see by implementing `scoped_queryset(user)`, built on
`branches.selectors.visible_organizations(user)` (or `visible_units` / `visible_members`).
`get_queryset()` is final in spirit: it hands the request's user to that hook, so list, detail,
filters and the OpenAPI generator all read from the same scoped query set, and an object
outside the scope is a plain 404 (its existence is not revealed by a 403).

Usage in a later app::

    class ProblemViewSet(ScopedReadOnlyViewSet):
        serializer_class = ProblemSerializer
        filterset_class = ProblemFilter

        def scoped_queryset(self, user):
            orgs = visible_organizations(user)
            return Problem.objects.filter(organization__in=orgs.values("pk")).select_related(...)

Register it with an explicit basename (there is no class-level `queryset`):
``router.register("problems", ProblemViewSet, basename="problem")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, viewsets

if TYPE_CHECKING:
    from accounts.models import User


class ScopedViewSetMixin:
    """`get_queryset()` = `scoped_queryset(request.user)`; subclasses implement the hook.

    A class-level `queryset` attribute is refused at class creation: it would be an unscoped
    query set that DRF (and anyone reading the class) could pick up by mistake.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("queryset") is not None:
            raise TypeError(
                f"{cls.__name__} sets `queryset`; implement `scoped_queryset(user)` instead."
            )

    def scoped_queryset(self, user: User | None) -> QuerySet:
        """The rows `user` may see, already annotated / select_related for the serializer."""
        raise NotImplementedError(f"{type(self).__name__} must implement scoped_queryset(user)")

    def get_queryset(self) -> QuerySet:
        request = getattr(self, "request", None)
        # The schema generator builds views with an anonymous mock request: the selectors
        # then return an empty query set of the right model, which is all it needs.
        user = getattr(request, "user", None)
        return self.scoped_queryset(user)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List + retrieve over a scoped query set; every write method answers 405."""


class WritesNotForInspectors(permissions.BasePermission):
    """Inspectors read everything in their scope and write nothing (403 on every write).

    Whether anybody else may write a given object is the service's decision
    (e.g. `branches.services.can_write_for`), raised as PermissionDenied -> 403.
    """

    message = _("Inspectors may read but not change anything.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not getattr(request.user, "is_read_only", False)


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Read and write over a scoped query set: an object outside the scope is a 404 for every
    method; inspectors get 403 on writes; the serializer's save() calls the app's services."""

    permission_classes = [permissions.IsAuthenticated, WritesNotForInspectors]
