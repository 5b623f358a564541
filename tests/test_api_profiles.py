"""A batch's profiles, one profile's detail, the export and the history."""

import base64
import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Batch, BatchEvent, Profile, ProfileAttempt
from batches.services import batch_cancel
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

Status = Profile.Status


def profiles_url(batch):
    return f"/api/batches/{batch.pk}/profiles/"


def ids(response):
    return [item["external_id"] for item in response.data["results"]]


def test_profiles_come_in_id_order_a_page_at_a_time(reader_client):
    batch = make_batch(profiles=5)

    first = reader_client.get(profiles_url(batch), {"page_size": 2})
    second = reader_client.get(first.data["next"])
    third = reader_client.get(second.data["next"])

    assert first.status_code == 200
    assert ids(first) == ["T000001", "T000002"]
    assert ids(second) == ["T000003", "T000004"]
    assert ids(third) == ["T000005"]
    assert "count" not in first.data
    assert second.data["previous"]
    assert third.data["next"] is None


def test_the_last_page_has_no_next(reader_client):
    batch = make_batch(profiles=3)

    response = reader_client.get(profiles_url(batch), {"page_size": 3})

    assert ids(response) == ["T000001", "T000002", "T000003"]
    assert response.data["next"] is None


@pytest.mark.parametrize("count", [10, 1000])
def test_a_page_of_profiles_costs_the_same_for_ten_or_a_thousand(
    reader_client, django_assert_num_queries, count
):
    batch = make_batch(profiles=count)
    make_batch(profiles=5)

    # 1. does the batch exist (a 404 otherwise)
    # 2. the page: WHERE batch_id = %s ORDER BY id LIMIT page_size + 1, with
    #    no COUNT(*) over the batch
    with django_assert_num_queries(2) as captured:
        response = reader_client.get(profiles_url(batch), {"page_size": 5})

    assert len(response.data["results"]) == 5
    page_query = captured.captured_queries[-1]["sql"]
    assert "COUNT(" not in page_query.upper()
    assert "LIMIT 6" in page_query


def test_profiles_filter_by_status_and_story(reader_client):
    batch = make_batch(profiles=2)
    make_profiles(batch, 2, status=Status.COMPLETED, start=10)
    make_profiles(batch, 1, status=Status.COMPLETED, start=20, story="")
    make_profiles(batch, 1, status=Status.FAILED, start=30)

    completed = reader_client.get(profiles_url(batch), {"status": "completed"})
    with_story = reader_client.get(profiles_url(batch), {"has_story": "true"})
    without = reader_client.get(
        profiles_url(batch), {"has_story": "false", "status": "completed"}
    )

    assert ids(completed) == ["T000010", "T000011", "T000020"]
    assert ids(with_story) == ["T000010", "T000011"]
    assert ids(without) == ["T000020"]


def test_profiles_search_by_name_or_external_id(reader_client):
    batch = make_batch(profiles=12)

    by_name = reader_client.get(profiles_url(batch), {"search": "number 11"})
    by_id = reader_client.get(profiles_url(batch), {"search": "T000003"})

    assert ids(by_name) == ["T000011"]
    assert ids(by_id) == ["T000003"]


def test_profiles_of_another_batch_are_not_listed(reader_client):
    batch = make_batch(profiles=1)
    make_batch(profiles=3)

    assert len(reader_client.get(profiles_url(batch)).data["results"]) == 1


@pytest.mark.parametrize(
    "query",
    [{"status": "sleeping"}, {"has_story": "perhaps"}, {"search": "x" * 201}],
)
def test_profiles_refuse_bad_filters(reader_client, query):
    batch = make_batch(profiles=1)

    response = reader_client.get(profiles_url(batch), query)

    assert response.status_code == 400
    assert set(response.data) == set(query)


def cursor(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "value", ["garbage", cursor("p=abc"), cursor("p=-1"), cursor("o=-4")]
)
def test_a_cursor_that_was_not_made_here_is_404(reader_client, value):
    batch = make_batch(profiles=3)

    response = reader_client.get(profiles_url(batch), {"cursor": value})

    assert response.status_code == 404


def test_a_cursor_past_the_end_gives_an_empty_page(reader_client):
    batch = make_batch(profiles=3)

    response = reader_client.get(profiles_url(batch), {"cursor": cursor(f"p={10**40}")})

    assert response.status_code == 200
    assert response.data["results"] == []


def test_profiles_of_an_unknown_batch_are_404(reader_client):
    assert reader_client.get("/api/batches/4242/profiles/").status_code == 404


