"""The exchange's hot statements, written once as SQL instead of built by the ORM on every call.

An upload, a fileinfo and a finish each run a handful of statements whose cost on both databases
is almost all Django compiling them (about half a millisecond each) rather than running them
(tens of microseconds). The few on every request are therefore written here against the models'
own table and column names (``_meta``), with every value passed through its field's
``get_db_prep_save``, so what is stored is exactly what the ORM would store. Each function's
conditions are those of the ORM code it replaced; the tests run them on SQLite and PostgreSQL.
"""

from django.db import connection
from django.db.models import Model

from .models import AccountKey, File, Report
from .states import ReportState


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model, name: str) -> str:
    return _q(model._meta.get_field(name).column)


def _prep(model, name: str, value):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def touch_open(provider_id: int, report_id: int, source: str, now, opened_before, changed_before) -> bool:
    """Mark the provider's open, unexpired report ``report_id`` changed at ``now``; False when no
    such report (``intake._touch_open`` says why). Takes the report's row lock (on SQLite the
    transaction holds the write lock already)."""
    at = _prep(Report, "changed_at", now)
    sql = (
        f"UPDATE {_q(Report._meta.db_table)} SET {_column(Report, 'changed_at')} = %s "
        f"WHERE {_q(Report._meta.pk.column)} = %s AND {_column(Report, 'provider')} = %s AND {_column(Report, 'source')} = %s "
        f"AND {_column(Report, 'state')} = %s "
        f"AND ({_column(Report, 'opened_at')} > %s OR {_column(Report, 'changed_at')} > %s)"
    )
    params = [
        at,
        report_id,
        provider_id,
        source,
        str(ReportState.OPEN),
        _prep(Report, "opened_at", opened_before),
        _prep(Report, "changed_at", changed_before),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def insert(instance: Model) -> Model:
    """INSERT ``instance`` (a new, unsaved row of any model with an automatic primary key) with
    every column as ``save()`` would write it; sets its primary key."""
    _insert(instance, "", [])
    return instance


def insert_file_under_cap(file: File, cap: int) -> bool:
    """Insert ``file`` (a new, unsaved row) unless its report already holds ``cap`` files, in one
    statement: the count and the insert are one, under the report's row lock that the caller's
    transaction holds (``touch_open``), so two uploads racing for the last place cannot both get
    it. Sets ``file.pk``; False when the report is full."""
    table, report = _q(File._meta.db_table), _column(File, "report")
    condition = f"WHERE (SELECT COUNT(*) FROM {table} WHERE {report} = %s) < %s"
    return _insert(file, condition, [file.report_id, cap])


def _insert(instance: Model, condition: str, params: list) -> bool:
    model = type(instance)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(_q(f.column) for f in fields)
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    sql = (
        f"INSERT INTO {_q(model._meta.db_table)} ({columns}) SELECT {', '.join(['%s'] * len(values))} "
        f"{condition} RETURNING {_q(model._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params])
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True


def update_columns(instance: Model, names: list[str], **where) -> int:
    """``UPDATE`` the columns ``names`` of the rows of ``instance``'s model matching ``where`` (field
    name to value, all equal) with ``instance``'s values; the number of rows changed."""
    model = type(instance)
    assignments = ", ".join(f"{_column(model, n)} = %s" for n in names)
    conditions = " AND ".join(f"{_column(model, n)} = %s" for n in where)
    params = [_prep(model, n, getattr(instance, n)) for n in names]
    params += [_prep(model, n, v) for n, v in where.items()]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_q(model._meta.db_table)} SET {assignments} WHERE {conditions}", params)
        return cursor.rowcount


# Reads of the finish, written once as well: Django's raw() maps the columns and applies each
# field's converters (datetimes on SQLite, JSON), so the instances are what the ORM would build;
# only the compiling of the query is skipped (decision 0035).


def own_report(provider_id: int, report_id: int, source: str, *, lock: bool) -> Report | None:
    """The provider's report ``report_id`` from ``source`` (every column), or None; ``lock`` takes
    its row lock (``FOR UPDATE`` where the database has it; on SQLite the write transaction
    already holds the database's lock), as ``select_for_update()`` did."""
    for_update = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    sql = (
        f"SELECT * FROM {_q(Report._meta.db_table)} WHERE {_q(Report._meta.pk.column)} = %s "
        f"AND {_column(Report, 'provider')} = %s AND {_column(Report, 'source')} = %s{for_update}"
    )
    return next(iter(Report.objects.raw(sql, [report_id, provider_id, source])), None)


#: The columns of a report's files that finishing reads and writes (matching, the case, the answer);
#: the others (the description's XML, names, annotations) stay deferred.
FINISH_FILE_FIELDS = (
    "id",
    "report",
    "file_id",
    "uploaded_at",
    "md5",
    "sha256",
    "pdq",
    "pdq_quality",
    "vpdq",
    "pdq_probes",
    "pdq_keypoints",
    "ip",
    *("matched", "match_detail", "assessment", "category", "auto_assessed"),
)


def files_to_finish(report_id: int) -> list[File]:
    """A report's files in upload order (``File.Meta.ordering``) with ``FINISH_FILE_FIELDS``."""
    columns = ", ".join(_q(File._meta.get_field(n).column) for n in FINISH_FILE_FIELDS)
    order = f"{_column(File, 'uploaded_at')}, {_q(File._meta.pk.column)}"
    sql = f"SELECT {columns} FROM {_q(File._meta.db_table)} WHERE {_column(File, 'report')} = %s ORDER BY {order}"
    return list(File.objects.raw(sql, [report_id]))


def files_of_open_report(provider_id: int, report_id: int, source: str) -> list[File]:
    """``files_to_finish`` of the provider's report ``report_id`` from ``source`` while it is open,
    without any lock (empty for another provider's report or one not open): what a finish may
    match before its transaction (``intake.finish``)."""
    file_table, report_table = _q(File._meta.db_table), _q(Report._meta.db_table)
    columns = ", ".join(f"{file_table}.{_q(File._meta.get_field(n).column)}" for n in FINISH_FILE_FIELDS)
    report_pk = f"{report_table}.{_q(Report._meta.pk.column)}"
    sql = (
        f"SELECT {columns} FROM {file_table} JOIN {report_table} ON {report_pk} = {file_table}.{_column(File, 'report')} "
        f"WHERE {report_pk} = %s AND {report_table}.{_column(Report, 'provider')} = %s "
        f"AND {report_table}.{_column(Report, 'source')} = %s AND {report_table}.{_column(Report, 'state')} = %s "
        f"ORDER BY {file_table}.{_column(File, 'uploaded_at')}, {file_table}.{_q(File._meta.pk.column)}"
    )
    return list(File.objects.raw(sql, [report_id, provider_id, source, ReportState.OPEN]))


def cases_with_keys(keys: list[str]) -> int:
    """How many cases carry any of the account ``keys`` (earlier reports of the same account)."""
    if not keys:
        return 0
    sql = (
        f"SELECT COUNT(DISTINCT {_column(AccountKey, 'case')}) FROM {_q(AccountKey._meta.db_table)} "
        f"WHERE {_column(AccountKey, 'key')} IN ({', '.join(['%s'] * len(keys))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        return cursor.fetchone()[0]


def user_exists(model, user_id: int) -> bool:
    """Whether the account ``user_id`` (of the user ``model``) still exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {_q(model._meta.db_table)} WHERE {_q(model._meta.pk.column)} = %s", [user_id]
        )
        return cursor.fetchone() is not None
