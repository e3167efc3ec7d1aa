"""Writing many members at once with their history rows and the admin's log entries.

On PostgreSQL (psycopg2) the rows go through COPY: new members get their ids from the table's
own sequence first, changed ones are copied into a temporary table and written by one
`UPDATE ... FROM` (Django's `bulk_update` builds a CASE of every row for every field: 45 s for
20,000 members), and their history rows and log entries are copied too. Elsewhere (SQLite in
development and tests) the ORM's bulk operations do the same: django-simple-history's
`bulk_create_with_history` / `bulk_update_with_history` and `LogEntry.objects.bulk_create`.

Both ways write the same rows: every member column (created_at and updated_at as now), a
history row per member ("+" new, "~" changed, by `user`, at now), and, with `admin_log`, a log
entry per member as the admin writes them. Database triggers and constraints run on COPY as on
INSERT. Then the stored counts are refreshed (`branches.counts`), since neither way sends
signals. The caller holds the transaction.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.utils import timezone, translation
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .counts import refresh_counts
from .models import Member

if TYPE_CHECKING:
    from accounts.models import User

BATCH_SIZE = 1000  # rows per INSERT / UPDATE statement of the ORM's way
COPY_BATCH = 5000  # rows per COPY
UPDATE_TABLE = "roster_import_update"


def save_members(
    new: list[Member],
    changed: list[tuple[Member, list[str]]],
    user: User | None,
    *,
    admin_log: bool = False,
) -> None:
    """Insert `new`, update `changed` (member, the attnames that changed), with history rows by
    `user` and, when `admin_log` (and a user), the admin's log entries."""
    now = timezone.now()
    for member in new:
        member.created_at = member.updated_at = now
    for member, _changes in changed:
        member.updated_at = now
    if _can_copy():
        _save_by_copy(new, changed, user, now, admin_log)
    else:
        _save_by_orm(new, changed, user, now, admin_log)
    refresh_counts()  # neither way sends signals


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows whose ids nobody needs back: by COPY on PostgreSQL (psycopg2), by
    `bulk_create` elsewhere. No signals either way; every concrete field but an automatic
    primary key is written as the object holds it (defaults included). For plain columns
    (text, numbers, dates, booleans, foreign keys); a JSON column goes through its field."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if hasattr(cursor.cursor, "copy_expert"):
                prepared = [
                    (f.attname, f if isinstance(f, models.JSONField) else None) for f in fields
                ]
                rows = (
                    [
                        field.get_db_prep_save(getattr(o, attname), connection)
                        if field
                        else getattr(o, attname)
                        for attname, field in prepared
                    ]
                    for o in objs
                )
                _copy(cursor, model._meta.db_table, [f.column for f in fields], rows)
                return
    model.objects.bulk_create(objs, batch_size=BATCH_SIZE)


def _can_copy() -> bool:
    """PostgreSQL through psycopg2, and a history table whose every column this module knows
    how to fill (else the ORM writes what django-simple-history would)."""
    if connection.vendor != "postgresql" or _history_fields() is None:
        return False
    with connection.cursor() as cursor:
        return hasattr(cursor.cursor, "copy_expert")


HISTORY_EXTRA = ("history_date", "history_change_reason", "history_user_id", "history_type")


def _history_fields() -> list | None:
    history = Member.history.model
    known = {f.attname for f in history.tracked_fields} | set(HISTORY_EXTRA)
    fields = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
    return fields if all(f.attname in known for f in fields) else None


def _name_of(attname: str) -> str:
    return Member._meta.get_field(attname).name


def _updated_fields(changed: list[tuple[Member, list[str]]]) -> list[str]:
    attnames = sorted({a for _member, changes in changed for a in changes})
    return [_name_of(a) for a in attnames] + ["updated_at"]


def log_entries(
    user: User, new: list[Member], changed: list[tuple[Member, list[str]]], now
) -> list[LogEntry]:
    """The admin's "recent actions" lines, as the admin writes them (field names in the
    source language, translated when shown)."""
    content_type = ContentType.objects.get_for_model(Member)
    added = json.dumps([{"added": {}}])
    entries = [
        LogEntry(
            user_id=user.pk,
            content_type_id=content_type.pk,
            object_id=str(member.pk),
            object_repr=str(member)[:200],
            action_flag=ADDITION,
            change_message=added,
            action_time=now,
        )
        for member in new
    ]
    with translation.override(None):
        labels = {f.attname: str(f.verbose_name) for f in Member._meta.concrete_fields}
        for member, changes in changed:
            entries.append(
                LogEntry(
                    user_id=user.pk,
                    content_type_id=content_type.pk,
                    object_id=str(member.pk),
                    object_repr=str(member)[:200],
                    action_flag=CHANGE,
                    change_message=json.dumps(
                        [{"changed": {"fields": [labels[a] for a in changes]}}]
                    ),
                    action_time=now,
                )
            )
    return entries


