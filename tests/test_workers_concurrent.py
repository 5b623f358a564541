"""Real worker processes sharing batches: concurrency, crashes, stopping.

On PostgreSQL four workers share a batch of 5,000 profiles; on SQLite two
workers share 2,000 (SQLite serialises writers, so more workers only queue).
"""

import time
from collections import Counter

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from batches.models import Batch, BatchEvent, Profile, ProfileAttempt
from batches.services import batch_start
from tests.factories import make_batch
from tests.workers import WorkerProcess, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def finished(batch):
    return lambda: Batch.objects.get(pk=batch.pk).state == Batch.State.FINISHED


def recorded_calls(path):
    if not path.exists():
        return Counter()
    return Counter(line.split()[1] for line in path.read_text().splitlines())


@pytest.fixture
def record_file(tmp_path):
    return tmp_path / "calls.txt"


def test_concurrent_workers_process_each_profile_once(tmp_path, record_file):
    postgres = connection.vendor == "postgresql"
    workers, profiles = (4, 5000) if postgres else (2, 2000)
    batch = make_batch(profiles=profiles, generator="recording")
    processes = [
        WorkerProcess(
            f"w{n}",
            tmp_path,
            STORYBATCH_RECORD_FILE=record_file,
            STORYBATCH_TASKS_PER_BATCH=workers,
            STORYBATCH_TASK_SECONDS=2,
        )
        for n in range(workers)
    ]
    try:
        # Every worker is up before there is work, so that all share it.
        wait_until(
            lambda: all("Starting worker" in p.log() for p in processes),
            timeout=60,
            what="the workers to start",
        )
        batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
        wait_until(finished(batch), timeout=240, what="the batch to finish")
    finally:
        exit_codes = [process.stop() for process in processes]

    logs = "".join(process.log() for process in processes)
    assert "database is locked" not in logs
    assert "Traceback" not in logs
    assert exit_codes == [0] * workers
    assert Profile.objects.filter(batch=batch).completed().count() == profiles
    calls = recorded_calls(record_file)
    assert len(calls) == profiles
    assert set(calls.values()) == {1}, "a profile was generated more than once"
    completed_attempts = ProfileAttempt.objects.filter(
        profile__batch=batch, outcome=ProfileAttempt.Outcome.COMPLETED
    )
    assert completed_attempts.count() == profiles
    assert BatchEvent.objects.filter(batch=batch, action="finished").count() == 1
    # Work was really shared.
    pids = {line.split()[0] for line in record_file.read_text().splitlines()}
    assert len(pids) == workers
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists()


def test_a_killed_worker_loses_nothing(tmp_path, record_file):
    batch = make_batch(profiles=40, generator="recording")
    batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
    # Slow stories, so that the worker is nearly always holding a claim.
    slow = {"STORYBATCH_RECORD_FILE": record_file, "STORYBATCH_RECORD_DELAY": 0.2}
    lease = {"STORYBATCH_LEASE_SECONDS": 2, "STORYBATCH_SWEEP_SECONDS": 1}
    profiles = Profile.objects.filter(batch=batch)

    doomed = WorkerProcess("doomed", tmp_path, **slow, **lease)
    wait_until(
        lambda: profiles.completed().count() >= 3 and profiles.processing().exists(),
        timeout=60,
        what="the first worker to be busy",
    )
    doomed.kill()
    held = set(profiles.processing().values_list("external_id", flat=True))

    survivor = WorkerProcess("survivor", tmp_path, **slow, **lease)
    try:
        wait_until(finished(batch), timeout=120, what="the batch to finish")
    finally:
        survivor.stop()

    assert held, "the killed worker held a profile"
    assert profiles.completed().count() == 40
    retaken = Profile.objects.filter(batch=batch, external_id__in=held)
    assert set(retaken.values_list("attempts", flat=True)) == {2}
    assert set(retaken.values_list("status", flat=True)) == {Profile.Status.COMPLETED}


