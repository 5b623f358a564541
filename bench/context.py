"""What every benchmark is handed: the database it runs on, the mode, the
sizes, the generated files, and a way to run work in a child process."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Sizes and repetitions: (full, quick).
PLAN = {
    "progress_sizes": ([10_000, 100_000, 1_000_000], [10_000]),
    "progress_rounds": (3, 2),
    # Counting a million profiles in Python takes most of a minute; the
    # target is judged at 100,000.
    "naive_max_size": (100_000, 10_000),
    "import_sizes": ([100_000, 1_000_000], [5_000]),
    "import_rounds": ({100_000: 2, 1_000_000: 1}, {5_000: 1}),
    "process_profiles": (1_000, 150),
    # Two workers share a larger batch, so that what each process does once
    # (its first queries, finishing the batch) weighs little in the figure.
    "scaling_profiles": (3_000, 150),
    "process_rounds": (3, 1),
    "llm_profiles": (800, 48),
    "llm_rounds": (2, 1),
    "list_sizes": ([1, 10, 100], [1, 10]),
    "list_profiles_per_batch": (1_000, 100),
    "endpoint_rounds": (30, 5),
    "load_seconds": (20, 3),
    "load_connections": (16, 16),
}


@dataclass
class Context:
    database: str
    quick: bool
    workdir: Path
    csv_files: dict
    only: list = field(default_factory=list)
    fixtures: dict = field(default_factory=dict)

    def plan(self, name):
        full, quick = PLAN[name]
        return quick if self.quick else full

    @property
    def postgres(self):
        return self.database == "postgresql"

    def csv_file(self, rows):
        return Path(self.csv_files[str(rows)])

    def run_child(self, command, target, timeout=1200):
        """Run ``bench.child`` and return the JSON it printed."""
        result = subprocess.run(
            [sys.executable, "-m", "bench.child", command, str(target)],
            cwd=ROOT,
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"bench.child {command} failed ({result.returncode}): "
                f"{result.stderr[-2000:]}"
            )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start_child(self, command, target):
        return subprocess.Popen(
            [sys.executable, "-m", "bench.child", command, str(target)],
            cwd=ROOT,
            env=os.environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
