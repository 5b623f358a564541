"""Every start, reset, retry, cancel and delete, through every door, is
recorded with who did it, through which door and what it changed, and the
record can be read back per batch."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, BatchEvent, Profile
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

State = Batch.State
Action = BatchEvent.Action
ADMIN_LIST_URL = reverse("admin:batches_batch_changelist")


def finished_with_failures():
    batch = make_batch(state=State.FINISHED, finished_at=timezone.now())
    make_profiles(batch, 2, status=Profile.Status.FAILED, last_error="boom")
    make_profiles(batch, 1, status=Profile.Status.COMPLETED, start=3)
    return batch


# (how to make the batch, the action recorded, what its details hold)
SETUPS = {
    "start": (lambda: make_batch(profiles=2), Action.STARTED, {}),
    "reset": (finished_with_failures, Action.RESET, {"profiles": 2}),
    "reset_all": (finished_with_failures, Action.RESET, {"profiles": 3}),
    "retry": (finished_with_failures, Action.RETRIED, {"profiles": 2}),
    "cancel": (
        lambda: make_batch(profiles=2, state=State.RUNNING),
        Action.CANCELLED,
        {},
    ),
    "delete": (finished_with_failures, Action.DELETED, {"profiles": 3}),
}


def through_api(client, batch, name):
    if name == "delete":
        return client.delete(f"/api/batches/{batch.pk}/")
    path = "reset" if name == "reset_all" else name
    body = {"scope": "all"} if name == "reset_all" else {}
    return client.post(f"/api/batches/{batch.pk}/{path}/", body, format="json")


ADMIN_ACTIONS = {
    "start": "start",
    "reset": "reset_failed",
    "reset_all": "reset_all",
    "retry": "retry_failed",
    "cancel": "cancel",
    "delete": "delete_selected",
}


def through_admin(client, batch, name):
    data = {"action": ADMIN_ACTIONS[name], "_selected_action": [batch.pk]}
    if name == "delete":
        data["post"] = "yes"  # the confirmation page's answer
    return client.post(ADMIN_LIST_URL, data)


def recorded(batch, action):
    return BatchEvent.objects.get(batch_name=batch.name, action=action)


@pytest.mark.parametrize("name", SETUPS)
def test_each_api_action_records_the_operator_and_the_api(
    operator_client, operator, name
):
    make, action, details = SETUPS[name]
    batch = make()

    response = through_api(operator_client, batch, name)

    assert response.status_code in (200, 204)
    event = recorded(batch, action)
    assert (event.source, event.actor) == (BatchEvent.Source.API, operator)
    assert details.items() <= event.details.items()


@pytest.mark.parametrize("name", SETUPS)
def test_each_admin_action_records_the_staff_member_and_the_admin(
    admin_client, admin_user, name
):
    make, action, details = SETUPS[name]
    batch = make()

    through_admin(admin_client, batch, name)

    event = recorded(batch, action)
    assert (event.source, event.actor) == (BatchEvent.Source.ADMIN, admin_user)
    assert details.items() <= event.details.items()


def test_a_reset_records_its_scope(operator_client):
    batch = finished_with_failures()

    through_api(operator_client, batch, "reset_all")

    assert recorded(batch, Action.RESET).details == {
        "scope": "all",
        "force": False,
        "profiles": 3,
    }


@pytest.mark.parametrize(
    ("make", "command", "action"),
    [
        (lambda: make_batch(profiles=1), "start_batch", Action.STARTED),
        (finished_with_failures, "reset_batches", Action.RESET),
    ],
)
def test_each_command_records_the_command_and_no_person(make, command, action):
    batch = make()

    call_command(command, str(batch.pk))

    event = recorded(batch, action)
    assert (event.source, event.actor) == (BatchEvent.Source.COMMAND, None)


def test_pruning_records_the_command_and_outlives_the_batch():
    batch = make_batch(
        profiles=2,
        state=State.FINISHED,
        finished_at=timezone.now() - datetime.timedelta(days=40),
    )

    call_command("prune_batches", "--days", "30")

    event = recorded(batch, Action.PRUNED)
    assert (event.source, event.actor, event.batch) == (
        BatchEvent.Source.COMMAND,
        None,
        None,
    )
    assert event.details["profiles"] == 2


def test_the_history_reads_back_through_the_api(operator_client, admin_client):
    batch = finished_with_failures()
    through_admin(admin_client, batch, "reset")
    through_api(operator_client, batch, "retry")

    response = operator_client.get(f"/api/batches/{batch.pk}/events/")

    assert response.status_code == 200
    history = [
        (event["action"], event["source"], event["actor"])
        for event in response.json()["results"]
    ]
    assert sorted(history) == [
        ("reset", "admin", "admin"),
        ("retried", "api", "operator"),
    ]


def test_the_history_shows_in_the_admin(admin_client, operator_client):
    batch = finished_with_failures()
    through_api(operator_client, batch, "retry")

    page = admin_client.get(reverse("admin:batches_batch_change", args=[batch.pk]))

    assert page.status_code == 200
    assert "retried" in page.content.decode().lower()
    assert "operator" in page.content.decode()
