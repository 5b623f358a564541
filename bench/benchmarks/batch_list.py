"""
The batch list endpoint, ``GET /api/batches/?page_size=N``, with 1, 10 and
100 batches of 1,000 profiles each on the page, while the table also holds
the progress benchmark's big batches (older, so off the page). The number of
queries must not change with the page, and the time should follow the page,
not the profiles stored elsewhere.
"""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from batches.models import Batch
from bench.api import ApiClient, api_missing, short_sql
from bench.benchmarks.progress import query_plan
from bench.data import profile_rows
from bench.fixtures import analyze, copied_batch, fixture_batch, load_batch
from bench.results import Section, not_run
from bench.timing import interleaved, median

KEY = "batch_list"
TITLE = "Batch list endpoint"


def _source_batch(per_batch):
    """The batch the listed ones copy, dated before every other."""
    return load_batch(
        name="Bench source of the listed batches",
        rows=profile_rows(per_batch, seed=5),
        created_at=timezone.now() - timedelta(days=60),
        analyze_after=False,
    ).pk


def _add_batches(source_id, count, first_number):
    """``count`` more batches, each a copy of the source batch's profiles."""
    now = timezone.now()
    for number in range(first_number, first_number + count):
        copied_batch(
            source_id,
            copies=1,
            name=f"Bench list {number}",
            created_at=now - timedelta(seconds=1000 - number),
            analyze_after=False,
        )
    analyze()


def run(ctx):
    missing = api_missing()
    if missing:
        return not_run(KEY, TITLE, ctx.database, missing)

    section = Section(KEY, TITLE, ctx.database)
    per_batch = ctx.plan("list_profiles_per_batch")
    sizes = ctx.plan("list_sizes")
    rounds = ctx.plan("endpoint_rounds")
    # The big batches share the table, so that a plan that reads every
    # profile shows.
    for size in ctx.plan("progress_sizes"):
        fixture_batch(ctx, size)
    source_id = _source_batch(per_batch)
    stored = sum(ctx.fixtures.keys()) + per_batch
    api = ApiClient()

    figures = section.table(
        "Milliseconds per request (median)",
        [
            "batches on the page",
            "profiles on the page",
            "runs",
            "queries",
            "ms",
            "ms per batch",
        ],
    )
    made = 0
    counts = {}
    timings = {}
    for size in sizes:
        _add_batches(source_id, size - made, made + 1)
        made = size
        path = f"/api/batches/?page_size={size}"
        page = api.get(path).json()
        on_page = sum(1 for b in page["results"] if b["name"].startswith("Bench list"))
        if on_page != size:
            raise RuntimeError(f"{path} listed {on_page} of the {size} new batches")
        queries = api.queries_of(path)
        counts[size] = queries
        seconds = interleaved(
            {"list": lambda p=path: api.timed_get(p)}, rounds=rounds, budget=10
        )
        timings[size] = median(seconds["list"]) * 1000
        figures.add(
            size,
            size * per_batch,
            len(seconds["list"]),
            len(queries),
            timings[size],
            timings[size] / size,
        )

    section.check(
        "the same number of queries at every size",
        len({len(q) for q in counts.values()}) == 1,
        ", ".join(f"{len(q)} at {size}" for size, q in counts.items()),
    )
    # Judged step by step: a first step that reads every stored profile
    # must not hide behind a cheap second one.
    steps = [
        (small, large, timings[large] / timings[small])
        for small, large in zip(sizes, sizes[1:], strict=False)
    ]
    section.check(
        "time grows at most linearly in the page size, at every step",
        all(growth <= large / small for small, large, growth in steps),
        ", ".join(
            f"{small} to {large}: {growth:.1f}x for {large // small}x"
            for small, large, growth in steps
        ),
    )
    largest = sizes[-1]
    section.notes.append(
        f"The table also holds {stored:,} profiles of older batches that are not "
        "on the page."
    )
    section.notes.append(
        "Queries of one request: "
        + "; ".join(
            f"({n}) {short_sql(sql, 90)}" for n, sql in enumerate(counts[largest], 1)
        )
    )
    list_sql = max(counts[largest], key=len)
    section.detail(
        f"plan of the list query at {largest} batches ({connection.vendor})",
        query_plan(list_sql),
    )
    Batch.objects.filter(name__startswith="Bench list").delete()
    return section
