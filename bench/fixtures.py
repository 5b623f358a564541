"""
Batches for the benchmarks to read, loaded fast and without the product's
own code (COPY on PostgreSQL, executemany on SQLite), so that building them
measures nothing; the largest are copies of a smaller one, made by the
database itself.

A fixture batch looks like one caught in the middle of a run: most profiles
done, some failed, some in a worker's hands, the rest waiting.
"""

import json
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from batches.models import Batch, Profile

Status = Profile.Status

# Out of every 20 profiles: 9 completed, 1 failed, 1 processing, 9 pending.
STATUS_CYCLE = (
    [Status.COMPLETED] * 9
    + [Status.FAILED]
    + [Status.PROCESSING]
    + [Status.PENDING] * 9
)

# Every column the product's own inserts write: all but the key and the
# generated has_story.
COLUMNS = tuple(
    field.column
    for field in Profile._meta.concrete_fields
    if not field.primary_key and not getattr(field, "generated", False)
)


def is_postgres():
    return connection.vendor == "postgresql"


def _row_values(batch_id, number, row, *, status, now):
    done = status == Status.COMPLETED
    values = {
        "batch_id": batch_id,
        "external_id": row["bioguide_id"],
        "name": row["full_name"],
        "fields": json.dumps(row),
        "status": status,
        "story": f"{row['full_name']} is a {row['party']} from {row['state']}."
        if done
        else "",
        "attempts": 0 if status == Status.PENDING else 1,
        "last_error": "The template rendered an empty story."
        if status == Status.FAILED
        else "",
        "claim_token": f"{number:032x}" if status == Status.PROCESSING else "",
        "claimed_by": "bench-worker" if status == Status.PROCESSING else "",
        "lease_expires_at": now + timedelta(minutes=2)
        if status == Status.PROCESSING
        else None,
        "available_at": None,
        "prompt_tokens": 120 if done else 0,
        "completion_tokens": 80 if done else 0,
        "created_at": now,
        "updated_at": now,
    }
    return [values[column] for column in COLUMNS]


def _copy_rows(rows):
    """PostgreSQL: stream the rows through COPY."""
    table = Profile._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)


def _insert_rows(rows):
    table = Profile._meta.db_table
    marks = ", ".join(["%s"] * len(COLUMNS))
    sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})"
    with connection.cursor() as cursor:
        chunk = []
        for values in rows:
            chunk.append(values)
            if len(chunk) >= 5000:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)


def _sqlite_values(values):
    # Django stores aware datetimes in SQLite as UTC text.
    return [
        value.replace(tzinfo=None).isoformat(" ") if hasattr(value, "tzinfo") else value
        for value in values
    ]


def load_batch(
    *,
    name,
    rows,
    state=Batch.State.RUNNING,
    created_at=None,
    mixed=True,
    analyze_after=True,
):
    """A batch holding ``rows`` (dicts with the Congress columns)."""
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.create(
            name=name,
            state=state,
            created_at=created_at or now,
            started_at=None if state == Batch.State.DRAFT else now,
        )
        statuses = STATUS_CYCLE if mixed else [Status.PENDING]
        values = (
            _row_values(
                batch.pk, number, row, status=statuses[number % len(statuses)], now=now
            )
            for number, row in enumerate(rows)
        )
        if is_postgres():
            _copy_rows(values)
        else:
            _insert_rows(_sqlite_values(v) for v in values)
    if analyze_after:
        analyze()
    return batch


def analyze():
    """Fresh planner statistics, as autovacuum would have after a big load."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def vacuum():
    """Reclaim a deleted batch's rows, so that the next run starts alike."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Profile._meta.db_table}")


def delete_batch(batch_id, *, reclaim=True):
    """Delete the batch; with ``reclaim``, vacuum its rows away too (which
    takes seconds once the table holds the million-profile fixtures)."""
    Batch.objects.filter(pk=batch_id).delete()
    if reclaim:
        vacuum()


def empty_batch_tables():
    """Remove every batch with its profiles, attempts and events at once:
    TRUNCATE on PostgreSQL; on SQLite, an unconditional DELETE of each table
    with foreign keys off, which SQLite carries out without visiting rows."""
    from django.core.management.color import no_style

    sql = connection.ops.sql_flush(
        no_style(), [Batch._meta.db_table], allow_cascade=True
    )
    with connection.constraint_checks_disabled():
        connection.ops.execute_sql_flush(sql)


def copied_batch(source_id, *, copies, name, created_at, analyze_after=True):
    """A batch holding ``copies`` copies of the source batch's profiles, made
    by the database (INSERT ... SELECT, each copy's external ids suffixed),
    which builds a million rows several times faster than sending them."""
    batch = Batch.objects.create(
        name=name,
        state=Batch.State.RUNNING,
        created_at=created_at,
        started_at=created_at,
    )
    table = Profile._meta.db_table
    copied = [c for c in COLUMNS if c not in ("batch_id", "external_id")]
    sql = (
        f"INSERT INTO {table} (batch_id, external_id, {', '.join(copied)}) "
        f"SELECT %s, external_id || %s, {', '.join(copied)} FROM {table} "
        "WHERE batch_id = %s ORDER BY id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for copy in range(copies):
            cursor.execute(sql, [batch.pk, f"-{copy}", source_id])
    if analyze_after:
        analyze()
    return batch


# Fixture batches that are a multiple of this size are copies of the one of
# this size: of every 20 profiles, each copy keeps the same mix of statuses.
COPIED_FROM = 10_000


def fixture_batch(ctx, size):
    """The id of a mid-run batch of ``size`` profiles, loaded once per run.
    Its date is a month back, so that batches made later list before it."""
    if size in ctx.fixtures:
        return ctx.fixtures[size]

    created_at = timezone.now() - timedelta(days=30)
    if size > COPIED_FROM and size % COPIED_FROM == 0:
        batch = copied_batch(
            fixture_batch(ctx, COPIED_FROM),
            copies=size // COPIED_FROM,
            name=f"Bench fixture of {size:,} profiles",
            created_at=created_at,
        )
        ctx.fixtures[size] = batch.pk
        return batch.pk

    from bench.data import profile_rows, read_csv_rows

    source = max((int(rows) for rows in ctx.csv_files), default=0)
    if source >= size:
        rows = read_csv_rows(ctx.csv_file(source), limit=size)
    else:
        rows = profile_rows(size, seed=2)
    batch = load_batch(
        name=f"Bench fixture of {size:,} profiles", rows=rows, created_at=created_at
    )
    ctx.fixtures[size] = batch.pk
    return batch.pk
