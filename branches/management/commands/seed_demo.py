"""`manage.py seed_demo --scale small|city [--seed N] [--if-empty] [--flush]`.

Thin: the data itself is built by `branches.demo`.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from branches import demo


class Command(BaseCommand):
    help = (
        "Fill the database with realistic demo data: units, party organizations, terms, "
        "members, and one demo account per role."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            choices=sorted(demo.SCALES),
            default="small",
            help=_("small: ~6 units and ~400 members; city: ~60 units and ~20,000 members."),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=_("Random seed: the same seed on the same day gives the same data."),
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
                "Delete all units, organizations, terms and members (and the demo accounts) first."
            ),
        )

    def handle(self, *args, scale: str, seed: int, if_empty: bool, flush: bool, **options):
        if demo.has_data():
            if if_empty:
                self.stdout.write(_("The database already holds units: no demo data added."))
                return
            if not flush:
                raise CommandError(
                    _(
                        "The database already holds units. Run with --flush to replace them "
                        "with demo data (this deletes all units, organizations, terms and "
                        "members), or with --if-empty to leave them."
                    )
                )
        verbose = options["verbosity"] >= 1
        started = time.monotonic()
        if flush:
            deleted = demo.flush()
            if verbose:
                self.stdout.write(
                    _(
                        "Deleted: %(units)d units, %(organizations)d organizations, "
                        "%(members)d members."
                    )
                    % deleted
                )
        result = demo.build(scale, seed)
        if verbose:
            self._report(result, time.monotonic() - started)

    def _report(self, result: demo.DemoResult, elapsed: float) -> None:
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
