"""Tree rules the database itself enforces, beyond what a CHECK constraint can see.

A CHECK cannot look at another row, so the parent-kind rule (a 党小组 sits inside a 党支部, ...)
and the member rule (a member belongs to a 党支部, and to a 党小组 only inside it) are triggers.
They are (re)installed after every `migrate` (post_migrate), because SQLite drops a table's
triggers when a later migration rebuilds the table.
"""

from __future__ import annotations

from .models import ALLOWED_PARENT_KINDS


def kind_fits_sql(child: str, parent: str) -> str:
    """SQL boolean: may an organization of kind `child` sit under one of kind `parent`?

    Built from ALLOWED_PARENT_KINDS so Python validation and the database never disagree.
    A missing parent is '' (COALESCE), so NULL can never make the check silently pass.
    """
    whens = []
    for kind, parents in ALLOWED_PARENT_KINDS.items():
        allowed = ", ".join(f"'{p or ''}'" for p in sorted(parents, key=lambda p: p or ""))
        whens.append(f"WHEN '{kind}' THEN COALESCE({parent}, '') IN ({allowed})")
    return f"(CASE {child} {' '.join(whens)} ELSE (1 = 0) END)"


PARENT_KIND = "(SELECT p.kind FROM branches_organization p WHERE p.id = NEW.parent_id)"
BAD_CHILDREN = (
    "EXISTS (SELECT 1 FROM branches_organization c WHERE c.parent_id = NEW.id "
    f"AND NOT {kind_fits_sql('c.kind', 'NEW.kind')})"
)
MEMBERS_LEFT_BEHIND = (
    "(NEW.kind <> 'branch' AND EXISTS (SELECT 1 FROM branches_member m WHERE m.branch_id = NEW.id))"
    " OR (NEW.kind <> 'group' AND EXISTS "
    "(SELECT 1 FROM branches_member m WHERE m.group_id = NEW.id))"
)
GROUP_MOVED_AWAY = (
    "EXISTS (SELECT 1 FROM branches_member m WHERE m.group_id = NEW.id "
    "AND m.branch_id <> NEW.parent_id)"
)
MEMBER_BRANCH_WRONG = (
    "COALESCE((SELECT o.kind FROM branches_organization o WHERE o.id = NEW.branch_id), '') "
    "<> 'branch'"
)
MEMBER_GROUP_WRONG = (
    "NEW.group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM branches_organization g "
    "WHERE g.id = NEW.group_id AND g.kind = 'group' AND g.parent_id = NEW.branch_id)"
)

MSG_PARENT = "organization kind cannot sit under this parent"
MSG_CHILDREN = "kind change would break its sub-organizations or members"
MSG_GROUP = "a party group cannot move away from the branch of its members"
MSG_MEMBER = "a member belongs to a party branch, and to a party group only inside it"

SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS branches_org_parent_ins BEFORE INSERT ON branches_organization
    WHEN NOT {kind_fits_sql("NEW.kind", PARENT_KIND)}
    BEGIN SELECT RAISE(ABORT, '{MSG_PARENT}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS branches_org_parent_upd
    BEFORE UPDATE OF kind, parent_id ON branches_organization
    WHEN NOT {kind_fits_sql("NEW.kind", PARENT_KIND)}
    BEGIN SELECT RAISE(ABORT, '{MSG_PARENT}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS branches_org_kind_upd
    BEFORE UPDATE OF kind ON branches_organization
    WHEN {BAD_CHILDREN} OR {MEMBERS_LEFT_BEHIND}
    BEGIN SELECT RAISE(ABORT, '{MSG_CHILDREN}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS branches_org_group_move
    BEFORE UPDATE OF parent_id ON branches_organization
    WHEN {GROUP_MOVED_AWAY}
    BEGIN SELECT RAISE(ABORT, '{MSG_GROUP}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS branches_member_org_ins BEFORE INSERT ON branches_member
    WHEN {MEMBER_BRANCH_WRONG} OR ({MEMBER_GROUP_WRONG})
    BEGIN SELECT RAISE(ABORT, '{MSG_MEMBER}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS branches_member_org_upd
    BEFORE UPDATE OF branch_id, group_id ON branches_member
    WHEN {MEMBER_BRANCH_WRONG} OR ({MEMBER_GROUP_WRONG})
    BEGIN SELECT RAISE(ABORT, '{MSG_MEMBER}'); END""",
]

# ERRCODE check_violation (23514) reaches Django as IntegrityError.
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION branches_organization_tree_check() RETURNS trigger AS $$
    BEGIN
      IF NOT {kind_fits_sql("NEW.kind", PARENT_KIND)} THEN
        RAISE EXCEPTION '{MSG_PARENT}' USING ERRCODE = 'check_violation';
      END IF;
      IF TG_OP = 'UPDATE' AND NEW.kind IS DISTINCT FROM OLD.kind
         AND ({BAD_CHILDREN} OR {MEMBERS_LEFT_BEHIND}) THEN
        RAISE EXCEPTION '{MSG_CHILDREN}' USING ERRCODE = 'check_violation';
      END IF;
      IF TG_OP = 'UPDATE' AND NEW.parent_id IS DISTINCT FROM OLD.parent_id AND {GROUP_MOVED_AWAY}
      THEN
        RAISE EXCEPTION '{MSG_GROUP}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS branches_organization_tree_check ON branches_organization",
    """CREATE TRIGGER branches_organization_tree_check
    BEFORE INSERT OR UPDATE OF kind, parent_id ON branches_organization
    FOR EACH ROW EXECUTE FUNCTION branches_organization_tree_check()""",
    f"""CREATE OR REPLACE FUNCTION branches_member_org_check() RETURNS trigger AS $$
    BEGIN
      IF {MEMBER_BRANCH_WRONG} OR ({MEMBER_GROUP_WRONG}) THEN
        RAISE EXCEPTION '{MSG_MEMBER}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS branches_member_org_check ON branches_member",
    """CREATE TRIGGER branches_member_org_check
    BEFORE INSERT OR UPDATE OF branch_id, group_id ON branches_member
    FOR EACH ROW EXECUTE FUNCTION branches_member_org_check()""",
]


def install(connection) -> None:
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(connection.vendor)
    if statements is None:
        return
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install_after_migrate(sender, using: str = "default", **kwargs) -> None:
    from django.db import connections

    install(connections[using])
