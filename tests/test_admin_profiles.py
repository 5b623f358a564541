"""The profile admin: a list that stays cheap on a huge table, and a
read-only page per profile."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from batches.admin import CheapCountPaginator, _estimated_rows
from batches.models import Batch, Profile, ProfileAttempt
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.django_db

Status = Profile.Status
LIST_URL = reverse("admin:batches_profile_changelist")
ON_POSTGRES = connection.vendor == "postgresql"


def page_names(response):
    return [profile.name for profile in response.context["cl"].result_list]


@pytest.fixture
def big_batch(db):
    batch = make_batch(name="Everyone", state=Batch.State.RUNNING)
    make_profiles(batch, 50_000)
    return batch


def test_a_batch_of_fifty_thousand_costs_five_queries(
    admin_client, big_batch, django_assert_num_queries
):
    # 1. the session, 2. the user, 3. the chosen batch's name for the filter,
    # 4. a count of at most cap + 1 of its profiles, 5. the page of profiles
    # with their batch joined. No count of the whole table.
    with django_assert_num_queries(5) as captured:
        response = admin_client.get(LIST_URL, {"batch": big_batch.pk})

    assert response.status_code == 200
    assert len(page_names(response)) == 100
    assert page_names(response)[0] == "Member Number 1"
    count_sql = captured.captured_queries[3]["sql"]
    assert f"LIMIT {CheapCountPaginator.cap + 1}" in count_sql
    content = response.content.decode()
    assert f"more than {CheapCountPaginator.cap} profiles" in content
    assert "Everyone" in content


def test_the_unfiltered_list_never_counts_the_whole_table(
    admin_client, big_batch, django_assert_num_queries
):
    # 1. the session, 2. the user, then on PostgreSQL the planner's estimate
    # (the test table has not been analysed, so it falls through), 3. a
    # capped count, 4. the page.
    with django_assert_num_queries(5 if ON_POSTGRES else 4) as captured:
        response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1
    assert f"LIMIT {CheapCountPaginator.cap + 1}" in counts[0]


def test_later_pages_are_reachable(admin_client, big_batch):
    response = admin_client.get(LIST_URL, {"batch": big_batch.pk, "p": 3})

    assert page_names(response)[0] == "Member Number 201"


def test_a_small_list_is_counted_exactly(admin_client):
    batch = make_batch(name="Few")
    make_profiles(batch, 3)

    response = admin_client.get(LIST_URL, {"batch": batch.pk})

    assert response.context["cl"].result_count == 3
    assert "3 profiles" in response.content.decode()


def test_estimate_comes_from_postgres_statistics_only():
    batch = make_batch(name="Counted")
    make_profiles(batch, 20)
    queryset = Profile.objects.all()

    if not ON_POSTGRES:
        assert _estimated_rows(queryset) is None
        return

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE batches_profile")
    assert _estimated_rows(queryset) == 20


def test_a_large_estimate_is_shown_as_an_estimate(monkeypatch):
    monkeypatch.setattr("batches.admin._estimated_rows", lambda queryset: 2_000_000)

    paginator = CheapCountPaginator(Profile.objects.order_by("id"), 100)

    assert paginator.count == 2_000_000
    assert paginator.is_estimate
    # A filtered list is never estimated from the whole table.
    filtered = CheapCountPaginator(Profile.objects.filter(status="failed"), 100)
    assert filtered.count == 0
    assert not filtered.is_estimate


def test_filters_by_status_and_batch(admin_client):
    first, second = make_batch(name="First"), make_batch(name="Second")
    make_profiles(first, 2, status=Status.FAILED)
    make_profiles(first, 3, start=10)
    make_profiles(second, 4, status=Status.FAILED)

    response = admin_client.get(
        LIST_URL, {"batch": first.pk, "status__exact": Status.FAILED}
    )

    assert page_names(response) == ["Member Number 1", "Member Number 2"]


def test_batch_filter_offers_no_list_of_every_batch(admin_client):
    for number in range(30):
        make_batch(name=f"Batch number {number}")

    content = admin_client.get(LIST_URL).content.decode()

    assert "Batch number 7" not in content


def test_a_batch_filter_that_is_not_a_number_is_refused(admin_client):
    response = admin_client.get(LIST_URL, {"batch": "drop table"})

    assert response.status_code == 302
    assert response.url.endswith("?e=1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Number 12", ["Member Number 12"]), ("T000007", ["Member Number 7"])],
    ids=["name", "external-id"],
)
def test_search_by_name_and_external_id(admin_client, query, expected):
    make_profiles(make_batch(), 15)

    response = admin_client.get(LIST_URL, {"q": query})

    assert page_names(response) == expected


def test_profile_page_shows_story_error_and_attempts_read_only(admin_client):
    batch = make_batch(name="Stories", state=Batch.State.RUNNING)
    make_profiles(
        batch,
        1,
        status=Status.FAILED,
        story="First line.\nSecond line.",
        last_error="Timeout <after 60s>.",
        attempts=2,
    )
    profile = Profile.objects.get()
    now = timezone.now()
    ProfileAttempt.objects.create(
        profile=profile,
        number=1,
        worker_id="host:1",
        started_at=now,
        finished_at=now,
        outcome=ProfileAttempt.Outcome.RETRYING,
        error="Rate limited.",
    )

    response = admin_client.get(
        reverse("admin:batches_profile_change", args=[profile.pk])
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert '<pre class="storybatch-text">First line.\nSecond line.</pre>' in content
    assert "Timeout &lt;after 60s&gt;." in content
    assert "Rate limited." in content
    assert "Failed, will retry" in content
    assert 'name="_save"' not in content


def test_profiles_cannot_be_changed_or_deleted(admin_client):
    make_profiles(make_batch(), 1)
    profile = Profile.objects.get()

    admin_client.post(
        reverse("admin:batches_profile_change", args=[profile.pk]),
        {"status": "completed", "story": "Made up."},
    )
    deleted = admin_client.post(
        reverse("admin:batches_profile_delete", args=[profile.pk]), {"post": "yes"}
    )

    profile.refresh_from_db()
    assert (profile.status, profile.story) == ("pending", "")
    assert deleted.status_code == 403


def test_staff_without_the_view_permission_see_no_profiles(admin_client_for):
    from tests.factories import make_user

    staff = make_user("bystander", staff=True)

    assert admin_client_for(staff).get(LIST_URL).status_code == 403


def test_viewer_may_read_profiles(admin_client_for, admin_viewer):
    make_profiles(make_batch(), 2)

    response = admin_client_for(admin_viewer).get(LIST_URL)

    assert response.status_code == 200
    assert len(page_names(response)) == 2


def test_an_unknown_batch_shows_no_profiles(admin_client):
    make_profiles(make_batch(), 2)

    response = admin_client.get(LIST_URL, {"batch": 999_999})

    assert page_names(response) == []
    assert "no batch 999999" in response.content.decode()
