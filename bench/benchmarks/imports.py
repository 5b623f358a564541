"""
Import: a generated CSV through ``parse_profile_file`` and ``batch_import``,
as ``manage.py import_profiles`` runs them, against the least an import can
do (read the CSV, executemany one INSERT into the same table in one
transaction). Each run is a child process, so that its peak resident memory
is the import's own; each imported batch is deleted before the next run, so
that every run starts from the same table.
"""

from batches.conf import conf
from batches.models import Batch, Profile
from bench.child import import_product
from bench.fixtures import delete_batch, empty_batch_tables
from bench.profiling import profile_summary
from bench.results import Section
from bench.timing import median, ratio

KEY = "import"
TITLE = "Import of a CSV file"


def _remove(batch_id):
    """Take an imported batch away, so that every run starts from the same
    table. Imports run before any other benchmark loads its batches, so the
    table then holds this batch alone, and emptying it takes a moment where
    deleting a million rows and vacuuming them away takes most of a minute."""
    if Batch.objects.exclude(pk=batch_id).exists():
        delete_batch(batch_id)
    else:
        empty_batch_tables()


def _import_in_process(ctx):
    """The first 5,000 rows of the smallest file, imported in this process."""
    path = ctx.workdir / "profile-import-sample.csv"
    with ctx.csv_file(min(ctx.plan("import_sizes"))).open(encoding="utf-8") as source:
        path.write_text(
            "".join(line for _, line in zip(range(5001), source, strict=False))
        )
    result = import_product(path)
    _remove(result["batch_id"])


def run(ctx):
    section = Section(KEY, TITLE, ctx.database)
    figures = section.table(
        "Import time and peak memory",
        [
            "rows",
            "runs",
            "product s",
            "executemany s",
            "product / executemany",
            "product rows/s",
            "product peak RSS MiB",
            "RSS growth MiB",
            "executemany peak RSS MiB",
        ],
    )
    rounds_by_size = ctx.plan("import_rounds")
    peaks = {}
    for rows in ctx.plan("import_sizes"):
        path = ctx.csv_file(rows)
        runs = {"product": [], "baseline": []}
        for round_number in range(rounds_by_size[rows]):
            order = ["product", "baseline"]
            if round_number % 2:
                order.reverse()
            for kind in order:
                result = ctx.run_child(f"import-{kind}", path)
                imported = Profile.objects.filter(batch_id=result["batch_id"]).count()
                _remove(result["batch_id"])
                if imported != rows:
                    raise RuntimeError(f"{kind} imported {imported} of {rows} rows")
                runs[kind].append(result)

        product = median([r["seconds"] for r in runs["product"]])
        baseline = median([r["seconds"] for r in runs["baseline"]])
        peak = max(r["peak_rss_kib"] for r in runs["product"]) / 1024
        growth = (
            max(r["peak_rss_kib"] - r["start_rss_kib"] for r in runs["product"]) / 1024
        )
        peaks[rows] = (peak, growth)
        figures.add(
            rows,
            len(runs["product"]),
            product,
            baseline,
            ratio(product, baseline),
            rows / product,
            peak,
            growth,
            max(r["peak_rss_kib"] for r in runs["baseline"]) / 1024,
        )
        section.check(
            f"import of {rows:,} rows within 2x of executemany",
            ratio(product, baseline) <= 2,
            f"{product / baseline:.2f}x ({product:.2f} s against {baseline:.2f} s)",
        )

    if any(check.met is False for check in section.checks):
        section.detail(
            "cProfile of the product's import of 5,000 rows (cumulative time)",
            profile_summary(lambda: _import_in_process(ctx)),
        )

    if 100_000 in peaks and 1_000_000 in peaks:
        peak_ratio = peaks[1_000_000][0] / peaks[100_000][0]
        growth_ratio = peaks[1_000_000][1] / max(peaks[100_000][1], 1)
        section.check(
            "peak memory at 1,000,000 rows at most 1.5x that at 100,000",
            peak_ratio <= 1.5,
            f"peak RSS {peak_ratio:.2f}x ({peaks[1_000_000][0]:.0f} against "
            f"{peaks[100_000][0]:.0f} MiB); growth over the idle process "
            f"{growth_ratio:.2f}x",
        )
    else:
        section.check(
            "peak memory at 1,000,000 rows at most 1.5x that at 100,000",
            None,
            "quick mode: only the smallest size ran",
        )
    section.notes.append(
        f"The product writes each chunk of {conf.IMPORT_CHUNK_SIZE:,} rows with "
        "COPY on PostgreSQL and "
        "with one executemany INSERT on SQLite, after checking every row; the "
        "baseline checks nothing and sends one INSERT per row."
    )
    section.notes.append(
        "Peak RSS is the child process's maximum resident set (getrusage), Django "
        "and the connection included; growth is that peak less the resident set "
        "just before the import began."
    )
    return section
