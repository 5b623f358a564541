"""Answers at the API's edges: bad paging, odd paths, and a schema that
lists every error a client can be given."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from batches.models import Batch
from tests.factories import make_batch

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def operations(schema):
    return {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


@pytest.mark.parametrize("page_size", ["0", "-3", "ten", "1.5", "null"])
def test_a_page_size_that_is_not_a_whole_number_is_named(reader_client, page_size):
    batch = make_batch(profiles=2)

    for url in ["/api/batches/", f"/api/batches/{batch.pk}/profiles/"]:
        response = reader_client.get(url, {"page_size": page_size})

        assert response.status_code == 400
        assert list(response.json()) == ["page_size"]


def test_a_page_size_over_the_maximum_gets_the_maximum(reader_client):
    make_batch(profiles=0)

    response = reader_client.get("/api/batches/", {"page_size": "100000"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize(
    "path", ["/api/batches/%0A/", "/api/batches/1/%0A/cancel/", "/api/%0A"]
)
def test_a_path_holding_a_newline_answers_json(reader_client, path):
    response = reader_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_batch_without_a_callback_is_answered_as_the_schema_says(
    reader_client, schema
):
    batch = make_batch(state=Batch.State.DRAFT)

    answer = reader_client.get(f"/api/batches/{batch.pk}/").json()

    assert answer["callback_url"] == ""
    # As a URL, the empty string would break a client that checks answers
    # against the schema.
    callback = schema["components"]["schemas"]["Batch"]["properties"]["callback_url"]
    assert callback["type"] == "string"
    assert "format" not in callback


@pytest.mark.parametrize(
    ("operation", "codes"),
    [
        (("GET", "/api/batches/"), {"200", "400", "401", "404"}),
        (("GET", "/api/batches/{id}/"), {"200", "401", "404"}),
        (("POST", "/api/batches/"), {"201", "400", "401", "403", "413", "429"}),
        (
            ("POST", "/api/batches/{id}/reset/"),
            {"200", "400", "401", "403", "404", "409", "429"},
        ),
        (
            ("POST", "/api/batches/{id}/start/"),
            {"200", "401", "403", "404", "409", "429"},
        ),
        (
            ("DELETE", "/api/batches/{id}/"),
            {"204", "401", "403", "404", "409", "429"},
        ),
        (("POST", "/api/auth/token/"), {"200", "400", "429"}),
        (("GET", "/api/auth/csrf/"), {"200"}),
    ],
)
def test_the_schema_lists_the_errors_each_operation_gives(operations, operation, codes):
    assert set(operations[operation]["responses"]) == codes
