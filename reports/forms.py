"""Forms of the reports pages: a ledger's filters as the portal shows them on a phone.

Each filter of a ledger brings its own form field, with its choices cut to the user's scope and
its phone-friendly widget (`reports.ledgers.LedgerFilter.form_field`: a month input for a
month-only period, "All in your scope" for an empty choice), so the API and the page validate
with exactly the same code. This module only adds what the page needs around the form: the
prefill from a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .ledgers import Ledger, LedgerFilterForm

if TYPE_CHECKING:
    from accounts.models import User


def ledger_filter_form(
    ledger_cls: type[Ledger],
    user: User,
    data: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
) -> LedgerFilterForm:
    """The ledger's filter form, as the downloads page shows it."""
    return LedgerFilterForm(ledger_cls, user, data=data, initial=initial)


def initial_from_query(ledger_cls: type[Ledger], query: Mapping[str, Any]) -> dict[str, Any]:
    """The ledger's filters given in a link (e.g. the bulletin page's "more filters"), to
    prefill its form."""
    return {f.name: query[f.name] for f in ledger_cls.filters if query.get(f.name)}
