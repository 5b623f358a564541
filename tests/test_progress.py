"""Progress is counted by the database, in one query, never in Python."""

import pytest
from django.core.management import call_command
from django.db.models.query import QuerySet

from batches.models import Batch, Profile
from batches.querysets import Progress
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

Status = Profile.Status


def mixed_batch():
    batch = make_batch(profiles=4, state=Batch.State.RUNNING)
    make_profiles(batch, 3, start=10, status=Status.PROCESSING)
    make_profiles(batch, 5, start=20, status=Status.COMPLETED)
    make_profiles(batch, 1, start=30, status=Status.COMPLETED, story="")
    make_profiles(batch, 2, start=40, status=Status.FAILED)
    return batch


def test_one_batch_is_counted_with_one_aggregate_query(django_assert_num_queries):
    batch = mixed_batch()

    # SELECT COUNT(...) FILTER (...) ... FROM profile WHERE batch_id = ?
    with django_assert_num_queries(1):
        progress = Profile.objects.filter(batch=batch).progress()

    assert progress == Progress(
        total=15, pending=4, processing=3, completed=6, failed=2, successful=5
    )
    assert progress.done == 8
    assert progress.percent == 53.3
    assert progress.is_done is False


def test_an_empty_batch_reports_zeros_not_none():
    batch = make_batch()

    progress = Profile.objects.filter(batch=batch).progress()
    annotated = Batch.objects.with_progress().get(pk=batch.pk)

    assert progress == Progress()
    assert progress.percent == 0.0
    assert (annotated.total, annotated.successful, annotated.prompt_tokens) == (0, 0, 0)
    assert Progress.of(annotated) == Progress()


@pytest.mark.parametrize("batches", [1, 50])
def test_a_list_of_batches_costs_one_query_however_long(
    batches, django_assert_num_queries
):
    for _ in range(batches):
        mixed_batch()

    # SELECT batch.*, COUNT(profile.id) FILTER (...) x8 ... GROUP BY batch.id
    with django_assert_num_queries(1):
        listed = list(Batch.objects.with_progress())

    assert len(listed) == batches
    assert {(b.total, b.completed, b.successful, b.failed) for b in listed} == {
        (15, 6, 5, 2)
    }


def test_counts_of_one_batch_leave_other_batches_out():
    mixed_batch()
    small = make_batch(profiles=2)

    assert Profile.objects.filter(batch=small).progress().total == 2
    assert Batch.objects.with_progress().get(pk=small.pk).total == 2


@pytest.fixture
def profiles_never_loaded(monkeypatch):
    """Fail any attempt to load Profile rows into Python."""
    original_fetch = QuerySet._fetch_all
    original_len = QuerySet.__len__

    def guarded_fetch(queryset):
        if queryset.model is Profile:
            pytest.fail("profile rows were loaded into Python")
        return original_fetch(queryset)

    def guarded_len(queryset):
        if queryset.model is Profile:
            pytest.fail("len() was called on a queryset of profiles")
        return original_len(queryset)

    monkeypatch.setattr(QuerySet, "_fetch_all", guarded_fetch)
    monkeypatch.setattr(QuerySet, "__len__", guarded_len)


def test_no_progress_path_loads_profiles_or_calls_len(profiles_never_loaded, capsys):
    batch = mixed_batch()

    Profile.objects.filter(batch=batch).progress()
    list(Batch.objects.with_progress())
    call_command("batch_status")
    call_command("batch_status", str(batch.pk))

    out = capsys.readouterr().out
    assert "53.3%" in out

    # The guard itself works: loading the rows would have been caught.
    with pytest.raises(pytest.fail.Exception):
        list(Profile.objects.filter(batch=batch))


def test_a_page_of_batches_is_counted_in_its_own_order_with_one_query(
    django_assert_num_queries,
):
    first, second, third = mixed_batch(), make_batch(profiles=2), mixed_batch()
    empty = make_batch()
    page = [third, empty, first, second]

    # SELECT batch_id, COUNT(...) FILTER (...) ... FROM profile
    # WHERE batch_id IN (...) GROUP BY batch_id
    with django_assert_num_queries(1):
        counted = Batch.objects.progress_of(page)

    assert [batch.pk for batch in counted] == [third.pk, empty.pk, first.pk, second.pk]
    assert [batch.total for batch in counted] == [15, 0, 15, 2]
    assert Progress.of(counted[0]) == Progress(
        total=15, pending=4, processing=3, completed=6, failed=2, successful=5
    )
