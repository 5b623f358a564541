"""
Run the benchmarks and write bench/RESULTS.md.

    .venv/bin/python -m bench             # the full set, SQLite and PostgreSQL
    .venv/bin/python -m bench --quick     # smallest sizes, few runs: a smoke run

See bench/README.md.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import databases, machine, report
from bench.context import PLAN, ROOT
from bench.data import write_csv
from bench.results import not_run
from bench.suite import BENCHMARKS

HERE = Path(__file__).resolve().parent


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n")[1]
    )
    parser.add_argument(
        "--quick", action="store_true", help="Smallest sizes, few runs."
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="Comma-separated: sqlite, postgresql (default: both).",
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"Comma-separated benchmarks, of: {', '.join(BENCHMARKS)}.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "RESULTS.md",
        help="Where to write the report.",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=HERE / "out",
        help="Generated files and the SQLite database (default: bench/out).",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL")
        or databases.default_postgres_url(),
        help="A PostgreSQL database the benchmarks create and drop; its name must "
        "contain 'bench' (default: storybatch_bench on 127.0.0.1).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the PostgreSQL database afterwards."
    )
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(args.databases) - {databases.SQLITE, databases.POSTGRES}
    if unknown:
        parser.error(f"unknown database {sorted(unknown)[0]!r}")
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    if set(args.only) - set(BENCHMARKS):
        parser.error(
            f"unknown benchmark {sorted(set(args.only) - set(BENCHMARKS))[0]!r}"
        )
    return args


def _csv_files(workdir, quick, only):
    """The generated CSV files the import reads, made once and kept: the
    same seed always gives the same rows."""
    if only and "imports" not in only and "progress" not in only:
        return {}
    full, quick_sizes = PLAN["import_sizes"]
    files = {}
    for rows in quick_sizes if quick else full:
        path = workdir / f"profiles-{rows}.csv"
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr, flush=True)
            write_csv(path.with_suffix(".tmp"), rows)
            path.with_suffix(".tmp").rename(path)
        files[str(rows)] = str(path)
    return files


def _run_database(database, args, csv_files):
    """The suite on one database, in its own process; its sections."""
    if database == databases.POSTGRES and not databases.postgres_reachable(
        args.postgres_url
    ):
        reason = f"PostgreSQL is not reachable at {args.postgres_url}"
        return [not_run("postgresql", "PostgreSQL", database, reason)]

    env = databases.prepare(
        database, workdir=args.workdir, postgres_url=args.postgres_url
    )
    config = args.workdir / f"config-{database}.json"
    results = args.workdir / f"results-{database}.json"
    results.unlink(missing_ok=True)
    config.write_text(
        json.dumps(
            {
                "database": database,
                "quick": args.quick,
                "workdir": str(args.workdir),
                "csv_files": csv_files,
                "only": args.only,
            }
        )
    )
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.suite", str(config), str(results)],
            cwd=ROOT,
            env=env,
            check=False,
        )
    finally:
        databases.cleanup(database, postgres_url=args.postgres_url, keep=args.keep)
    if completed.returncode != 0 or not results.exists():
        reason = f"the suite stopped with exit status {completed.returncode}"
        return [not_run("suite", "Benchmark suite", database, reason)]
    return json.loads(results.read_text())


def main(argv=None):
    args = _arguments(argv)
    started = time.perf_counter()
    args.workdir.mkdir(parents=True, exist_ok=True)
    uses_postgres = databases.POSTGRES in args.databases
    about = machine.describe(args.postgres_url if uses_postgres else None)

    csv_files = _csv_files(args.workdir, args.quick, args.only)
    sections = []
    for database in args.databases:
        sections += _run_database(database, args, csv_files)

    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {','.join(args.only)}"
    text = report.render(
        machine=about,
        sections=sections,
        mode="quick" if args.quick else "full",
        command=command,
        seconds=time.perf_counter() - started,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.output} in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )


if __name__ == "__main__":
    main()