def test_a_worker_stops_cleanly_on_sigterm(tmp_path, record_file):
    batch = make_batch(profiles=200, generator="recording")
    batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
    worker = WorkerProcess(
        "stopping",
        tmp_path,
        STORYBATCH_RECORD_FILE=record_file,
        STORYBATCH_RECORD_DELAY=0.05,
    )
    wait_until(
        lambda: Profile.objects.filter(batch=batch).completed().count() >= 5,
        timeout=60,
        what="the worker to make progress",
    )

    exit_code = worker.stop(timeout=15)

    assert exit_code == 0
    profiles = Profile.objects.filter(batch=batch)
    assert profiles.processing().count() == 0, "a claim was left behind"
    assert 5 <= profiles.completed().count() < 200
    # The rest is handed over to a task that any worker will pick up.
    assert DBTaskResult.objects.filter(
        task_path="batches.tasks.process_batch", status=TaskResultStatus.READY
    ).exists()

    successor = WorkerProcess("successor", tmp_path, STORYBATCH_RECORD_FILE=record_file)
    try:
        wait_until(finished(batch), timeout=60, what="the batch to finish")
    finally:
        successor.stop()
    assert profiles.completed().count() == 200


def test_reset_while_workers_run_loses_nothing(tmp_path, record_file):
    from batches.services import ResetScope, batch_reset

    batch = make_batch(profiles=150, generator="recording")
    batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
    slow = {"STORYBATCH_RECORD_FILE": record_file, "STORYBATCH_RECORD_DELAY": 0.02}
    processes = [WorkerProcess(f"r{n}", tmp_path, **slow) for n in range(2)]
    try:
        wait_until(
            lambda: Profile.objects.filter(batch=batch).completed().count() >= 30,
            timeout=60,
            what="progress",
        )
        # Take back everything, live claims included, while the workers run.
        reset = batch_reset(
            batch=batch,
            source=BatchEvent.Source.COMMAND,
            scope=ResetScope.ALL,
            force=True,
        )
        wait_until(finished(batch), timeout=120, what="the batch to finish")
    finally:
        for process in processes:
            process.stop()

    assert reset >= 30
    profiles = Profile.objects.filter(batch=batch)
    assert profiles.completed().count() == 150
    assert not profiles.filter(has_story=False).exists()
    # Answers that arrived for claims the reset took back were thrown away.
    discarded = ProfileAttempt.objects.filter(
        profile__batch=batch, outcome=ProfileAttempt.Outcome.DISCARDED
    )
    # Each of the two workers had at most one claim in flight.
    assert discarded.count() <= 2
    assert BatchEvent.objects.filter(batch=batch, action="finished").count() == 1


def test_cancel_stops_pending_profiles_from_starting(tmp_path, record_file):
    from batches.services import batch_cancel

    batch = make_batch(profiles=300, generator="recording")
    batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
    worker = WorkerProcess(
        "c1",
        tmp_path,
        STORYBATCH_RECORD_FILE=record_file,
        STORYBATCH_RECORD_DELAY=0.02,
    )
    try:
        wait_until(
            lambda: sum(recorded_calls(record_file).values()) >= 10,
            timeout=60,
            what="progress",
        )
        batch_cancel(batch=batch, source=BatchEvent.Source.COMMAND)
        started_by_then = sum(recorded_calls(record_file).values())
        wait_until(
            lambda: not Profile.objects.filter(batch=batch).processing().exists(),
            timeout=30,
            what="running profiles to end",
        )
        time.sleep(1)
    finally:
        worker.stop()

    # At most the profile in flight when the cancel landed was started after.
    assert sum(recorded_calls(record_file).values()) <= started_by_then + 1
    assert Profile.objects.filter(batch=batch).pending().count() >= 250
    batch.refresh_from_db()
    assert batch.state == Batch.State.CANCELLED
