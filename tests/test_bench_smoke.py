"""The benchmarks still run: a quick pass on the database the suite runs on,
into a temporary directory, must write a report full of figures."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _database_arguments():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return ["--databases", "sqlite"]
    # A database of the smoke run's own, dropped when it ends.
    suffix = os.environ.get("STORYBATCH_TEST_DB_SUFFIX", "")
    server = url.rpartition("/")[0]
    return [
        "--databases",
        "postgresql",
        "--postgres-url",
        f"{server}/storybatch_bench_smoke{suffix}",
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results = out / "RESULTS.md"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            *_database_arguments(),
            "--output",
            str(results),
            "--workdir",
            str(out / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return results.read_text(encoding="utf-8")


def _rows_of(report, heading):
    """The table rows under the benchmark's heading."""
    part = report.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return [
        line
        for line in part.splitlines()
        if line.startswith("| ") and "---" not in line
    ]


def test_report_names_the_machine(report):
    for what in (
        "| cores |",
        "| memory |",
        "| Python |",
        "| SQLite |",
        "| PostgreSQL |",
    ):
        assert what in report


@pytest.mark.parametrize(
    "heading",
    [
        "Import of a CSV file",
        "Progress of one batch",
        "Processing with the template generator",
        "Processing with a 50 ms language model",
        "Batch list endpoint",
        "Profiles endpoint: first page and deep page",
        "Progress endpoint under load",
    ],
)
def test_every_benchmark_reports_numeric_figures(report, heading):
    assert f"## {heading}" in report
    rows = _rows_of(report, heading)
    figures = [row for row in rows if re.search(r"\| [\d,.]+ \|", row)]
    assert figures, f"no figures under {heading}:\n" + "\n".join(rows)


def test_no_benchmark_failed(report):
    assert "not run: failed" not in report
    assert "suite stopped" not in report
