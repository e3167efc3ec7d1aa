"""The reports API: bulletins and ledger export jobs (filled in by the reports issue)."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the project's one router."""
