"""Every upload limit through every door: past it the answer names the
limit, and nothing is written."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from batches.models import Batch, BatchEvent, Profile
from tests.factories import make_batch

pytestmark = pytest.mark.django_db

API_URL = "/api/batches/"
ADMIN_ADD_URL = reverse("admin:batches_batch_add")
ROWS = [
    {"external_id": "A1", "name": "Ada Lovelace", "bio": "Wrote the first program."},
    {"external_id": "A2", "name": "Alan Turing", "bio": "Broke Enigma."},
    {"external_id": "A3", "name": "Grace Hopper", "bio": "Found a moth."},
]
CSV = "external_id,name,bio\n" + "".join(
    f"{row['external_id']},{row['name']},{row['bio']}\n" for row in ROWS
)
# Each limit, set just below what the upload above needs.
LIMITS = {
    "bytes": ({"MAX_UPLOAD_BYTES": len(CSV) - 1}, "STORYBATCH_MAX_UPLOAD_BYTES"),
    "rows": ({"MAX_UPLOAD_ROWS": 2}, "STORYBATCH_MAX_UPLOAD_ROWS"),
    "field": ({"MAX_FIELD_LENGTH": 20}, "STORYBATCH_MAX_FIELD_LENGTH"),
}


def assert_nothing_written():
    assert not Batch.objects.exists()
    assert not Profile.objects.exists()
    assert not BatchEvent.objects.exists()


def error_text(response):
    return json.dumps(response.json())


@pytest.mark.parametrize("limit", LIMITS)
def test_a_file_past_a_limit_through_the_api(reader_client, storybatch_settings, limit):
    values, name = LIMITS[limit]
    storybatch_settings(**values)

    response = reader_client.post(
        API_URL,
        {"name": "Too much", "file": SimpleUploadedFile("m.csv", CSV.encode())},
        format="multipart",
    )

    assert response.status_code == (413 if limit == "bytes" else 400)
    assert name in error_text(response)
    assert_nothing_written()


@pytest.mark.parametrize("limit", LIMITS)
def test_a_list_past_a_limit_through_the_api(reader_client, storybatch_settings, limit):
    values, name = LIMITS[limit]
    storybatch_settings(**values)

    response = reader_client.post(
        API_URL, {"name": "Too much", "profiles": ROWS}, format="json"
    )

    assert response.status_code == (413 if limit == "bytes" else 400)
    assert name in error_text(response)
    assert_nothing_written()


@pytest.mark.parametrize("limit", LIMITS)
def test_a_file_past_a_limit_through_the_admin(
    admin_client, storybatch_settings, limit
):
    values, name = LIMITS[limit]
    storybatch_settings(**values)

    response = admin_client.post(
        ADMIN_ADD_URL,
        {
            "file": SimpleUploadedFile("m.csv", CSV.encode()),
            "generator": "template",
            "max_attempts": 3,
        },
    )

    errors = response.context["adminform"].form.errors["file"]
    assert len(errors) == 1
    assert name in errors[0]
    assert "Nothing was imported." in errors[0]
    assert_nothing_written()


def test_a_json_body_past_the_request_limit_is_413_in_json(reader_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    profiles = [{"id": str(n), "name": "Some Body"} for n in range(100)]

    response = reader_client.post(
        API_URL, {"name": "Big", "profiles": profiles}, format="json"
    )

    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]
    assert_nothing_written()


def test_an_action_body_past_the_request_limit_is_413_in_json(
    operator_client, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    batch = make_batch(profiles=1, state=Batch.State.FINISHED)

    response = operator_client.post(
        f"/api/batches/{batch.pk}/reset/",
        {"scope": "all", "padding": "x" * 2000},
        format="json",
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert not batch.events.exists()


def test_a_form_with_too_many_fields_is_400_in_json(operator_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    response = operator_client.post(
        "/api/batches/reset/", {"ids": list(range(1, 20))}, format="multipart"
    )

    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]


@pytest.mark.parametrize(
    "profile",
    [
        {"external_id": "N1", "name": "Nested", "bio": ["x" * 30]},
        {"external_id": "N2", "name": "Nested", "bio": {"long": "x" * 30}},
        {"external_id": "N3", "name": "Wide key", "k" * 30: "short"},
    ],
)
def test_a_long_value_hidden_inside_a_field_is_past_the_limit(
    reader_client, storybatch_settings, profile
):
    storybatch_settings(MAX_FIELD_LENGTH=20)

    response = reader_client.post(
        API_URL, {"name": "Hidden", "profiles": [profile]}, format="json"
    )

    assert response.status_code == 400
    assert "STORYBATCH_MAX_FIELD_LENGTH" in error_text(response)
    assert_nothing_written()
