"""
Processing with the template generator: ``batch_process`` (claim, render,
write, attempt log) against a bare loop that only claims each profile with
one conditional UPDATE and writes a fixed story with another. Then one
worker process against two on the same batch, as two db_workers would share
it.
"""

import json
import os
import time
import uuid
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from batches.generators import ProfileData
from batches.generators.base import GeneratorConfig
from batches.generators.template import TemplateGenerator
from batches.models import Profile
from batches.processing import batch_process
from bench.data import STORY_TEMPLATE, profile_rows
from bench.fixtures import delete_batch, load_batch
from bench.profiling import profile_summary
from bench.results import Section
from bench.timing import median, ratio

KEY = "processing"
TITLE = "Processing with the template generator"


def _fresh_batch(count, template):
    batch = load_batch(
        name=f"Bench processing {uuid.uuid4().hex[:8]}",
        rows=profile_rows(count, seed=3),
        mixed=False,
        analyze_after=False,
    )
    batch.template = template
    batch.save(update_fields=["template"])
    return batch.pk


def _claim_sql(postgres):
    table = Profile._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    return (
        f"UPDATE {table} SET status = 'processing', claim_token = %s, claimed_by = %s, "
        "lease_expires_at = %s, attempts = attempts + 1, updated_at = %s "
        f"WHERE id = (SELECT id FROM {table} WHERE batch_id = %s "
        f"AND status = 'pending' ORDER BY id LIMIT 1{lock}) AND status = 'pending' "
        "RETURNING id, name, fields"
    )


def _write_sql():
    table = Profile._meta.db_table
    return (
        f"UPDATE {table} SET status = 'completed', story = %s, claim_token = '', "
        "lease_expires_at = NULL, updated_at = %s WHERE id = %s AND claim_token = %s"
    )


def bare_loop(batch_id, postgres):
    """Claim and write each profile, nothing else; how many it did."""
    claim, write = _claim_sql(postgres), _write_sql()
    done = 0
    with connection.cursor() as cursor:
        while True:
            now = timezone.now()
            token = uuid.uuid4().hex
            lease = now + timedelta(minutes=2)
            cursor.execute(claim, [token, "bare", lease, now, batch_id])
            row = cursor.fetchone()
            if row is None:
                return done
            cursor.execute(
                write, [f"The story of {row[1]}.", timezone.now(), row[0], token]
            )
            done += 1


def _render_all(count, template):
    generator = TemplateGenerator(GeneratorConfig(template=template))
    profiles = [
        ProfileData(external_id=row["bioguide_id"], name=row["full_name"], fields=row)
        for row in profile_rows(count, seed=3)
    ]
    started = time.perf_counter()
    for profile in profiles:
        generator.generate(profile)
    return time.perf_counter() - started


def _per_worker(ctx, section, count, template):
    rounds = ctx.plan("process_rounds")
    seconds = {"product": [], "bare": []}
    for round_number in range(rounds):
        order = ["product", "bare"] if round_number % 2 == 0 else ["bare", "product"]
        for kind in order:
            batch_id = _fresh_batch(count, template)
            started = time.perf_counter()
            if kind == "product":
                done = batch_process(
                    batch_id=batch_id, worker_id="bench", seconds=600
                ).completed
            else:
                done = bare_loop(batch_id, ctx.postgres)
            seconds[kind].append(time.perf_counter() - started)
            if done != count:
                raise RuntimeError(f"{kind} completed {done} of {count} profiles")
            delete_batch(batch_id, reclaim=False)
    render = _render_all(count, template)

    product, bare = median(seconds["product"]), median(seconds["bare"])
    figures = section.table(
        "One worker, in process",
        [
            "profiles",
            "runs",
            "product profiles/s",
            "bare loop profiles/s",
            "product ms/profile",
            "bare loop ms/profile",
            "rendering alone ms/profile",
            "product / bare",
        ],
    )
    figures.add(
        count,
        rounds,
        count / product,
        count / bare,
        1000 * product / count,
        1000 * bare / count,
        1000 * render / count,
        ratio(product, bare),
    )
    if product / bare > 3:
        batch_id = _fresh_batch(min(count, 300), template)
        section.detail(
            "cProfile of batch_process over 300 profiles (cumulative time)",
            profile_summary(
                lambda: batch_process(batch_id=batch_id, worker_id="bench", seconds=600)
            ),
        )
        delete_batch(batch_id, reclaim=False)
    section.check(
        "per-worker time within 3x of the bare claim-and-write loop",
        product / bare <= 3,
        f"{product / bare:.2f}x ({1000 * product / count:.2f} against "
        f"{1000 * bare / count:.2f} ms per profile; rendering alone "
        f"{1000 * render / count:.2f} ms)",
    )


def _workers_together(ctx, batch_id, workers):
    """Seconds from the first worker's start to the last one's end."""
    processes = [ctx.start_child("worker", batch_id) for _ in range(workers)]
    try:
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker process did not start")
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, _ = process.communicate(timeout=600)
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    done = sum(r["completed"] for r in results)
    return max(r["finished"] for r in results) - min(
        r["started"] for r in results
    ), done


def _scaling(ctx, section, count, template):
    rounds = ctx.plan("process_rounds")
    seconds = {1: [], 2: []}
    for round_number in range(rounds):
        for workers in (1, 2) if round_number % 2 == 0 else (2, 1):
            batch_id = _fresh_batch(count, template)
            elapsed, done = _workers_together(ctx, batch_id, workers)
            if done != count:
                raise RuntimeError(f"{workers} workers completed {done} of {count}")
            seconds[workers].append(elapsed)
            delete_batch(batch_id, reclaim=False)

    one, two = count / median(seconds[1]), count / median(seconds[2])
    figures = section.table(
        "Worker processes sharing one batch",
        ["profiles", "runs", "1 worker profiles/s", "2 workers profiles/s", "2 / 1"],
    )
    figures.add(count, rounds, one, two, two / one)
    if ctx.postgres:
        section.check(
            "two worker processes at least 1.6x one",
            two / one >= 1.6,
            f"{two / one:.2f}x ({two:.0f} against {one:.0f} profiles/s)",
        )
    else:
        section.notes.append(
            "SQLite takes one writer at a time, so a second worker process "
            "mostly waits; the 1.6x target is PostgreSQL's."
        )


def run(ctx):
    section = Section(KEY, TITLE, ctx.database)
    count = ctx.plan("process_profiles")
    template = STORY_TEMPLATE.read_text(encoding="utf-8")
    _per_worker(ctx, section, count, template)
    _scaling(ctx, section, ctx.plan("scaling_profiles"), template)
    section.notes.append(
        "Every run processes a fresh batch of generated profiles with the story "
        "template of data/congress/story.txt; the bare loop writes a fixed "
        "sentence instead of rendering. The machine has "
        f"{os.cpu_count()} cores, which the database server "
        "shares with the workers."
    )
    return section
