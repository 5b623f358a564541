"""Claims, writes and the finishing of batches, in one process."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.generators import Story
from batches.models import Batch, BatchEvent, Profile, ProfileAttempt
from batches.processing import (
    StopFlag,
    batch_finish_if_done,
    batch_process,
    claim_complete,
    claims_complete,
    profile_claim,
    profiles_claim,
)
from batches.services import batch_cancel
from batches.signals import batch_finished
from tests.factories import make_batch
from tests.generators import StoppingGenerator

pytestmark = pytest.mark.django_db

Status = Profile.Status


def running_batch(profiles=3, **fields):
    return make_batch(profiles=profiles, state=Batch.State.RUNNING, **fields)


def expire_lease(profile_id):
    Profile.objects.filter(pk=profile_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_claim_takes_the_oldest_pending_profile_with_a_lease(storybatch_settings):
    storybatch_settings(LEASE_SECONDS=30)
    batch = running_batch()
    first = batch.profiles.order_by("id").first()

    claim = profile_claim(batch_id=batch.pk, worker_id="w1")

    assert claim.profile_id == first.pk
    assert claim.attempt == 1
    first.refresh_from_db()
    assert first.status == Status.PROCESSING
    assert first.claim_token == claim.token
    assert first.claimed_by == "w1"
    lease = (first.lease_expires_at - timezone.now()).total_seconds()
    assert 25 < lease <= 30


def test_a_claimed_profile_is_not_claimed_again_while_its_lease_holds():
    batch = running_batch(profiles=1)

    assert profile_claim(batch_id=batch.pk, worker_id="w1") is not None
    assert profile_claim(batch_id=batch.pk, worker_id="w2") is None


def test_an_expired_claim_is_taken_over_and_the_first_worker_writes_nothing():
    batch = running_batch(profiles=1)
    stale = profile_claim(batch_id=batch.pk, worker_id="w1")
    expire_lease(stale.profile_id)

    fresh = profile_claim(batch_id=batch.pk, worker_id="w2")

    assert fresh.profile_id == stale.profile_id
    assert fresh.attempt == 2
    assert claim_complete(stale, Story(text="late answer")) is False
    assert claim_complete(fresh, Story(text="fresh answer")) is True
    profile = Profile.objects.get(pk=fresh.profile_id)
    assert (profile.status, profile.story) == (Status.COMPLETED, "fresh answer")
    outcomes = list(
        ProfileAttempt.objects.filter(profile=profile).values_list(
            "worker_id", "outcome"
        )
    )
    assert sorted(outcomes) == [
        ("w1", ProfileAttempt.Outcome.DISCARDED),
        ("w2", ProfileAttempt.Outcome.COMPLETED),
    ]


def test_a_cancelled_batch_starts_no_pending_profile():
    batch = running_batch(profiles=2)
    batch_cancel(batch=batch, source=BatchEvent.Source.COMMAND)

    assert profile_claim(batch_id=batch.pk, worker_id="w1") is None
    assert batch.profiles.pending().count() == 2


def test_a_draft_batch_is_not_processed():
    batch = make_batch(profiles=2)

    report = batch_process(batch_id=batch.pk, seconds=5)

    assert report.claimed == 0
    assert batch.profiles.pending().count() == 2


def test_batch_process_completes_every_profile_and_finishes_the_batch():
    batch = running_batch(profiles=12, template="{{ name }}: {{ party }}.")

    report = batch_process(batch_id=batch.pk, worker_id="w1", seconds=30)

    assert (report.claimed, report.completed, report.finished_batch) == (12, 12, True)
    batch.refresh_from_db()
    assert batch.state == Batch.State.FINISHED
    assert batch.finished_at is not None
    assert (
        batch.profiles.get(external_id="T000001").story
        == "Member Number 1: Republican."
    )


def test_a_batch_finishes_exactly_once():
    batch = running_batch(profiles=1)
    Profile.objects.filter(batch=batch).update(status=Status.COMPLETED, story="x")

    outcomes = [batch_finish_if_done(batch.pk) for _ in range(3)]

    assert outcomes == [True, False, False]
    assert BatchEvent.objects.filter(batch=batch, action="finished").count() == 1


def test_a_batch_with_unfinished_profiles_does_not_finish():
    batch = running_batch(profiles=2)
    Profile.objects.filter(pk=batch.profiles.first().pk).update(status=Status.FAILED)

    assert batch_finish_if_done(batch.pk) is False
    batch.refresh_from_db()
    assert batch.state == Batch.State.RUNNING


def test_finishing_sends_the_signal_after_commit(django_capture_on_commit_callbacks):
    batch = running_batch(profiles=1)
    Profile.objects.filter(batch=batch).update(status=Status.COMPLETED, story="x")
    received = []

    def receiver(sender, batch, **kwargs):
        received.append(batch.state)

    batch_finished.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            batch_finish_if_done(batch.pk)
            assert received == []
    finally:
        batch_finished.disconnect(receiver)

    assert received == [Batch.State.FINISHED]


def test_a_stop_request_finishes_the_current_profile_and_hands_over():
    batch = running_batch(profiles=5)
    stop = StopFlag()
    stop.set()

    report = batch_process(batch_id=batch.pk, seconds=30, stop=stop)

    assert report.claimed == 0
    assert report.handed_over is True
    assert batch.profiles.pending().count() == 5


def test_a_stop_gives_back_the_claims_queued_behind_the_requests_in_flight(
    storybatch_settings,
):
    # Two requests in flight and two claims queued behind them; the first
    # request asks the worker to stop.
    storybatch_settings(
        EXTRA_GENERATORS={"stopping": "tests.generators.StoppingGenerator"}
    )
    StoppingGenerator.stop = stop = StopFlag()
    batch = running_batch(profiles=10, generator="stopping")

    report = batch_process(batch_id=batch.pk, seconds=30, stop=stop)

    assert report.claimed == 4
    # The queued two never started; the two in flight each either finished
    # or came up after the stop, and went back too.
    assert report.released >= 2
    assert report.completed + report.released == 4
    assert report.handed_over is True
    assert batch.profiles.filter(status=Status.COMPLETED).count() == report.completed
    assert batch.profiles.pending().count() == 10 - report.completed
    assert not batch.profiles.filter(status=Status.PROCESSING).exists()
    assert set(batch.profiles.pending().values_list("attempts", flat=True)) == {0}


def test_time_budget_hands_the_rest_to_a_new_task(django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    batch = running_batch(profiles=5)

    report = batch_process(batch_id=batch.pk, seconds=0)

    assert report.claimed == 0
    assert report.handed_over is True
    assert (
        DBTaskResult.objects.filter(task_path="batches.tasks.process_batch").count()
        == 1
    )


def test_several_profiles_are_claimed_together_under_one_token():
    batch = running_batch(profiles=5)

    claims = profiles_claim(batch_id=batch.pk, worker_id="w1", limit=3)

    assert [c.profile.external_id for c in claims] == ["T000001", "T000002", "T000003"]
    assert len({c.token for c in claims}) == 1
    assert batch.profiles.processing().count() == 3
    assert len(profiles_claim(batch_id=batch.pk, worker_id="w2", limit=10)) == 2


def test_stories_written_together_skip_a_claim_that_was_reset():
    batch = running_batch(profiles=3)
    claims = profiles_claim(batch_id=batch.pk, worker_id="w1", limit=3)
    lost = claims[1]
    Profile.objects.filter(pk=lost.profile_id).update(
        status=Status.PENDING, claim_token=""
    )

    written = claims_complete(
        [(claim, Story(text=f"s{n}")) for n, claim in enumerate(claims)]
    )

    assert written == 2
    stories = dict(batch.profiles.values_list("external_id", "story"))
    assert stories == {"T000001": "s0", "T000002": "", "T000003": "s2"}
    assert batch.profiles.get(pk=lost.profile_id).status == Status.PENDING
    outcomes = sorted(
        ProfileAttempt.objects.filter(profile__batch=batch).values_list(
            "outcome", flat=True
        )
    )
    assert outcomes == ["completed", "completed", "discarded"]


def test_template_batches_are_claimed_and_written_in_rounds():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = running_batch(profiles=50)

    with CaptureQueriesContext(connection) as queries:
        report = batch_process(batch_id=batch.pk, seconds=30)

    assert report.completed == 50
    # Two rounds of 25 (claim, then write), not a claim and a write for each
    # of the 50 profiles.
    assert len(queries) < 50
