"""Admin actions on batches: what they change, what they say, and who may
use them."""

import pytest
from django.contrib.messages import get_messages
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, BatchEvent, Profile
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

State = Batch.State
Status = Profile.Status
LIST_URL = reverse("admin:batches_batch_changelist")
OPERATE_ACTIONS = ["start", "reset_failed", "reset_all", "retry_failed", "cancel"]


def act(client, action, *batches):
    return client.post(
        LIST_URL,
        {"action": action, "_selected_action": [batch.pk for batch in batches]},
    )


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def status_counts(batch):
    rows = (
        Profile.objects.filter(batch=batch)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


def test_start_runs_a_draft(admin_client, admin_user):
    batch = make_batch(name="Fresh", profiles=3)

    response = act(admin_client, "start", batch)

    batch.refresh_from_db()
    assert batch.state == State.RUNNING
    assert messages_of(response) == [("success", "Started: “Fresh” (running).")]
    event = batch.events.get()
    assert (event.action, event.source, event.actor) == ("started", "admin", admin_user)


def test_start_refuses_a_running_batch_and_starts_the_rest(admin_client):
    busy = make_batch(name="Busy", state=State.RUNNING, profiles=1)
    fresh = make_batch(name="Fresh", profiles=1)
    started_at = busy.started_at

    response = act(admin_client, "start", busy, fresh)

    busy.refresh_from_db()
    fresh.refresh_from_db()
    assert (busy.state, busy.started_at) == (State.RUNNING, started_at)
    assert fresh.state == State.RUNNING
    assert messages_of(response) == [
        (
            "warning",
            f"“Busy” was not started: Batch {busy.pk} is running; only a draft "
            "batch can be started.",
        ),
        ("success", "Started: “Fresh” (running)."),
    ]
    assert not busy.events.exists()


def test_reset_failed_requeues_failed_and_stuck_profiles(admin_client):
    batch = make_batch(name="Troubled", state=State.FINISHED)
    make_profiles(batch, 4, status=Status.COMPLETED)
    make_profiles(batch, 2, status=Status.FAILED, start=10, last_error="Boom.")
    make_profiles(
        batch,
        1,
        status=Status.PROCESSING,
        start=20,
        lease_expires_at=timezone.now() - timezone.timedelta(minutes=5),
    )

    response = act(admin_client, "reset_failed", batch)

    batch.refresh_from_db()
    assert batch.state == State.RUNNING
    assert status_counts(batch) == {"completed": 4, "pending": 3}
    assert messages_of(response) == [
        ("success", "Reset: “Troubled” (3 profiles queued again).")
    ]
    assert batch.events.get().details["scope"] == "failed"


def test_reset_all_requeues_every_profile(admin_client):
    batch = make_batch(name="Again", state=State.FINISHED)
    make_profiles(batch, 4, status=Status.COMPLETED)
    make_profiles(batch, 1, status=Status.FAILED, start=10)

    response = act(admin_client, "reset_all", batch)

    assert status_counts(batch) == {"pending": 5}
    assert not Profile.objects.filter(batch=batch).exclude(story="").exists()
    assert messages_of(response) == [
        ("success", "Reset: “Again” (5 profiles queued again).")
    ]


def test_reset_refuses_a_draft(admin_client):
    batch = make_batch(name="Fresh", profiles=2)

    response = act(admin_client, "reset_all", batch)

    batch.refresh_from_db()
    assert batch.state == State.DRAFT
    assert messages_of(response) == [
        (
            "warning",
            f"“Fresh” was not reset: Batch {batch.pk} is draft; only a running or "
            "finished batch can be reset.",
        )
    ]


def test_retry_gives_failed_profiles_fresh_attempts(admin_client):
    batch = make_batch(name="Flaky", state=State.RUNNING)
    make_profiles(batch, 2, status=Status.FAILED, attempts=3, last_error="Timeout.")
    make_profiles(batch, 1, status=Status.COMPLETED, start=10)

    response = act(admin_client, "retry_failed", batch)

    assert status_counts(batch) == {"pending": 2, "completed": 1}
    assert not Profile.objects.filter(batch=batch, attempts__gt=0).exists()
    assert messages_of(response) == [
        ("success", "Retried: “Flaky” (2 profiles queued again).")
    ]
    assert batch.events.get().action == BatchEvent.Action.RETRIED


def test_cancel_stops_a_running_batch_and_refuses_a_finished_one(admin_client):
    running = make_batch(name="Busy", state=State.RUNNING, profiles=2)
    finished = make_batch(name="Done", state=State.FINISHED)

    response = act(admin_client, "cancel", running, finished)

    running.refresh_from_db()
    finished.refresh_from_db()
    assert running.state == State.CANCELLED
    assert finished.state == State.FINISHED
    assert messages_of(response) == [
        (
            "warning",
            f"“Done” was not cancelled: Batch {finished.pk} is finished; only a "
            "draft or running batch can be cancelled.",
        ),
        ("success", "Cancelled: “Busy”."),
    ]


def test_export_streams_one_batch_as_csv(admin_client):
    batch = make_batch(name="Done", state=State.FINISHED)
    make_profiles(batch, 3, status=Status.COMPLETED, story="=SUM(A1) said hello")

    response = act(admin_client, "export_stories", batch)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="batch-{batch.pk}-stories.csv"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "external_id,name,status,story,last_error,attempts"
    assert len(lines) == 4
    assert "'=SUM(A1) said hello" in lines[1]


def test_export_of_several_batches_explains_itself(admin_client):
    first, second = make_batch(profiles=1), make_batch(profiles=1)

    response = act(admin_client, "export_stories", first, second)

    assert response.status_code == 302
    assert messages_of(response) == [
        (
            "warning",
            "Choose exactly one batch to export; each batch is its own file.",
        )
    ]


def test_actions_work_from_the_batch_page(admin_client):
    batch = make_batch(name="Fresh", profiles=1)
    url = reverse("admin:batches_batch_change", args=[batch.pk])

    response = admin_client.post(
        url, {"CHANGE_FORM-action": "start", "_selected_action": [batch.pk]}
    )

    batch.refresh_from_db()
    assert response.status_code == 302
    assert batch.state == State.RUNNING


# -- Permissions ---------------------------------------------------------------


def offered_actions(client):
    response = client.get(LIST_URL)
    assert response.status_code == 200
    return {
        name for name, _ in response.context["action_form"].fields["action"].choices
    }


def test_viewer_sees_batches_but_no_operating_actions(admin_client_for, admin_viewer):
    make_batch(profiles=1)

    offered = offered_actions(admin_client_for(admin_viewer))

    assert "export_stories" in offered
    assert offered.isdisjoint(OPERATE_ACTIONS)
    assert "delete_selected" not in offered


@pytest.mark.parametrize("action", OPERATE_ACTIONS)
def test_viewer_cannot_operate_by_posting(admin_client_for, admin_viewer, action):
    batch = make_batch(name="Fresh", state=State.RUNNING, profiles=1)
    make_profiles(batch, 1, status=Status.FAILED, start=10)

    act(admin_client_for(admin_viewer), action, batch)

    batch.refresh_from_db()
    assert batch.state == State.RUNNING
    assert status_counts(batch) == {"pending": 1, "failed": 1}
    assert not BatchEvent.objects.exists()


def test_operator_is_offered_and_may_use_the_actions(admin_client_for, admin_operator):
    batch = make_batch(name="Fresh", profiles=1)
    client = admin_client_for(admin_operator)

    assert set(OPERATE_ACTIONS) <= offered_actions(client)
    response = act(client, "start", batch)

    batch.refresh_from_db()
    assert batch.state == State.RUNNING
    assert messages_of(response) == [("success", "Started: “Fresh” (running).")]
    assert batch.events.get().actor == admin_operator


def test_viewer_cannot_add_change_or_delete(admin_client_for, admin_viewer):
    batch = make_batch(name="Fresh")
    client = admin_client_for(admin_viewer)

    assert client.get(reverse("admin:batches_batch_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:batches_batch_delete", args=[batch.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    client.post(
        reverse("admin:batches_batch_change", args=[batch.pk]), {"name": "Renamed"}
    )
    batch.refresh_from_db()
    assert batch.name == "Fresh"
