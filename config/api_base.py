"""Shared base for every app's API viewsets: rows come from the one scoping rule, nowhere else.

A viewset says *which* rows a user may see by implementing `scoped_queryset(user)`, built on
`branches.selectors.visible_organizations(user)` (or `visible_units` / `visible_members`).
`get_queryset()` is final in spirit: it hands the request's user to that hook, so list, detail,
filters and the OpenAPI generator all read from the same scoped query set, and an object
outside the scope is a plain 404 (its existence is not revealed by a 403).

Usage in a later app::

    class ProblemViewSet(ScopedModelViewSet):
        read_capability = "organization.view"
        write_capability = "inspection.record_problem"
        action_capabilities = {"answer": "problem.answer"}
        serializer_class = ProblemSerializer
        filterset_class = ProblemFilter

        def scoped_queryset(self, user):
            orgs = visible_organizations(user)
            return Problem.objects.filter(organization__in=orgs.values("pk")).select_related(...)

Register it with an explicit basename (there is no class-level `queryset`):
``router.register("problems", ProblemViewSet, basename="problem")``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.negotiation import BaseContentNegotiation

if TYPE_CHECKING:
    from accounts.models import User


MAX_ID = 2**63 - 1  # the largest id a database column holds


def fits_an_id(value: str) -> bool:
    """A path's id that a database can compare (SQLite overflows past 2**63 - 1)."""
    return value.isascii() and value.isdecimal() and int(value) <= MAX_ID


def upload_in_scope(
    files_of: Callable[[str], QuerySet],
    pk: str,
    file_pk: str,
    format: str | None,  # noqa: A002 (DRF's name)
):
    """The download of one stored upload among `files_of(pk)` (the uploads of the object `pk`
    in the user's scope), or a 404: also for a format suffix, which DRF reads off "…/5.5" as
    file 5 in format 5, and for ids past the database's (checked before any query is built)."""
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    from config.files import attachment_response

    if format is not None or not (fits_an_id(pk) and fits_an_id(file_pk)):
        raise Http404
    return attachment_response(get_object_or_404(files_of(pk), pk=file_pk))


class ScopedViewSetMixin:
    """`get_queryset()` = `scoped_queryset(request.user)`; subclasses implement the hook.

    A class-level `queryset` attribute is refused at class creation: it would be an unscoped
    query set that DRF (and anyone reading the class) could pick up by mistake. Each viewset
    also declares `read_capability` and `write_capability` (`config.api_permissions`).
    """

    # Ids are numbers: "/records/abc/" is a 404 from the router, never a lookup error.
    lookup_value_regex = r"[0-9]+"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("queryset") is not None:
            raise TypeError(
                f"{cls.__name__} sets `queryset`; implement `scoped_queryset(user)` instead."
            )

    def scoped_queryset(self, user: User | None) -> QuerySet:
        """The rows `user` may see, already annotated / select_related for the serializer."""
        raise NotImplementedError(f"{type(self).__name__} must implement scoped_queryset(user)")

    def get_object(self):
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if self.lookup_value_regex == r"[0-9]+" and not fits_an_id(str(lookup)):
            from django.http import Http404

            raise Http404
        return super().get_object()

    def get_queryset(self) -> QuerySet:
        request = getattr(self, "request", None)
        # The schema generator builds views with an anonymous mock request: the selectors
        # then return an empty query set of the right model, which is all it needs.
        user = getattr(request, "user", None)
        return self.scoped_queryset(user)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List + retrieve over a scoped query set; every write method answers 405."""

    write_capability = None


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Read and write over a scoped query set: an object outside the scope is a 404 for every
    method; writes need the declared write capability; the serializer's save() calls the
    app's services, which check it on the object."""


def service_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as a 400's body, under the same field keys (an error on no
    field under "non_field_errors", as DRF says it)."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    return {
        ("non_field_errors" if key == NON_FIELD_ERRORS else key): messages
        for key, messages in exc.message_dict.items()
    }


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """A file download answers with the file's own type whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
