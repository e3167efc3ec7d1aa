"""A scheme's rule, as plain functions: the one home of "may this pairing be made?" (services,
the admin, the spreadsheet import and the API all ask `rule_breaches`)."""

from __future__ import annotations

from django.utils.translation import gettext

from branches.models import Organization, OrganizationKind

from .models import PairingQuerySet, PartnerKind, PartnerOrganization, Scheme


def kinds_text(values, choices) -> str:
    return "、".join(str(choices(v).label) for v in values)


def shape_errors(
    scheme: Scheme, organization: Organization, partner: PartnerOrganization
) -> dict[str, str]:
    """What no override can change: the scheme takes this kind of organization and partner."""
    errors: dict[str, str] = {}
    if not scheme.active:
        errors["scheme"] = gettext("The scheme %(scheme)s is no longer active.") % {
            "scheme": scheme.name
        }
    if organization.kind not in scheme.organization_kinds:
        errors["organization"] = gettext(
            "%(scheme)s pairs only these organ organizations: %(kinds)s."
        ) % {
            "scheme": scheme.name,
            "kinds": kinds_text(scheme.organization_kinds, OrganizationKind),
        }
    if partner.kind not in scheme.partner_kinds:
        errors["partner"] = gettext(
            "“%(partner)s” is a %(kind)s; %(scheme)s pairs only with: %(kinds)s."
        ) % {
            "partner": partner,
            "kind": partner.get_kind_display(),
            "scheme": scheme.name,
            "kinds": kinds_text(scheme.partner_kinds, PartnerKind),
        }
    return errors


def rule_breaches(
    scheme: Scheme,
    organization: Organization,
    partner: PartnerOrganization,
    current: PairingQuerySet,
) -> dict[str, str]:
    """The scheme's limits a new current pairing of (organization, partner) would break, by
    field. `current` is the scheme's current pairings, this one excluded (staff may override
    these, with a reason)."""
    errors: dict[str, str] = {}
    if current.filter(organization=organization, partner=partner).exists():
        errors["partner"] = gettext("%(organization)s is already paired with %(partner)s.") % {
            "organization": organization.name,
            "partner": partner,
        }
        return errors
    most = scheme.max_organizations_per_partner
    if most is not None:
        taken = current.filter(partner=partner).count()
        if taken >= most:
            errors["partner"] = gettext(
                "%(partner)s already has %(count)s organ organization(s) in %(scheme)s, "
                "which allows %(most)s."
            ) % {"partner": partner, "count": taken, "scheme": scheme.name, "most": most}
    most = scheme.max_partners_per_organization
    if most is not None:
        taken = current.filter(organization=organization).count()
        if taken >= most:
            errors["organization"] = gettext(
                "%(organization)s already has %(count)s partner(s) in %(scheme)s, "
                "which allows %(most)s."
            ) % {
                "organization": organization.name,
                "count": taken,
                "scheme": scheme.name,
                "most": most,
            }
    return errors
