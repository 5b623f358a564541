"""Pruning old finished batches, with a dry run."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from batches.models import Batch, BatchEvent, Profile
from tests.factories import make_batch

pytestmark = pytest.mark.django_db


def aged(state, days, profiles=2):
    batch = make_batch(profiles=profiles, state=state)
    Batch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - timedelta(days=days)
    )
    return batch


@pytest.fixture
def batches():
    return {
        "old finished": aged(Batch.State.FINISHED, 40),
        "old cancelled": aged(Batch.State.CANCELLED, 40, profiles=1),
        "recent": aged(Batch.State.FINISHED, 5),
        "running": make_batch(profiles=1, state=Batch.State.RUNNING),
    }


def prune(*args):
    out = io.StringIO()
    call_command("prune_batches", *args, stdout=out)
    return out.getvalue()


def test_dry_run_lists_and_deletes_nothing(batches):
    out = prune("--days", "30", "--dry-run")

    assert "Would delete 2 batches, 3 profiles." in out
    assert Batch.objects.count() == 4


def test_prune_deletes_old_ended_batches_and_keeps_the_record(batches):
    out = prune("--days", "30")

    assert "Deleted 2 batches, 3 profiles." in out
    assert set(Batch.objects.values_list("pk", flat=True)) == {
        batches["recent"].pk,
        batches["running"].pk,
    }
    assert Profile.objects.count() == 3
    pruned = BatchEvent.objects.filter(action=BatchEvent.Action.PRUNED)
    assert sorted(pruned.values_list("batch_name", flat=True)) == sorted(
        [batches["old finished"].name, batches["old cancelled"].name]
    )
    assert set(pruned.values_list("batch", flat=True)) == {None}


def test_a_negative_age_is_refused():
    with pytest.raises(CommandError, match="--days must be zero or more"):
        prune("--days", "-1")
