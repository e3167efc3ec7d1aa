"""Reads of the reports app, cut to the user's scope (the portal and the API share them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts.models import Role
from branches.selectors import visible_organizations

from .ledgers import get_ledger
from .models import Bulletin, BulletinRow, BulletinUnitRow

if TYPE_CHECKING:
    from accounts.models import User


def ledger_title(code: str) -> str:
    ledger_cls = get_ledger(code)
    return str(ledger_cls.title) if ledger_cls is not None else code


def bulletin_unit_rows(user: User | None, bulletin: Bulletin) -> QuerySet[BulletinUnitRow]:
    """The unit lines of the ranking this user may see.

    Staff and city-wide inspectors: every unit. An inspector of units: the lines of those units
    (their city rank kept, so they see where their units stand). Secretaries and anybody else:
    none — a secretary's page is about their own organization.
    """
    lines = BulletinUnitRow.objects.filter(bulletin=bulletin).order_by("rank", "unit_name")
    if user is None or not user.is_authenticated or not user.is_active:
        return lines.none()
    if user.sees_whole_city:
        return lines
    if user.role == Role.INSPECTOR:
        return lines.filter(unit__in=user.units.values("pk"))
    return lines.none()


def bulletin_rows(user: User | None, bulletin: Bulletin) -> QuerySet[BulletinRow]:
    """The organization lines in the user's scope (the one scoping rule, as for the ledger).

    Whole-city users also keep the lines of organizations deleted since (history as published).
    """
    lines = BulletinRow.objects.filter(bulletin=bulletin).order_by("unit_name", "organization_code")
    if user is not None and user.is_authenticated and user.is_active and user.sees_whole_city:
        return lines
    return lines.filter(organization__in=visible_organizations(user).values("pk"))