def test_profile_detail_has_story_error_and_attempt_log(
    reader_client, django_assert_num_queries
):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)
    profile = batch.profiles.get()
    started = timezone.now() - timedelta(seconds=3)
    for number, outcome in [(1, "retrying"), (2, "completed")]:
        ProfileAttempt.objects.create(
            profile=profile,
            number=number,
            worker_id="w1",
            started_at=started,
            finished_at=started + timedelta(seconds=1.5),
            outcome=outcome,
            error="Timed out." if outcome == "retrying" else "",
        )
    Profile.objects.filter(pk=profile.pk).update(
        status=Status.COMPLETED, story="Once upon a time.", attempts=2
    )

    # 1. the profile, within its batch; 2. its attempts
    with django_assert_num_queries(2):
        response = reader_client.get(f"{profiles_url(batch)}{profile.pk}/")

    assert response.status_code == 200
    data = response.data
    assert (data["story"], data["attempts"], data["has_story"]) == (
        "Once upon a time.",
        2,
        True,
    )
    assert data["fields"]["party"] == "Republican"
    assert [(a["number"], a["outcome"], a["error"]) for a in data["attempt_log"]] == [
        (1, "retrying", "Timed out."),
        (2, "completed", ""),
    ]
    assert data["attempt_log"][0]["duration_seconds"] == 1.5


def test_a_profile_is_found_only_under_its_own_batch(reader_client):
    batch = make_batch(profiles=1)
    other = make_batch(profiles=1)

    response = reader_client.get(f"{profiles_url(other)}{batch.profiles.get().pk}/")

    assert response.status_code == 404


# -- Export --------------------------------------------------------------------------


def export(client, batch, **query):
    return client.get(f"/api/batches/{batch.pk}/export/", query)


def body(response):
    return b"".join(response.streaming_content).decode()


def test_export_streams_csv(reader_client):
    batch = make_batch(profiles=2)
    make_profiles(batch, 1, status=Status.COMPLETED, start=10, story="=SUM(A1)")

    response = export(reader_client, batch, format="csv")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="batch-{batch.pk}-stories.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["external_id"] for row in rows] == ["T000001", "T000002", "T000010"]
    # Kept from running as a formula in a spreadsheet.
    assert rows[2]["story"] == "'=SUM(A1)"


def test_export_streams_json_lines_of_completed_profiles(reader_client):
    batch = make_batch(profiles=2)
    make_profiles(batch, 1, status=Status.COMPLETED, start=10)

    response = export(reader_client, batch, format="jsonl", completed="true")

    assert response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in body(response).splitlines()]
    assert [(line["external_id"], line["story"]) for line in lines] == [
        ("T000010", "A story.")
    ]


def test_export_is_csv_by_default(reader_client):
    response = export(reader_client, make_batch(profiles=1))

    assert body(response).startswith("external_id,name,status,story")


@pytest.mark.parametrize(
    "query, field",
    [({"format": "xlsx"}, "format"), ({"completed": "perhaps"}, "completed")],
)
def test_export_refuses_unknown_formats(reader_client, query, field):
    response = export(reader_client, make_batch(profiles=1), **query)

    assert response.status_code == 400
    assert field in response.json()


def test_export_of_an_unknown_batch_is_404(reader_client):
    response = reader_client.get("/api/batches/4242/export/", {"format": "csv"})

    assert response.status_code == 404
    assert response.json()["detail"]


# -- History -------------------------------------------------------------------------


def test_events_list_who_did_what_and_how(reader_client, operator):
    batch = make_batch(profiles=1)
    batch_cancel(batch=batch, source=BatchEvent.Source.ADMIN, actor=operator)
    make_batch()

    response = reader_client.get(f"/api/batches/{batch.pk}/events/")

    assert response.status_code == 200
    assert response.data["count"] == 1
    event = response.data["results"][0]
    assert (event["action"], event["source"], event["actor"]) == (
        "cancelled",
        "admin",
        "operator",
    )
    assert event["created_at"]


@pytest.mark.parametrize("events", [1, 30])
def test_events_cost_the_same_queries_however_many(
    reader_client, django_assert_num_queries, events
):
    batch = make_batch()
    BatchEvent.objects.bulk_create(
        BatchEvent(batch=batch, batch_name=batch.name, source="api", action="reset")
        for _ in range(events)
    )

    # 1. the batch; 2. COUNT(*) of its events; 3. the page, actors joined
    with django_assert_num_queries(3):
        response = reader_client.get(f"/api/batches/{batch.pk}/events/")

    assert len(response.data["results"]) == events
