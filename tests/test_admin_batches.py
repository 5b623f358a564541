"""The batch admin: its list, its page, and deleting."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from batches.models import Batch, BatchEvent, Profile, WebhookDelivery
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

State = Batch.State
Status = Profile.Status
LIST_URL = reverse("admin:batches_batch_changelist")


def change_url(batch):
    return reverse("admin:batches_batch_change", args=[batch.pk])


def delete_url(batch):
    return reverse("admin:batches_batch_delete", args=[batch.pk])


def message_texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_list_shows_counts_and_a_progress_bar(admin_client):
    batch = make_batch(name="Senators", state=State.RUNNING)
    make_profiles(batch, 6, status=Status.COMPLETED)
    make_profiles(batch, 2, status=Status.FAILED, start=100)
    make_profiles(batch, 2, start=200)

    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    row = next(b for b in response.context["cl"].result_list if b.pk == batch.pk)
    assert (row.total, row.completed, row.failed, row.successful) == (10, 6, 2, 6)
    content = response.content.decode()
    assert "<svg" in content
    assert "80.0%" in content
    assert "6 with a story, 2 failed, 2 pending" in content


def test_list_of_a_hundred_batches_costs_six_queries(
    admin_client, django_assert_num_queries
):
    for _ in range(100):
        make_profiles(make_batch(state=State.RUNNING), 3, status=Status.COMPLETED)

    # 1. the session, 2. the user, 3. the count of batches for the
    # paginator, 4. the count shown as "N total" beside a filtered count,
    # 5. one page of batches, 6. their profiles counted, grouped by batch.
    with django_assert_num_queries(6):
        response = admin_client.get(LIST_URL, {"state__exact": "running"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 100
    assert response.content.decode().count('class="storybatch-progress"') == 100


def test_list_filters_by_state_and_searches_by_name(admin_client):
    make_batch(name="House members")
    running = make_batch(name="Senate", state=State.RUNNING)
    make_batch(name="Senate drafts")

    by_state = admin_client.get(LIST_URL, {"state__exact": "running"})
    by_name = admin_client.get(LIST_URL, {"q": "senate"})

    assert [b.pk for b in by_state.context["cl"].result_list] == [running.pk]
    assert {b.name for b in by_name.context["cl"].result_list} == {
        "Senate",
        "Senate drafts",
    }


def test_change_page_shows_progress_errors_history_and_deliveries(
    admin_client, django_assert_max_num_queries
):
    batch = make_batch(name="Senators", state=State.FINISHED)
    make_profiles(batch, 3, status=Status.COMPLETED)
    make_profiles(batch, 4, status=Status.FAILED, start=10, last_error="Rate limited.")
    make_profiles(batch, 1, status=Status.FAILED, start=20, last_error="Bad template.")
    BatchEvent.objects.create(
        batch=batch, batch_name=batch.name, source="command", action="started"
    )
    WebhookDelivery.objects.create(
        batch=batch, url="https://example.test/hook", attempt=1, status_code=502
    )

    # The session, the user, the batch, the admin's own permission checks do
    # not query; then one aggregate for the progress, one GROUP BY for the
    # errors, one query for the events (with their actors), one for the
    # deliveries, and one for the batch's creator.
    with django_assert_max_num_queries(8):
        response = admin_client.get(change_url(batch))

    content = response.content.decode()
    assert response.status_code == 200
    assert "of which with a story" in content
    assert '<td>4</td><td><pre class="storybatch-text">Rate limited.</pre>' in content
    assert '<td>1</td><td><pre class="storybatch-text">Bad template.</pre>' in content
    assert content.index("Rate limited.") < content.index("Bad template.")
    assert "Started" in content
    assert "https://example.test/hook" in content
    assert f"?batch={batch.pk}&amp;status__exact=failed" in content


def test_change_page_shows_no_settings_secrets(admin_client, storybatch_settings):
    storybatch_settings(LLM_API_KEY="sk-never-show-this", WEBHOOK_SECRET="hush-hush")
    batch = make_batch(
        generator=Batch.Generator.LLM,
        options={"model": "small-model", "api_key": "sk-also-hidden"},
    )

    content = admin_client.get(change_url(batch)).content.decode()

    assert "small-model" in content
    assert "sk-never-show-this" not in content
    assert "hush-hush" not in content
    assert "sk-also-hidden" not in content


def test_change_page_rejects_a_bad_template(admin_client):
    batch = make_batch(name="Drafty")

    response = admin_client.post(
        change_url(batch),
        {
            "name": "Drafty",
            "generator": "template",
            "template": "{% if %}",
            "max_attempts": 3,
            "callback_url": "",
        },
    )

    assert response.status_code == 200
    assert "Template syntax error" in response.content.decode()
    batch.refresh_from_db()
    assert batch.template == ""


def test_running_batch_settings_are_read_only(admin_client):
    batch = make_batch(name="Busy", state=State.RUNNING, template="{{ name }}")

    admin_client.post(
        change_url(batch),
        {"name": "Busy, renamed", "template": "Changed {{ name }}", "max_attempts": 9},
    )

    batch.refresh_from_db()
    assert batch.name == "Busy, renamed"
    assert (batch.template, batch.max_attempts) == ("{{ name }}", 3)


# -- Deleting ------------------------------------------------------------------


def test_delete_goes_through_the_service(admin_client, admin_user):
    batch = make_batch(name="Old", state=State.FINISHED, profiles=3)

    response = admin_client.post(delete_url(batch), {"post": "yes"})

    assert response.status_code == 302
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert not Profile.objects.filter(batch_id=batch.pk).exists()
    event = BatchEvent.objects.get(action=BatchEvent.Action.DELETED)
    assert (event.source, event.actor, event.details["profiles"]) == (
        "admin",
        admin_user,
        3,
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_delete_of_a_running_batch_is_refused(admin_client, method):
    batch = make_batch(name="Busy", state=State.RUNNING, profiles=2)

    response = getattr(admin_client, method)(delete_url(batch), {"post": "yes"})

    assert response.status_code == 302
    assert response.url == change_url(batch)
    assert Batch.objects.filter(pk=batch.pk).exists()
    assert message_texts(response) == [
        "“Busy” was not deleted: it is running; cancel it first."
    ]
    assert not LogEntry.objects.exists()


def test_delete_refused_in_the_service_is_reported(admin_client, monkeypatch):
    # The batch starts between the confirmation page and the delete.
    from batches import services
    from batches.exceptions import StateConflict

    batch = make_batch(name="Racy", state=State.DRAFT)

    def started_meanwhile(**kwargs):
        raise StateConflict("Batch is running; cancel it before deleting it.")

    monkeypatch.setattr(services, "batch_delete", started_meanwhile)
    response = admin_client.post(delete_url(batch), {"post": "yes"})

    assert Batch.objects.filter(pk=batch.pk).exists()
    assert "was not deleted" in message_texts(response)[0]
    assert not LogEntry.objects.exists()


def test_bulk_delete_leaves_running_batches(admin_client):
    running = make_batch(name="Busy", state=State.RUNNING)
    done = make_batch(name="Done", state=State.FINISHED, profiles=2)

    response = admin_client.post(
        LIST_URL,
        {
            "action": "delete_selected",
            "_selected_action": [running.pk, done.pk],
            "post": "yes",
        },
    )

    assert list(Batch.objects.all()) == [running]
    assert message_texts(response) == [
        "“Busy” is running and will not be deleted; cancel it first.",
        "Successfully deleted 1 batch.",
    ]


def test_delete_confirmation_counts_profiles_without_loading_them(
    admin_client, django_assert_max_num_queries
):
    batch = make_batch(name="Big", state=State.FINISHED, profiles=500)

    # The session, the user, the batch (once to refuse a running batch, once
    # in Django's view), and one grouped count of the profiles.
    with django_assert_max_num_queries(5):
        response = admin_client.get(delete_url(batch))

    content = response.content.decode()
    assert response.status_code == 200
    assert "500 profiles and their attempt logs" in content
    assert "Member Number" not in content
