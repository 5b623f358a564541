"""
Work that the benchmarks run in a process of its own: an import, whose peak
memory is then the process's alone, and a worker, so that two of them can
share a batch as two db_workers would.

    python -m bench.child import-product FILE
    python -m bench.child import-baseline FILE
    python -m bench.child worker BATCH_ID

Each prints one line of JSON with what it measured. A worker first prints
"ready" and waits for a line on standard input, so that several start
together.
"""

import argparse
import csv
import json
import resource
import sys
import time


def _rss_kib():
    with open("/proc/self/status", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measured(function):
    from django.db import connection

    connection.ensure_connection()
    start_rss = _rss_kib()
    started = time.perf_counter()
    result = function()
    return {
        "seconds": time.perf_counter() - started,
        "start_rss_kib": start_rss,
        "peak_rss_kib": _peak_rss_kib(),
        **result,
    }


def import_product(path):
    """As ``manage.py import_profiles FILE --id-column bioguide_id`` does."""
    from batches.importing import Limits, batch_import, parse_profile_file
    from batches.models import BatchEvent

    with path.open("rb") as stream:
        profiles = parse_profile_file(
            stream,
            filename=path.name,
            id_column="bioguide_id",
            limits=Limits.for_commands(),
        )
        batch, count = batch_import(
            profiles=profiles,
            name=f"bench import {path.name}",
            source=BatchEvent.Source.COMMAND,
        )
    return {"batch_id": batch.pk, "rows": count}


def import_baseline(path):
    """The least any import must do: read the CSV, encode each row's fields
    as JSON, and executemany one INSERT into the same table, in one
    transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from batches.models import Batch, Profile
    from bench.fixtures import COLUMNS

    table = Profile._meta.db_table
    postgres = connection.vendor == "postgresql"
    mark = "%s" if postgres else "?"
    marks = ", ".join(
        f"{mark}::jsonb" if c == "fields" and postgres else mark for c in COLUMNS
    )
    sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})"
    now = timezone.now()
    stamp = now if postgres else now.replace(tzinfo=None).isoformat(" ")

    with transaction.atomic():
        batch = Batch.objects.create(name=f"bench baseline {path.name}")
        defaults = {
            "batch_id": batch.pk,
            "status": Profile.Status.PENDING,
            "story": "",
            "attempts": 0,
            "last_error": "",
            "claim_token": "",
            "claimed_by": "",
            "lease_expires_at": None,
            "available_at": None,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "created_at": stamp,
            "updated_at": stamp,
        }
        order = list(COLUMNS)

        def rows(stream):
            reader = csv.reader(stream)
            header = next(reader)
            for values in reader:
                record = dict(zip(header, values, strict=True))
                row = {
                    **defaults,
                    "external_id": record["bioguide_id"],
                    "name": record["full_name"],
                    "fields": json.dumps(record),
                }
                yield [row[column] for column in order]

        with path.open(newline="", encoding="utf-8") as stream:
            raw = connection.connection.cursor()
            raw.executemany(sql, rows(stream))
            raw.close()
    return {"batch_id": batch.pk}


def worker(batch_id):
    from django.db import connection

    from batches.processing import batch_process

    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    report = batch_process(
        batch_id=batch_id, worker_id=f"bench-{batch_id}", seconds=600
    )
    return {"started": started, "finished": time.time(), "completed": report.completed}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument(
        "command", choices=["import-product", "import-baseline", "worker"]
    )
    parser.add_argument("target")
    args = parser.parse_args(argv)

    import django

    django.setup()

    from pathlib import Path

    if args.command == "import-product":
        result = _measured(lambda: import_product(Path(args.target)))
    elif args.command == "import-baseline":
        result = _measured(lambda: import_baseline(Path(args.target)))
    else:
        result = worker(int(args.target))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
