"""Failures: which ones are retried, how long they wait, when they stop."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.generators import GenerationError
from batches.models import Batch, Profile, ProfileAttempt
from batches.processing import backoff_seconds, batch_process
from tests.factories import make_batch
from tests.generators import ScriptedGenerator

pytestmark = pytest.mark.django_db

Status = Profile.Status
Outcome = ProfileAttempt.Outcome


@pytest.fixture
def scripted(storybatch_settings):
    storybatch_settings(
        EXTRA_GENERATORS={"scripted": "tests.generators.ScriptedGenerator"},
        BACKOFF_BASE_SECONDS=60,
    )
    ScriptedGenerator.script = {}
    ScriptedGenerator.calls = []
    return ScriptedGenerator


def scripted_batch(profiles=1, **fields):
    return make_batch(
        profiles=profiles, state=Batch.State.RUNNING, generator="scripted", **fields
    )


def make_due(batch):
    """Skip the backoff: the waiting profiles become due now."""
    batch.profiles.pending().update(available_at=timezone.now() - timedelta(seconds=1))


def test_a_failure_that_may_pass_goes_back_to_pending_with_a_backoff(scripted):
    scripted.script = {"T000001": [GenerationError("rate limited", transient=True)]}
    batch = scripted_batch(max_attempts=3)

    report = batch_process(batch_id=batch.pk, seconds=10)

    profile = batch.profiles.get()
    assert report.retrying == 1
    assert profile.status == Status.PENDING
    assert profile.attempts == 1
    assert profile.last_error == "rate limited (attempt 1 of 3, will retry)"
    wait = (profile.available_at - timezone.now()).total_seconds()
    # Base 60 s for the first retry: between half of it and all of it.
    assert 25 < wait <= 60
    assert report.handed_over is True


def test_retries_stop_at_the_attempt_limit_with_the_error_kept(scripted):
    scripted.script = {
        "T000001": [GenerationError("server error 503", transient=True)] * 3
    }
    batch = scripted_batch(max_attempts=3)

    for _ in range(3):
        batch_process(batch_id=batch.pk, seconds=10)
        make_due(batch)

    profile = batch.profiles.get()
    assert profile.status == Status.FAILED
    assert profile.attempts == 3
    assert profile.last_error == "server error 503 (gave up after 3 attempts)"
    outcomes = list(profile.attempt_log.values_list("number", "outcome"))
    assert outcomes == [
        (1, Outcome.RETRYING),
        (2, Outcome.RETRYING),
        (3, Outcome.FAILED),
    ]
    assert scripted.calls == ["T000001"] * 3
    batch.refresh_from_db()
    assert batch.state == Batch.State.FINISHED


def test_a_retried_profile_that_then_succeeds_completes(scripted):
    scripted.script = {
        "T000001": [GenerationError("timeout", transient=True), "Second time lucky."]
    }
    batch = scripted_batch(max_attempts=3)

    batch_process(batch_id=batch.pk, seconds=10)
    make_due(batch)
    batch_process(batch_id=batch.pk, seconds=10)

    profile = batch.profiles.get()
    assert (profile.status, profile.story, profile.attempts) == (
        Status.COMPLETED,
        "Second time lucky.",
        2,
    )
    assert profile.last_error == ""


def test_a_failure_that_will_not_pass_fails_at_once(scripted):
    scripted.script = {"T000001": [GenerationError("bad API key")]}
    batch = scripted_batch(max_attempts=5)

    report = batch_process(batch_id=batch.pk, seconds=10)

    profile = batch.profiles.get()
    assert report.failed == 1
    assert (profile.status, profile.attempts, profile.last_error) == (
        Status.FAILED,
        1,
        "bad API key",
    )


def test_a_crashing_generator_fails_the_profile_not_the_worker(scripted):
    scripted.script = {"T000001": [RuntimeError("boom")]}
    batch = scripted_batch(profiles=2)

    report = batch_process(batch_id=batch.pk, seconds=10)

    assert (report.failed, report.completed) == (1, 1)
    failed = batch.profiles.get(external_id="T000001")
    assert failed.last_error == "Generator error: RuntimeError: boom"


def test_an_empty_story_is_a_failure():
    batch = make_batch(profiles=1, state=Batch.State.RUNNING, template="{{ missing }}")

    batch_process(batch_id=batch.pk, seconds=10)

    profile = batch.profiles.get()
    assert profile.status == Status.FAILED
    assert profile.last_error == "The template rendered an empty story."


def test_backoff_doubles_each_attempt_with_jitter(storybatch_settings):
    storybatch_settings(BACKOFF_BASE_SECONDS=2, BACKOFF_MAX_SECONDS=300)

    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (12, 300)]:
        samples = [backoff_seconds(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        # Jitter: the samples spread out instead of all being equal.
        assert max(samples) - min(samples) > ceiling / 10


def test_backoff_honours_the_servers_retry_after(storybatch_settings):
    storybatch_settings(BACKOFF_BASE_SECONDS=1, BACKOFF_MAX_SECONDS=300)

    assert backoff_seconds(1, retry_after=42) >= 42
    assert backoff_seconds(1, retry_after=10_000) == 300
