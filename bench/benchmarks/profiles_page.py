"""
The profiles endpoint, ``GET /api/batches/{id}/profiles/``, on the largest
batch: its first page against a page nine tenths of the way in, reached with
the cursor the API itself would hand out there. Keyset pagination should make
them cost the same.
"""

from rest_framework.pagination import Cursor

from batches.api.pagination import ProfileCursorPagination
from batches.models import Profile
from bench.api import ApiClient, api_missing
from bench.benchmarks.progress import query_plan
from bench.fixtures import fixture_batch
from bench.results import Section, not_run
from bench.timing import interleaved, median

KEY = "profiles_page"
TITLE = "Profiles endpoint: first page and deep page"


def deep_cursor_path(path, batch_id, depth):
    """The path of the page that starts after the ``depth``-th profile, with
    a cursor encoded as the API encodes its own."""
    position = (
        Profile.objects.filter(batch_id=batch_id)
        .order_by("id")
        .values_list("id", flat=True)
    )[depth - 1]
    pagination = ProfileCursorPagination()
    pagination.base_url = path
    return pagination.encode_cursor(
        Cursor(offset=0, reverse=False, position=str(position))
    )


def run(ctx):
    missing = api_missing()
    if missing:
        return not_run(KEY, TITLE, ctx.database, missing)

    section = Section(KEY, TITLE, ctx.database)
    size = ctx.plan("progress_sizes")[-1]
    batch_id = fixture_batch(ctx, size)
    api = ApiClient()
    first = f"/api/batches/{batch_id}/profiles/"
    depth = size * 9 // 10
    deep = deep_cursor_path(first, batch_id, depth)

    # The API's own next link must work, and the deep page must be full.
    second = api.get(first).json()["next"]
    api.get(second)
    if len(api.get(deep).json()["results"]) != ProfileCursorPagination.page_size:
        raise RuntimeError("the deep page is not a full page")

    rounds = ctx.plan("endpoint_rounds")
    seconds = interleaved(
        {"first": lambda: api.timed_get(first), "deep": lambda: api.timed_get(deep)},
        rounds=rounds,
        budget=15,
    )
    rounds = len(seconds["first"])
    first_ms, deep_ms = median(seconds["first"]) * 1000, median(seconds["deep"]) * 1000
    figures = section.table(
        "Milliseconds per request (median)",
        [
            "batch profiles",
            "deep page starts after",
            "runs",
            "queries",
            "first ms",
            "deep ms",
            "deep / first",
        ],
    )
    queries = api.queries_of(deep)
    figures.add(
        size, depth, rounds, len(queries), first_ms, deep_ms, deep_ms / first_ms
    )
    section.check(
        "a deep page costs at most 2x the first",
        deep_ms / first_ms <= 2,
        f"{deep_ms / first_ms:.2f}x ({deep_ms:.1f} against {first_ms:.1f} ms)",
    )
    page_sql = max(queries, key=len)
    section.detail("plan of the deep page's query", query_plan(page_sql))
    return section
