"""Reset, retry and cancel, including while workers hold claims."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from batches.exceptions import StateConflict
from batches.generators import Story
from batches.models import Batch, BatchEvent, Profile
from batches.processing import claim_complete, profile_claim
from batches.services import (
    ResetScope,
    batch_cancel,
    batch_reset,
    batch_retry,
    batch_start,
)
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

Status = Profile.Status
COMMAND = BatchEvent.Source.COMMAND


def queued_tasks():
    return DBTaskResult.objects.filter(task_path="batches.tasks.process_batch").count()


def test_reset_puts_failed_and_stuck_profiles_back_and_enqueues_them(commit):
    batch = make_batch(profiles=2, state=Batch.State.FINISHED, status=Status.FAILED)
    make_profiles(batch, 3, start=10, status=Status.COMPLETED)
    stuck = make_batch(profiles=0, state=Batch.State.RUNNING)
    make_profiles(
        stuck,
        1,
        status=Status.PROCESSING,
        lease_expires_at=timezone.now() - timedelta(minutes=1),
        claim_token="old",
    )

    with commit():
        assert batch_reset(batch=batch, source=COMMAND) == 2
        assert batch_reset(batch=stuck, source=COMMAND) == 1

    batch.refresh_from_db()
    assert batch.state == Batch.State.RUNNING
    assert batch.finished_at is None
    assert batch.profiles.pending().count() == 2
    assert batch.profiles.completed().count() == 3
    assert stuck.profiles.get().claim_token == ""
    assert queued_tasks() == 3


def test_reset_is_idempotent(commit):
    batch = make_batch(profiles=2, state=Batch.State.FINISHED, status=Status.FAILED)

    with commit():
        first = batch_reset(batch=batch, source=COMMAND)
        second = batch_reset(batch=batch, source=COMMAND)

    assert (first, second) == (2, 0)
    assert batch.profiles.pending().count() == 2


def test_reset_leaves_live_claims_alone_unless_forced():
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)
    claim = profile_claim(batch_id=batch.pk, worker_id="w1")

    assert batch_reset(batch=batch, source=COMMAND) == 0
    assert claim_complete(claim, Story(text="kept")) is True

    make_profiles(batch, 1, start=2)
    forced = profile_claim(batch_id=batch.pk, worker_id="w1")
    assert batch_reset(batch=batch, source=COMMAND, force=True) == 1
    assert claim_complete(forced, Story(text="discarded")) is False
    assert batch.profiles.get(pk=forced.profile_id).status == Status.PENDING


def test_a_late_answer_after_a_reset_is_discarded():
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)
    claim = profile_claim(batch_id=batch.pk, worker_id="w1")
    Profile.objects.filter(pk=claim.profile_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert batch_reset(batch=batch, source=COMMAND) == 1
    assert claim_complete(claim, Story(text="too late")) is False

    profile = batch.profiles.get()
    assert (profile.status, profile.story, profile.attempts) == (Status.PENDING, "", 0)


def test_reset_all_generates_every_story_again():
    batch = make_batch(profiles=3, state=Batch.State.FINISHED, status=Status.COMPLETED)

    assert batch_reset(batch=batch, source=COMMAND, scope=ResetScope.ALL) == 3

    assert batch.profiles.pending().count() == 3
    assert not batch.profiles.filter(has_story=True).exists()


def test_retry_takes_failed_profiles_only():
    batch = make_batch(profiles=1, state=Batch.State.RUNNING, status=Status.FAILED)
    make_profiles(
        batch,
        1,
        start=2,
        status=Status.PROCESSING,
        lease_expires_at=timezone.now() - timedelta(minutes=1),
    )

    assert batch_retry(batch=batch, source=COMMAND) == 1
    assert batch.profiles.processing().count() == 1


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (Batch.State.DRAFT, "reset"),
        (Batch.State.CANCELLED, "reset"),
        (Batch.State.RUNNING, "start"),
        (Batch.State.CANCELLED, "start"),
        (Batch.State.FINISHED, "start"),
        (Batch.State.FINISHED, "cancel"),
        (Batch.State.CANCELLED, "cancel"),
    ],
)
def test_actions_that_do_not_fit_the_state_conflict(state, action):
    batch = make_batch(profiles=1, state=state)
    service = {"reset": batch_reset, "start": batch_start, "cancel": batch_cancel}[
        action
    ]

    with pytest.raises(StateConflict, match=f"is {state}"):
        service(batch=batch, source=COMMAND)

    batch.refresh_from_db()
    assert batch.state == state


def test_every_action_is_recorded_with_who_and_where(commit, operator):
    batch = make_batch(profiles=1)

    with commit():
        batch_start(batch=batch, source=BatchEvent.Source.API, actor=operator)
    batch_cancel(batch=batch, source=BatchEvent.Source.ADMIN, actor=operator)

    events = list(
        batch.events.order_by("id").values_list("action", "source", "actor__username")
    )
    assert events == [
        ("started", "api", "operator"),
        ("cancelled", "admin", "operator"),
    ]


def test_starting_an_empty_batch_finishes_it(commit):
    batch = make_batch(profiles=0)

    with commit():
        started = batch_start(batch=batch, source=COMMAND)

    assert started.state == Batch.State.FINISHED
