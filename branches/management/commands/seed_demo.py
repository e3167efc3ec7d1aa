"""`manage.py seed_demo --scale small|city|province [--seed N] [--activity-months N] [--if-empty]
[--flush]`.

Thin: the data itself is built by `branches.demo`. After building, it asks the compliance engine
what the records add up to over the last twelve full months, so the figures can be trusted.
The province scale (~10 million attendance rows) takes minutes on PostgreSQL: it prints a line
per step as it goes, as every scale does with -v 2.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from branches import demo


class Command(BaseCommand):
    help = (
        "Fill the database with realistic demo data: units, party organizations, terms, "
        "members, one demo account per role, and the organizational life of the last months."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            choices=sorted(demo.SCALES),
            default="small",
            help=_(
                "small: ~6 units and ~400 members; city: ~60 units and ~20,000 members; "
                "province: ~600 units, ~8,000 organizations and ~200,000 members."
            ),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=_("Random seed: the same seed on the same day gives the same data."),
        )
        parser.add_argument(
            "--activity-months",
            type=int,
            default=demo.ACTIVITY_MONTHS,
            metavar="N",
            help=_(
                "Activity records and attendance for the last N full months and this month so "
                "far (0: none)."
            ),
        )
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--if-empty",
            action="store_true",
            help=_("Do nothing when the database already holds units."),
        )
        group.add_argument(
            "--flush",
            action="store_true",
            help=_(
                "Delete all units, organizations, terms, members and activity records (and the "
                "demo accounts) first."
            ),
        )

    def handle(
        self,
        *args,
        scale: str,
        seed: int,
        activity_months: int,
        if_empty: bool,
        flush: bool,
        **options,
    ):
        if activity_months < 0:
            raise CommandError(_("--activity-months cannot be negative."))
        if demo.has_data():
            if if_empty:
                self.stdout.write(_("The database already holds units: no demo data added."))
                return
            if not flush:
                raise CommandError(
                    _(
                        "The database already holds units. Run with --flush to replace them "
                        "with demo data (this deletes all units, organizations, terms, members "
                        "and activity records), or with --if-empty to leave them."
                    )
                )
        verbose = options["verbosity"] >= 1
        started = time.monotonic()
        progress = None
        if scale == "province" or options["verbosity"] >= 2:

            def progress(message: str) -> None:
                self._progress(started, message)

        if flush:
            if progress:
                progress("flush: deleting the existing data")
            deleted = demo.flush()
            if progress:
                progress("flush: done")
            if verbose:
                self.stdout.write(
                    _(
                        "Deleted: %(units)d units, %(organizations)d organizations, "
                        "%(members)d members, %(activity_records)d activity records."
                    )
                    % deleted
                )
                self.stdout.write(
                    _(
                        "Deleted: %(pairings)d pairings, %(partners)d partners, "
                        "%(help_records)d help records."
                    )
                    % deleted
                )
                self.stdout.write(
                    _(
                        "Deleted: %(programs)d evaluation programs, %(applications)d "
                        "applications, %(designations)d titles."
                    )
                    % deleted
                )
        result = demo.build(scale, seed, activity_months=activity_months, progress=progress)
        if result.counts["activity_records"]:
            # The bulletins of the last three full months, so the bulletin pages show something
            # before beat builds the next one on the 1st.
            from reports.models import Bulletin, BulletinRow, BulletinUnitRow
            from reports.services import build_bulletin, previous_month

            month = previous_month()
            for _i in range(min(3, activity_months)):
                if progress:
                    progress(f"bulletin {month.code}")
                build_bulletin(month)
                month = month.previous()
            demo.analyze(Bulletin, BulletinUnitRow, BulletinRow)  # the rest was analyzed
        if result.counts["organizations"]:
            # This morning's reminders, as beat would have left them (elections, re-reviews,
            # problems), in the portal's language: the secretaries' bell shows something from
            # the first login. (What is owed waits for the month's reminder day.)
            from django.conf import settings
            from django.utils import translation

            from reminders.services import build_daily_reminders

            if progress:
                progress("reminders")
            with translation.override(settings.LANGUAGE_CODE):
                build_daily_reminders()
        if verbose:
            elapsed = time.monotonic() - started
            check = ""
            if result.counts["activity_records"]:
                if progress:
                    progress("compliance check")
                check = self._compliance_line(min(12, activity_months))
            self._report(result, elapsed, check)

    def _progress(self, started: float, message: str) -> None:
        """A line of progress: time since the command started, peak memory so far."""
        elapsed = time.monotonic() - started
        self.stdout.write(f"[{elapsed:7.1f} s, peak {demo.peak_rss_mb():,} MB] {message}")
        self.stdout.flush()

    def _report(self, result: demo.DemoResult, elapsed: float, check: str = "") -> None:
        c = result.counts
        lines = [
            self.style.SUCCESS(
                _("Demo data built (scale %(scale)s, seed %(seed)d) in %(seconds).1f s.")
                % {"scale": result.scale, "seed": result.seed, "seconds": elapsed}
            ),
            _("Units: %(units)d") % c,
            _(
                "Organizations: %(organizations)d (committees %(committees)d, general branches "
                "%(general_branches)d, branches %(branches)d, groups %(groups)d)"
            )
            % c,
            _("Members: %(members)d (probationary %(probationary)d)") % c,
            _("Current terms overdue: %(overdue)d; due within the warning period: %(due_soon)d")
            % c,
            _(
                "Activity records: %(activity_records)d over %(activity_months)d months and this "
                "month so far (attendance rows: %(attendance)d)"
            )
            % c,
            *([check] if check else []),
            *([self._pairings_line(result.pairings)] if result.pairings else []),
            *([self._evaluations_line(result.evaluations)] if result.evaluations else []),
            *([self._campaigns_line(result.campaigns)] if result.campaigns else []),
            "",
            _("Demo accounts:"),
        ]
        for account in result.accounts:
            password = account.password or _("(account already existed: password unchanged)")
            lines += [
                f"  {account.role}",
                "    " + _("username: %s") % account.username,
                "    " + _("password: %s") % password,
                "    " + _("scope: %s") % account.scope,
                "    " + _("sign in at: %s") % account.url,
            ]
        self.stdout.write("\n".join(lines))

    def _pairings_line(self, figures: dict) -> str:
        """What `pairings.demo` built."""
        values = {
            **figures,
            "funds": f"{figures['funds']:,.2f}",
            "goods_value": f"{figures['goods_value']:,.2f}",
        }
        return (
            _(
                "Pairings: %(pairings)d with %(partners)d partners (docked %(docked)d, planned "
                "%(planned)d); “1+1”: %(branches_docked)d of %(branches)d branches docked; "
                "%(projects)d co-building projects (%(overdue_projects)d overdue); help over "
                "the last year: %(visits)d visits, %(funds)s yuan of funds, goods worth "
                "%(goods_value)s yuan."
            )
            % values
        )

    def _evaluations_line(self, figures: dict) -> str:
        """What `evaluations.demo` built."""
        return (
            _(
                "Evaluations: %(programs)d programs (%(open)d open for applications), "
                "%(applications)d applications, %(sheets)d review sheets; %(awarded)d titles "
                "awarded (committees %(committees)d, general branches %(general_branches)d, "
                "branches %(branches)d), %(not_awarded)d not awarded; re-reviews: %(kept)d "
                "kept, %(revoked)d revoked, %(due)d due."
            )
            % figures
        )

    def _campaigns_line(self, figures: dict) -> str:
        """What `campaigns.demo` built."""
        values = {
            **figures,
            "theme_money": f"{figures['theme_money']:,.2f}",
            "goods_value": f"{figures['goods_value']:,.2f}",
        }
        return (
            _(
                "Campaigns: %(campaigns)d (plan targets: %(targets)d, %(live_targets)d live); "
                "theme day: %(theme_organizations)d organizations, %(theme_members)d members, "
                "%(theme_money)s yuan and goods worth %(goods_value)s yuan; volunteers: "
                "%(volunteers)d members in %(teams)d teams, %(batches)d batches; inspection: "
                "%(groups)d groups, %(units_visited)d units, %(inspection_problems)d problems; "
                "annual reports: %(reports)d (%(report_problems)d problems); %(overdue)d "
                "problems overdue; key tasks: %(key_tasks)d tasks, %(key_measures)d measures "
                "(%(measures_done)d done)."
            )
            % values
        )

    def _compliance_line(self, months: int) -> str:
        """What the compliance engine makes of the records just built."""
        started = time.monotonic()
        summary = demo.compliance_summary(months)
        if summary.rate is None:
            return ""
        first, last = summary.periods[0], summary.periods[-1]
        return _(
            "Compliance %(first)s to %(last)s: %(held)d of %(owed)d owed activities held "
            "(%(rate).1f%%); %(behind)d of %(branches)d branches below %(threshold)d%% "
            "(checked in %(seconds).1f s)."
        ) % {
            "first": first.code,
            "last": last.code,
            "held": summary.held,
            "owed": summary.owed,
            "rate": summary.rate * 100,
            "behind": len(summary.behind),
            "branches": summary.branches,
            "threshold": round(summary.threshold * 100),
            "seconds": time.monotonic() - started,
        }
