"""The OpenAPI schema: valid, complete, and true to the real answers."""

import pytest
import yaml
from django.core.management import call_command

from batches.models import Batch
from tests.factories import make_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_generates_without_warnings_and_validates(tmp_path):
    # --fail-on-warn: a view whose answer the generator had to guess fails.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml"
    )

    assert (tmp_path / "s.yaml").read_text().startswith("openapi:")


def test_schema_lists_every_endpoint(schema):
    assert {
        "/api/auth/token/",
        "/api/auth/csrf/",
        "/api/batches/",
        "/api/batches/reset/",
        "/api/batches/{id}/",
        "/api/batches/{id}/start/",
        "/api/batches/{id}/reset/",
        "/api/batches/{id}/retry/",
        "/api/batches/{id}/cancel/",
        "/api/batches/{id}/progress/",
        "/api/batches/{id}/events/",
        "/api/batches/{id}/export/",
        "/api/batches/{batch_id}/profiles/",
        "/api/batches/{batch_id}/profiles/{id}/",
    } == set(schema["paths"])


def properties(schema, component):
    return set(schema["components"]["schemas"][component]["properties"])


def test_the_batch_in_the_schema_is_the_batch_answered(schema, reader_client):
    make_batch(profiles=1, options={"model": "m"})

    item = reader_client.get("/api/batches/").data["results"][0]

    assert set(item) == properties(schema, "Batch")
    assert set(item["progress"]) == properties(schema, "Progress")
    assert set(item["options"]) <= properties(schema, "GeneratorOptions")


def test_the_progress_in_the_schema_is_the_progress_answered(schema, reader_client):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)

    answer = reader_client.get(f"/api/batches/{batch.pk}/progress/").data

    assert set(answer) == properties(schema, "BatchProgress")
    seconds_left = schema["components"]["schemas"]["BatchProgress"]["properties"][
        "seconds_left"
    ]
    assert seconds_left["nullable"] is True


def test_the_reset_answers_in_the_schema_are_the_answers(schema, operator_client):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)

    one = operator_client.post(f"/api/batches/{batch.pk}/reset/").data
    many = operator_client.post("/api/batches/reset/", {"ids": [batch.pk]}).data

    assert set(one) == properties(schema, "ResetResult")
    assert set(many) == properties(schema, "ManyResetAnswer")


def test_the_profile_in_the_schema_is_the_profile_answered(schema, reader_client):
    batch = make_batch(profiles=1)
    profile = batch.profiles.get()

    page = reader_client.get(f"/api/batches/{batch.pk}/profiles/").data
    one = reader_client.get(f"/api/batches/{batch.pk}/profiles/{profile.pk}/").data

    assert set(page["results"][0]) == properties(schema, "ProfileList")
    assert set(page) == properties(schema, "PaginatedProfileListList")
    assert set(one) == properties(schema, "ProfileDetail")


def test_the_upload_form_in_the_schema_takes_a_file(schema):
    form = schema["components"]["schemas"]["BatchCreateRequest"]["properties"]

    assert form["file"]["format"] == "binary"
    assert form["options"] == {"$ref": "#/components/schemas/GeneratorOptionsRequest"}


def test_docs_page_serves(api_client):
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    assert b'url: "/api/schema"' in response.content
