"""
Processing with the language-model generator against a stub server on
loopback that takes 50 ms per answer. With ``concurrency`` requests in
flight the ideal is concurrency / 0.05 s profiles per second; what falls
short of it is the worker's own time between answers.
"""

import importlib.util
import subprocess
import sys
import time
import uuid

from django.conf import settings
from django.test import override_settings

from batches.conf import conf
from batches.models import Batch
from batches.processing import batch_process
from bench.context import ROOT
from bench.data import profile_rows
from bench.fixtures import delete_batch, load_batch
from bench.profiling import profile_summary
from bench.results import Section, not_run
from bench.timing import median

KEY = "llm"
TITLE = "Processing with a 50 ms language model"
DELAY = 0.05


def _start_stub(max_seconds):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.stub_llm",
            "--delay",
            str(DELAY),
            "--max-seconds",
            str(max_seconds),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/v1"


def _fresh_batch(count):
    batch = load_batch(
        name=f"Bench LLM {uuid.uuid4().hex[:8]}",
        rows=profile_rows(count, seed=4),
        mixed=False,
        analyze_after=False,
    )
    Batch.objects.filter(pk=batch.pk).update(generator=Batch.Generator.LLM)
    return batch.pk


def run(ctx):
    if importlib.util.find_spec("batches.generators.llm") is None:
        return not_run(
            KEY, TITLE, ctx.database, "batches/generators/llm.py does not exist yet"
        )

    section = Section(KEY, TITLE, ctx.database)
    count, rounds = ctx.plan("llm_profiles"), ctx.plan("llm_rounds")
    stub, base_url = _start_stub(max_seconds=240)
    storybatch = {
        **settings.STORYBATCH,
        "LLM_BASE_URL": base_url,
        "LLM_MODEL": "bench-stub",
    }
    seconds = []
    try:
        with override_settings(STORYBATCH=storybatch):
            concurrency = int(conf.LLM_CONCURRENCY)
            for _ in range(rounds):
                batch_id = _fresh_batch(count)
                started = time.perf_counter()
                report = batch_process(
                    batch_id=batch_id, worker_id="bench-llm", seconds=600
                )
                seconds.append(time.perf_counter() - started)
                if report.completed != count:
                    raise RuntimeError(
                        f"completed {report.completed} of {count}: failed "
                        f"{report.failed}, retrying {report.retrying}"
                    )
                delete_batch(batch_id, reclaim=False)
            throughput = count / median(seconds)
            if throughput < 0.8 * concurrency / DELAY:
                batch_id = _fresh_batch(min(count, 200))
                profile = profile_summary(
                    lambda: batch_process(
                        batch_id=batch_id, worker_id="bench-llm", seconds=600
                    )
                )
                section.detail(
                    "cProfile of batch_process over 200 profiles, main thread "
                    "(cumulative time)",
                    profile,
                )
                delete_batch(batch_id, reclaim=False)
    finally:
        stub.terminate()
        stub.wait(timeout=10)

    ideal = concurrency / DELAY
    throughput = count / median(seconds)
    figures = section.table(
        "One worker against a stub server answering in 50 ms",
        [
            "profiles",
            "runs",
            "requests in flight",
            "profiles/s",
            "ideal profiles/s",
            "share",
        ],
    )
    figures.add(
        count, rounds, concurrency, throughput, ideal, f"{throughput / ideal:.0%}"
    )
    section.check(
        "at least 80% of the ideal throughput",
        throughput / ideal >= 0.8,
        f"{throughput / ideal:.0%} ({throughput:.0f} of {ideal:.0f} profiles/s)",
    )
    section.notes.append(
        "The requests in flight are STORYBATCH_LLM_CONCURRENCY (its default); the "
        "stub is a threaded HTTP server in a process of its own."
    )
    return section
