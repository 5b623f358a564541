"""The sweep finds work that no task is coming for."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from batches.models import Batch, Profile
from batches.sweep import LOST_ON_LAST_ATTEMPT, batches_sweep
from batches.tasks import enqueue_batch_work
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

Status = Profile.Status


def waiting_tasks(batch):
    return [
        row["kwargs"]["batch_id"]
        for row in DBTaskResult.objects.filter(
            task_path="batches.tasks.process_batch", status=TaskResultStatus.READY
        ).values_list("args_kwargs", flat=True)
        if row["kwargs"]["batch_id"] == batch.pk
    ]


def test_a_running_batch_whose_task_was_lost_is_enqueued_again():
    batch = make_batch(profiles=3, state=Batch.State.RUNNING)

    report = batches_sweep()

    assert report.enqueued == [batch.pk]
    assert waiting_tasks(batch) == [batch.pk]


def test_a_batch_with_a_waiting_task_is_left_alone():
    batch = make_batch(profiles=3, state=Batch.State.RUNNING)
    enqueue_batch_work(batch.pk)

    report = batches_sweep()

    assert report.enqueued == []
    assert len(waiting_tasks(batch)) == 1


def test_a_claim_that_expired_on_its_last_attempt_fails():
    batch = make_batch(profiles=0, state=Batch.State.RUNNING, max_attempts=2)
    expired = timezone.now() - timedelta(seconds=5)
    make_profiles(
        batch, 1, status=Status.PROCESSING, attempts=2, lease_expires_at=expired
    )
    make_profiles(
        batch,
        1,
        start=2,
        status=Status.PROCESSING,
        attempts=1,
        lease_expires_at=expired,
    )

    report = batches_sweep()

    assert report.failed_lost == 1
    lost = batch.profiles.get(external_id="T000001")
    assert (lost.status, lost.last_error) == (Status.FAILED, LOST_ON_LAST_ATTEMPT)
    # The other one has attempts left: enqueued to be claimed again.
    assert report.enqueued == [batch.pk]


def test_profiles_waiting_out_a_backoff_get_a_task_when_they_are_due():
    batch = make_batch(profiles=0, state=Batch.State.RUNNING)
    due = timezone.now() + timedelta(minutes=5)
    make_profiles(batch, 1, available_at=due)

    batches_sweep()

    task = DBTaskResult.objects.get(task_path="batches.tasks.process_batch")
    assert abs((task.run_after - due).total_seconds()) < 1


def test_a_running_batch_with_nothing_left_is_finished():
    batch = make_batch(profiles=2, state=Batch.State.RUNNING, status=Status.COMPLETED)

    report = batches_sweep()

    assert report.finished == [batch.pk]
    batch.refresh_from_db()
    assert batch.state == Batch.State.FINISHED


def test_the_sweep_command_reports_what_it_did(capsys):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)

    call_command("sweep_batches")

    assert f"1 batches re-enqueued [{batch.pk}]" in capsys.readouterr().out


def test_starting_a_batch_keeps_one_sweep_scheduled(commit, storybatch_settings):
    from batches.models import BatchEvent
    from batches.services import batch_start
    from batches.tasks import ensure_sweep_scheduled

    storybatch_settings(SWEEP_SECONDS=30)
    batch = make_batch(profiles=1)
    with commit():
        batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
    ensure_sweep_scheduled()

    sweeps = DBTaskResult.objects.filter(task_path="batches.tasks.sweep_batches")
    assert sweeps.count() == 1
    wait = (sweeps.get().run_after - timezone.now()).total_seconds()
    assert 25 < wait <= 30


def test_a_dead_claim_in_a_cancelled_batch_is_given_back():
    batch = make_batch(profiles=0, state=Batch.State.CANCELLED)
    expired = timezone.now() - timedelta(seconds=5)
    make_profiles(batch, 1, status=Status.PROCESSING, lease_expires_at=expired)

    report = batches_sweep()

    assert report.released_cancelled == 1
    assert batch.profiles.get().status == Status.PENDING
