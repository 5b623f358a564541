"""The actions on batches: start, reset, retry, cancel, and reset of many."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from batches.models import Batch, BatchEvent, Profile
from batches.tasks import process_batch
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

State = Batch.State
Status = Profile.Status


def act(client, batch, name, body=None):
    return client.post(f"/api/batches/{batch.pk}/{name}/", body or {}, format="json")


def batch_work_enqueued(batch):
    return DBTaskResult.objects.filter(
        task_path=process_batch.module_path, args_kwargs__kwargs__batch_id=batch.pk
    ).count()


def make_troubled_batch(state=State.RUNNING):
    """A batch with 2 pending, 3 completed, 2 failed, 1 stuck and 1 live
    claim."""
    now = timezone.now()
    batch = make_batch(profiles=2, state=state)
    make_profiles(batch, 3, status=Status.COMPLETED, start=100)
    make_profiles(batch, 2, status=Status.FAILED, start=200, last_error="Boom.")
    make_profiles(
        batch,
        1,
        status=Status.PROCESSING,
        start=300,
        claim_token="old",
        lease_expires_at=now - timedelta(minutes=5),
    )
    make_profiles(
        batch,
        1,
        status=Status.PROCESSING,
        start=400,
        claim_token="live",
        lease_expires_at=now + timedelta(minutes=5),
    )
    return batch


def statuses(batch):
    return dict(
        Profile.objects.filter(batch=batch)
        .values_list("external_id", "status")
        .order_by("external_id")
    )


# -- start -------------------------------------------------------------------------


def test_start_runs_the_batch_and_enqueues_its_work(operator_client, operator, commit):
    batch = make_batch(profiles=5)

    with commit():
        response = act(operator_client, batch, "start")

    assert response.status_code == 200
    assert response.data["state"] == "running"
    assert response.data["started_at"] is not None
    assert response.data["progress"]["pending"] == 5
    assert batch_work_enqueued(batch) >= 1
    event = BatchEvent.objects.get(batch=batch, action=BatchEvent.Action.STARTED)
    assert (event.source, event.actor) == ("api", operator)


def test_start_of_an_empty_batch_finishes_it(operator_client, commit):
    batch = make_batch()

    with commit():
        response = act(operator_client, batch, "start")

    assert response.status_code == 200
    assert response.data["state"] == "finished"


@pytest.mark.parametrize("state", [State.RUNNING, State.CANCELLED, State.FINISHED])
def test_start_of_a_batch_that_is_not_a_draft_is_a_conflict(operator_client, state):
    batch = make_batch(profiles=2, state=state)

    response = act(operator_client, batch, "start")

    assert response.status_code == 409
    assert response.data["detail"] == (
        f"Batch {batch.pk} is {state}; only a draft batch can be started."
    )
    batch.refresh_from_db()
    assert batch.state == state


# -- reset ---------------------------------------------------------------------------


def test_reset_puts_failed_and_stuck_profiles_back(operator_client, commit):
    batch = make_troubled_batch()

    with commit():
        response = act(operator_client, batch, "reset")

    assert response.status_code == 200
    assert response.data["reset"] == 3
    assert response.data["progress"]["pending"] == 5
    assert response.data["progress"]["processing"] == 1
    assert statuses(batch)["T000400"] == Status.PROCESSING
    assert batch_work_enqueued(batch) >= 1


def test_reset_with_scope_all_resets_completed_profiles_too(operator_client):
    batch = make_troubled_batch(state=State.FINISHED)

    response = act(operator_client, batch, "reset", {"scope": "all"})

    assert response.status_code == 200
    assert response.data["reset"] == 8
    assert response.data["state"] == "running"
    assert statuses(batch)["T000400"] == Status.PROCESSING


def test_forced_reset_takes_live_claims_too(operator_client):
    batch = make_troubled_batch()

    response = act(operator_client, batch, "reset", {"force": True})

    assert response.data["reset"] == 4
    assert statuses(batch)["T000400"] == Status.PENDING


def test_reset_twice_resets_nothing_the_second_time(operator_client):
    batch = make_troubled_batch()
    act(operator_client, batch, "reset")

    response = act(operator_client, batch, "reset")

    assert response.status_code == 200
    assert response.data["reset"] == 0


@pytest.mark.parametrize("state", [State.DRAFT, State.CANCELLED])
def test_reset_of_a_draft_or_cancelled_batch_is_a_conflict(operator_client, state):
    batch = make_batch(profiles=2, state=state, status=Status.FAILED)

    response = act(operator_client, batch, "reset")

    assert response.status_code == 409
    assert f"is {state}" in response.data["detail"]
    assert set(statuses(batch).values()) == {Status.FAILED}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"scope": "everything"}, "scope"),
        ({"scope": 5}, "scope"),
        ({"force": "perhaps"}, "force"),
        ({"force": [True]}, "force"),
    ],
)
def test_reset_refuses_bad_options(operator_client, body, field):
    batch = make_troubled_batch()

    response = act(operator_client, batch, "reset", body)

    assert response.status_code == 400
    assert field in response.data
    assert statuses(batch)["T000200"] == Status.FAILED


@pytest.mark.parametrize("body", ["{not json", "[1]", "null", "12"])
def test_reset_refuses_a_body_that_is_not_an_object(operator_client, body):
    batch = make_troubled_batch()

    response = operator_client.generic(
        "POST", f"/api/batches/{batch.pk}/reset/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert statuses(batch)["T000200"] == Status.FAILED


# -- retry and cancel ---------------------------------------------------------------


def test_retry_gives_failed_profiles_new_attempts(operator_client, operator):
    batch = make_troubled_batch()

    response = act(operator_client, batch, "retry")

    assert response.status_code == 200
    assert response.data["reset"] == 2
    assert statuses(batch)["T000300"] == Status.PROCESSING
    event = BatchEvent.objects.get(batch=batch, action=BatchEvent.Action.RETRIED)
    assert (event.source, event.actor) == ("api", operator)


def test_retry_of_a_draft_is_a_conflict(operator_client):
    response = act(operator_client, make_batch(profiles=1), "retry")

    assert response.status_code == 409


@pytest.mark.parametrize("state", [State.DRAFT, State.RUNNING])
def test_cancel_stops_a_batch(operator_client, state):
    batch = make_batch(profiles=3, state=state)

    response = act(operator_client, batch, "cancel")

    assert response.status_code == 200
    assert response.data["state"] == "cancelled"
    assert response.data["finished_at"] is not None


@pytest.mark.parametrize("state", [State.FINISHED, State.CANCELLED])
def test_cancel_of_a_finished_batch_is_a_conflict(operator_client, state):
    batch = make_batch(profiles=3, state=state)

    response = act(operator_client, batch, "cancel")

    assert response.status_code == 409
    assert "only a draft or running batch can be cancelled" in response.data["detail"]


@pytest.mark.parametrize("name", ["start", "reset", "retry", "cancel"])
def test_actions_on_an_unknown_batch_are_404(operator_client, name):
    response = operator_client.post(f"/api/batches/987654/{name}/", {}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["start", "reset", "retry", "cancel"])
def test_actions_answer_only_post(operator_client, name):
    batch = make_batch()

    response = operator_client.get(f"/api/batches/{batch.pk}/{name}/")

    assert response.status_code == 405


# -- reset of many batches -------------------------------------------------------------

MANY = "/api/batches/reset/"


def test_reset_of_chosen_batches_answers_each_count(operator_client):
    first = make_troubled_batch()
    second = make_troubled_batch(state=State.FINISHED)
    untouched = make_troubled_batch()
    draft = make_batch(profiles=1, status=Status.FAILED)

    response = operator_client.post(
        MANY, {"ids": [second.pk, first.pk, draft.pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.data["total"] == 6
    assert response.data["results"] == [
        {"batch": first.pk, "reset": 3},
        {"batch": second.pk, "reset": 3},
        {"batch": draft.pk, "reset": None},
    ]
    assert statuses(untouched)["T000200"] == Status.FAILED


def test_reset_without_ids_takes_every_batch_needing_one(operator_client):
    troubled = make_troubled_batch()
    healthy = make_batch(profiles=3, state=State.RUNNING)

    response = operator_client.post(MANY, {"scope": "failed"}, format="json")

    assert response.status_code == 200
    assert response.data["results"] == [{"batch": troubled.pk, "reset": 3}]
    assert healthy.pk not in [item["batch"] for item in response.data["results"]]


def test_reset_of_many_with_an_unknown_id_changes_nothing(operator_client):
    batch = make_troubled_batch()

    response = operator_client.post(MANY, {"ids": [batch.pk, 99999]}, format="json")

    assert response.status_code == 400
    assert response.data["ids"] == ["No batch with the id 99999."]
    assert statuses(batch)["T000200"] == Status.FAILED


@pytest.mark.parametrize(
    "ids",
    [[], "1", ["one"], [0], [-3], [10**30], [None], [1.5], list(range(1, 1002))],
)
def test_reset_of_many_refuses_bad_ids(operator_client, ids):
    batch = make_troubled_batch()

    response = operator_client.post(MANY, {"ids": ids}, format="json")

    assert response.status_code == 400
    assert "ids" in response.data
    assert statuses(batch)["T000200"] == Status.FAILED
