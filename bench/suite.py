"""
The benchmarks on one database, in a process whose environment points Django
at that database (see bench.databases.prepare). Writes what it found as JSON
for the parent to put in RESULTS.md.

    python -m bench.suite CONFIG.json RESULTS.json
"""

import json
import sys
import time
import traceback
from pathlib import Path

BENCHMARKS = (
    "imports",
    "progress",
    "processing",
    "llm",
    "batch_list",
    "profiles_page",
    "load",
)


def _run_one(name, ctx):
    from importlib import import_module

    from bench.results import not_run

    module = import_module(f"bench.benchmarks.{name}")
    started = time.perf_counter()
    print(f"[{ctx.database}] {module.TITLE} ...", file=sys.stderr, flush=True)
    try:
        sections = module.run(ctx)
    except Exception as error:
        # One broken benchmark must not hide the others' figures; the report
        # says what broke.
        traceback.print_exc()
        sections = not_run(
            module.KEY,
            module.TITLE,
            ctx.database,
            f"failed: {type(error).__name__}: {error}",
        )
    print(
        f"[{ctx.database}] {module.TITLE}: {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return sections if isinstance(sections, list) else [sections]


def main(argv=None):
    config_path, results_path = (argv or sys.argv[1:])[:2]
    config = json.loads(Path(config_path).read_text())

    import django

    django.setup()

    from django.core.management import call_command

    from bench.context import Context

    call_command("migrate", verbosity=0)
    ctx = Context(
        database=config["database"],
        quick=config["quick"],
        workdir=Path(config["workdir"]),
        csv_files=config["csv_files"],
        only=config["only"],
    )
    sections = []
    for name in BENCHMARKS:
        if ctx.only and name not in ctx.only:
            continue
        sections += _run_one(name, ctx)
    Path(results_path).write_text(json.dumps([s.as_dict() for s in sections], indent=1))


if __name__ == "__main__":
    main()
