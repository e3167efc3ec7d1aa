from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from branches.periods import Period
from reports.services import build_bulletin, previous_month


class Command(BaseCommand):
    help = "Build (or rebuild) the monthly compliance bulletin: build_bulletin 2026-10"

    def add_arguments(self, parser):
        parser.add_argument("month", nargs="?", help="YYYY-MM; default: the previous month")

    def handle(self, *args, month=None, **options):
        try:
            period = Period.parse(month) if month else previous_month()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if period.kind != "month":
            raise CommandError(_("A bulletin covers one month: use YYYY-MM."))
        try:
            bulletin = build_bulletin(period)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _(
                "Bulletin %(month)s: %(orgs)d organizations, %(ok)d compliant, %(overdue)d overdue "
                "elections."
            )
            % {
                "month": period.code,
                "orgs": bulletin.organization_count,
                "ok": bulletin.compliant_count,
                "overdue": bulletin.overdue_election_count,
            }
        )
