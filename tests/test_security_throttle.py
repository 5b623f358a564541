"""The API's rate limit on changes: per user, from the settings, answered
with 429 and Retry-After, and of no concern to the admin."""

import pytest
from django.urls import reverse

from batches.models import Batch
from tests.factories import make_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_change_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"mutations": "1/minute"},
    }


def test_a_throttled_change_says_when_to_come_back(
    one_change_a_minute, operator_client
):
    batch = make_batch(profiles=1, state=Batch.State.FINISHED)
    url = f"/api/batches/{batch.pk}/reset/"
    operator_client.post(url, format="json")

    response = operator_client.post(url, format="json")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert batch.events.count() == 1


def test_a_throttled_answer_to_another_origin_exposes_retry_after(
    one_change_a_minute, operator_client
):
    batch = make_batch(profiles=1, state=Batch.State.FINISHED)
    url = f"/api/batches/{batch.pk}/reset/"
    operator_client.post(url, format="json")

    response = operator_client.post(
        url, format="json", HTTP_ORIGIN="http://localhost:3000"
    )

    assert response.status_code == 429
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_the_admin_is_not_throttled(one_change_a_minute, admin_client):
    batches = [make_batch(profiles=1, state=Batch.State.RUNNING) for _ in range(3)]

    for batch in batches:
        admin_client.post(
            reverse("admin:batches_batch_changelist"),
            {"action": "cancel", "_selected_action": [batch.pk]},
        )

    states = set(Batch.objects.values_list("state", flat=True))
    assert states == {Batch.State.CANCELLED}


def test_a_higher_rate_in_the_settings_lets_more_through(settings, operator_client):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"mutations": "5/minute"},
    }
    batch = make_batch(profiles=1, state=Batch.State.FINISHED)
    url = f"/api/batches/{batch.pk}/reset/"

    answers = [operator_client.post(url, format="json").status_code for _ in range(6)]

    assert answers == [200] * 5 + [429]
