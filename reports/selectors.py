"""Reads of the reports app, cut to the user's scope (the portal and the API share them).

Scope comes from `branches.selectors` (the one scoping rule); who may see the unit ranking
is the capability "bulletin.view_ranking" (`accounts.access`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts import access
from branches.periods import Period
from branches.selectors import visible_organizations, visible_units

from .ledgers import get_ledger
from .models import Bulletin, BulletinRow, BulletinUnitRow, LedgerExport

if TYPE_CHECKING:
    from accounts.models import User


def ledger_title(code: str) -> str:
    ledger_cls = get_ledger(code)
    return str(ledger_cls.title) if ledger_cls is not None else code


def downloads_url(code: str, params: dict[str, Any] | None = None) -> str:
    """The downloads page with a ledger chosen and its form prefilled (its own GET filters)."""
    query = {"ledger": code, **{k: v for k, v in (params or {}).items() if v not in (None, "")}}
    return f"{reverse('portal:downloads')}?{urlencode(query)}#ledger-{code}"


def all_bulletins() -> QuerySet[Bulletin]:
    """Every built month that has ended, newest first: the headline figures are the city's, as
    published. (A month built before it ended, by an earlier version, is never shown.)"""
    this_month = timezone.localdate().replace(day=1)
    return Bulletin.objects.filter(month__lt=this_month).order_by("-month")


def bulletin_of_month(month: str) -> Bulletin | None:
    """The bulletin of `month` ("YYYY-MM"), or None (no such month, or not built)."""
    try:
        period = Period.parse(month)
    except ValueError:
        return None
    if period.kind != "month":
        return None
    return all_bulletins().filter(month=period.start).first()


def bulletin_unit_rows(user: User | None, bulletin: Bulletin) -> QuerySet[BulletinUnitRow]:
    """The unit lines of the ranking this user may see: those of the units in their scope
    (the city rank kept, so an inspector sees where their units stand), for users who hold
    "bulletin.view_ranking"; none for the others (a secretary's page is their own lines)."""
    lines = BulletinUnitRow.objects.filter(bulletin=bulletin).order_by("rank", "unit_name")
    if not access.can(user, "bulletin.view_ranking"):
        return lines.none()
    if access.sees_whole_city(user):
        return lines
    return lines.filter(unit__in=visible_units(user).values("pk"))


def bulletin_rows(user: User | None, bulletin: Bulletin) -> QuerySet[BulletinRow]:
    """The organization lines in the user's scope (the one scoping rule, as for the ledger).

    Whole-city users also keep the lines of organizations deleted since (history as published).
    """
    lines = BulletinRow.objects.filter(bulletin=bulletin).order_by("unit_name", "organization_code")
    if access.sees_whole_city(user):
        return lines
    return lines.filter(organization__in=visible_organizations(user).values("pk"))


def scope_figures(user: User | None, bulletin: Bulletin) -> dict[str, int | None]:
    """The bulletin's figures over the user's lines: organizations owing, compliant ones,
    activities owed and held (one aggregate query)."""
    return bulletin_rows(user, bulletin).aggregate(
        organizations=Count("pk", filter=Q(owed__gt=0)),
        compliant=Count("pk", filter=Q(owed__gt=0, missing=0)),
        owed=Sum("owed"),
        held=Sum("held"),
    )


def exports_of(user: User | None) -> QuerySet[LedgerExport]:
    """The user's own ledger export jobs: nobody else's, whatever their role."""
    if not access.is_active_user(user):
        return LedgerExport.objects.none()
    return LedgerExport.objects.filter(owner=user)
