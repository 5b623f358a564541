"""The batch list, a batch's detail and progress, and deleting a batch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Batch, BatchEvent, Profile
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

LIST = "/api/batches/"


def detail(batch_or_id):
    return f"/api/batches/{getattr(batch_or_id, 'pk', batch_or_id)}/"


def test_list_gives_each_batch_its_progress(reader_client):
    batch = make_batch(profiles=4, state=Batch.State.RUNNING)
    make_profiles(batch, 2, status=Profile.Status.COMPLETED, start=10)
    make_profiles(batch, 1, status=Profile.Status.FAILED, start=20)
    make_batch(profiles=3)

    response = reader_client.get(LIST)

    assert response.status_code == 200
    assert response.data["count"] == 2
    first = next(item for item in response.data["results"] if item["id"] == batch.pk)
    assert first["progress"] == {
        "total": 7,
        "pending": 4,
        "processing": 0,
        "completed": 2,
        "failed": 1,
        "successful": 2,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "percent": 42.9,
    }


def test_list_shows_the_newest_batch_first(reader_client):
    older = make_batch(created_at=timezone.now() - timedelta(days=1))
    newer = make_batch()

    response = reader_client.get(LIST)

    assert [item["id"] for item in response.data["results"]] == [newer.pk, older.pk]


@pytest.mark.parametrize("batches", [1, 50])
def test_list_costs_the_same_queries_for_one_batch_or_fifty(
    reader_client, django_assert_num_queries, batches
):
    for _ in range(batches):
        make_batch(profiles=3)

    # 1. COUNT(*) of the batches, for the page's total
    # 2. the page of batches, their creators joined
    # 3. their profiles counted, grouped by batch
    # (force_authenticate: no query for the user)
    with django_assert_num_queries(3):
        response = reader_client.get(LIST, {"page_size": 100})

    assert len(response.data["results"]) == batches


def test_list_filters_by_state(reader_client):
    running = make_batch(state=Batch.State.RUNNING)
    make_batch()

    response = reader_client.get(LIST, {"state": "running"})

    assert [item["id"] for item in response.data["results"]] == [running.pk]


def test_list_searches_names(reader_client):
    wanted = make_batch(name="Senate members")
    make_batch(name="House members")

    response = reader_client.get(LIST, {"search": "senate"})

    assert [item["id"] for item in response.data["results"]] == [wanted.pk]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"state": "sleeping"}, "state"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_list_refuses_bad_filters(reader_client, query, field):
    response = reader_client.get(LIST, query)

    assert response.status_code == 400
    assert field in response.data


def test_list_pages(reader_client):
    for _ in range(3):
        make_batch()

    response = reader_client.get(LIST, {"page_size": 2})

    assert response.data["count"] == 3
    assert len(response.data["results"]) == 2
    assert response.data["next"]


def test_detail_gives_the_batch_and_its_progress(reader_client, operator):
    batch = make_batch(
        profiles=2,
        created_by=operator,
        template="{{ name }}",
        options={"model": "small", "temperature": 0.5},
    )

    response = reader_client.get(detail(batch))

    assert response.status_code == 200
    assert response.data["name"] == batch.name
    assert response.data["created_by"] == "operator"
    assert response.data["options"] == {"model": "small", "temperature": 0.5}
    assert response.data["progress"]["total"] == 2


def test_detail_never_shows_options_beyond_model_and_temperature(reader_client):
    # Set in the admin or by a command, never through the API.
    batch = make_batch(options={"model": "m", "api_key": "sk-secret", "base_url": "x"})

    response = reader_client.get(detail(batch))

    assert response.data["options"] == {"model": "m"}
    assert "sk-secret" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/batches/999999/",
        "/api/batches/abc/",
        "/api/batches/-1/",
        f"/api/batches/{10**30}/",
        "/api/batches/1.5/",
        "/api/no-such-thing/",
    ],
)
def test_unknown_or_malformed_ids_answer_404(reader_client, path):
    make_batch()

    response = reader_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_routes_answer_without_their_trailing_slash(reader_client):
    batch = make_batch()

    response = reader_client.get(f"/api/batches/{batch.pk}")

    assert response.status_code == 200
    assert response.data["id"] == batch.pk


# -- Progress --------------------------------------------------------------------


def test_progress_gives_counts_state_times_and_time_left(
    reader_client, django_assert_num_queries
):
    started = timezone.now() - timedelta(seconds=100)
    batch = make_batch(profiles=30, state=Batch.State.RUNNING, started_at=started)
    make_profiles(batch, 10, status=Profile.Status.COMPLETED, start=100)

    # 1. the batch with its counts, in one grouped query
    with django_assert_num_queries(1):
        response = reader_client.get(f"/api/batches/{batch.pk}/progress/")

    assert response.status_code == 200
    data = response.data
    assert data["state"] == "running"
    assert data["progress"]["total"] == 40
    assert data["progress"]["percent"] == 25.0
    assert data["started_at"] is not None
    assert data["finished_at"] is None
    # 10 done in ~100 s, 30 to go: about 300 s.
    assert 290 <= data["seconds_left"] <= 310


@pytest.mark.parametrize(
    "state, completed",
    [(Batch.State.RUNNING, 0), (Batch.State.FINISHED, 5), (Batch.State.DRAFT, 0)],
)
def test_progress_has_no_estimate_without_a_rate(reader_client, state, completed):
    batch = make_batch(profiles=5 - completed, state=state)
    make_profiles(batch, completed, status=Profile.Status.COMPLETED, start=100)

    response = reader_client.get(f"/api/batches/{batch.pk}/progress/")

    assert response.data["seconds_left"] is None


# -- Delete ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [Batch.State.DRAFT, Batch.State.FINISHED, Batch.State.CANCELLED]
)
def test_delete_removes_a_batch_that_is_not_running(operator_client, operator, state):
    batch = make_batch(profiles=3, state=state)

    response = operator_client.delete(detail(batch))

    assert response.status_code == 204
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert not Profile.objects.filter(batch_id=batch.pk).exists()
    event = BatchEvent.objects.get(action=BatchEvent.Action.DELETED)
    assert (event.source, event.actor, event.details["profiles"]) == (
        "api",
        operator,
        3,
    )


def test_delete_of_a_running_batch_is_a_conflict(operator_client):
    batch = make_batch(profiles=3, state=Batch.State.RUNNING)

    response = operator_client.delete(detail(batch))

    assert response.status_code == 409
    assert "running" in response.data["detail"]
    assert Profile.objects.filter(batch=batch).count() == 3


def test_delete_of_an_unknown_batch_is_404(operator_client):
    assert operator_client.delete(detail(424242)).status_code == 404
