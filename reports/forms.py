"""Forms of the reports pages: a ledger's filters as the portal shows them on a phone.

The filters themselves (fields, scoped choices, checks) are `reports.ledgers.LedgerFilterForm`;
this module only adds what the portal page needs around it (input types, the prefill from a
link) so the API and the page validate with exactly the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from .ledgers import Ledger, LedgerFilterForm

if TYPE_CHECKING:
    from accounts.models import User

FILTER_NAMES = ("unit", "organization", "period")


def ledger_filter_form(
    ledger_cls: type[Ledger],
    user: User,
    data: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
) -> LedgerFilterForm:
    """The ledger's filter form with phone-friendly widgets.

    A ledger that only takes months gets `<input type="month">` (the value is YYYY-MM, which
    `Period.parse` reads); other periods stay free text with a placeholder.
    """
    form = LedgerFilterForm(ledger_cls, user, data=data, initial=initial)
    for name in ("unit", "organization"):
        if name in form.fields:
            form.fields[name].empty_label = _("All in your scope")
    period = form.fields.get("period")
    if period is not None:
        attrs = period.widget.attrs
        if tuple(ledger_cls.period_kinds) == ("month",):
            attrs.update({"type": "month", "placeholder": "2026-03", "pattern": r"\d{4}-\d{2}"})
            period.widget.input_type = "month"
        else:
            attrs.update({"placeholder": "2026-03 / 2026-Q1 / 2026", "inputmode": "text"})
        attrs["autocomplete"] = "off"
    return form


def initial_from_query(query: Mapping[str, Any]) -> dict[str, str]:
    """Filters given in a link (e.g. the bulletin page's "more filters"), to prefill the form."""
    return {name: query[name] for name in FILTER_NAMES if query.get(name)}