# --- the ORM's way -------------------------------------------------------------------------------


def _save_by_orm(new, changed, user, now, admin_log: bool) -> None:
    bulk_create_with_history(
        new, Member, batch_size=BATCH_SIZE, default_user=user, default_date=now
    )
    if changed:
        bulk_update_with_history(
            [member for member, _changes in changed],
            Member,
            _updated_fields(changed),
            batch_size=BATCH_SIZE,
            default_user=user,
            default_date=now,
        )
    if admin_log and user is not None:
        LogEntry.objects.bulk_create(log_entries(user, new, changed, now), batch_size=BATCH_SIZE)


# --- COPY (PostgreSQL) ---------------------------------------------------------------------------


def _copy_text(value: Any) -> str:
    """A value as COPY's text format writes it."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    if isinstance(value, datetime.date):  # datetimes too: aware ones keep their offset
        return value.isoformat()
    return str(value)


def _copy(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    qn = connection.ops.quote_name
    sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    batch: list[str] = []

    def flush() -> None:
        if batch:
            # The raw cursor's errors as Django's (IntegrityError, DataError...).
            with connection.wrap_database_errors:
                cursor.cursor.copy_expert(sql, io.StringIO("".join(batch)))
            batch.clear()

    for row in rows:
        batch.append("\t".join(map(_copy_text, row)) + "\n")
        if len(batch) >= COPY_BATCH:
            flush()
    flush()


def _save_by_copy(new, changed, user, now, admin_log: bool) -> None:
    member_fields = Member._meta.concrete_fields
    member_columns = [f.column for f in member_fields]
    attnames = [f.attname for f in member_fields]
    table = Member._meta.db_table
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if new:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, Member._meta.pk.column, len(new)],
            )
            for member, (pk,) in zip(new, cursor.fetchall(), strict=True):
                member.pk = pk
                member._state.adding, member._state.db = False, connection.alias
            _copy(cursor, table, member_columns, ([getattr(m, a) for a in attnames] for m in new))
        if changed:
            fields = [Member._meta.get_field(name) for name in _updated_fields(changed)]
            columns = [Member._meta.pk.column] + [f.column for f in fields]
            cursor.execute(f"DROP TABLE IF EXISTS {qn(UPDATE_TABLE)}")
            # The columns' types, none of the table's constraints.
            cursor.execute(
                f"CREATE TEMPORARY TABLE {qn(UPDATE_TABLE)} AS SELECT "
                f"{', '.join(qn(c) for c in columns)} FROM {qn(table)} WITH NO DATA"
            )
            _copy(
                cursor,
                UPDATE_TABLE,
                columns,
                ([m.pk] + [getattr(m, f.attname) for f in fields] for m, _c in changed),
            )
            assignments = ", ".join(f"{qn(f.column)} = u.{qn(f.column)}" for f in fields)
            pk = qn(Member._meta.pk.column)
            cursor.execute(
                f"UPDATE {qn(table)} AS m SET {assignments} "
                f"FROM {qn(UPDATE_TABLE)} AS u WHERE m.{pk} = u.{pk}"
            )
            cursor.execute(f"DROP TABLE {qn(UPDATE_TABLE)}")
        _copy_history(cursor, new, changed, user, now)
        if admin_log and user is not None:
            entries = log_entries(user, new, changed, now)
            log_fields = [f for f in LogEntry._meta.concrete_fields if not f.primary_key]
            _copy(
                cursor,
                LogEntry._meta.db_table,
                [f.column for f in log_fields],
                ([getattr(e, f.attname) for f in log_fields] for e in entries),
            )


def _copy_history(cursor, new, changed, user, now) -> None:
    """The history rows django-simple-history would write for these members."""
    history = Member.history.model
    extra = {
        "history_date": now,
        "history_change_reason": None,
        "history_user_id": user.pk if user is not None else None,
    }
    fields = _history_fields()

    def rows():
        for kind, members in (("+", new), ("~", [m for m, _c in changed])):
            for member in members:
                yield [
                    kind
                    if f.attname == "history_type"
                    else extra[f.attname]
                    if f.attname in extra
                    else getattr(member, f.attname)
                    for f in fields
                ]

    _copy(cursor, history._meta.db_table, [f.column for f in fields], rows())
