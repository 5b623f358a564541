"""Creating a batch from an uploaded file or a JSON list of profiles, and
every way that input can be wrong."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batches.models import Batch, BatchEvent, Profile

pytestmark = pytest.mark.django_db

URL = "/api/batches/"
CSV = b"external_id,name,party\nA1,Ada Lovelace,Whig\nB2,Charles Babbage,Tory\n"


def upload(content, name="profiles.csv", **fields):
    return {"name": "Uploaded", "file": SimpleUploadedFile(name, content), **fields}


def post_file(client, content, name="profiles.csv", **fields):
    return client.post(URL, upload(content, name, **fields), format="multipart")


def assert_nothing_written():
    assert not Batch.objects.exists()
    assert not Profile.objects.exists()
    assert not BatchEvent.objects.exists()


def test_csv_upload_creates_a_draft_batch(reader_client, user):
    response = post_file(
        reader_client,
        CSV,
        template="{{ name }} ({{ party }})",
        max_attempts="5",
        options=json.dumps({"model": "small", "temperature": 0.3}),
    )

    assert response.status_code == 201, response.data
    batch = Batch.objects.get(pk=response.data["id"])
    assert (batch.state, batch.created_by, batch.max_attempts) == ("draft", user, 5)
    assert batch.options == {"model": "small", "temperature": 0.3}
    assert response.data["progress"]["total"] == 2
    assert list(batch.profiles.values_list("external_id", "name")) == [
        ("A1", "Ada Lovelace"),
        ("B2", "Charles Babbage"),
    ]
    event = BatchEvent.objects.get(batch=batch)
    assert (event.action, event.source, event.actor) == ("created", "api", user)


def test_json_lines_upload(reader_client):
    content = b'{"id": "1", "full_name": "Ada"}\n{"id": "2", "full_name": "Grace"}\n'

    response = post_file(reader_client, content, name="people.jsonl")

    assert response.status_code == 201, response.data
    assert response.data["progress"]["total"] == 2


def test_upload_with_chosen_columns(reader_client):
    content = b"key;first;last\nk1;Ada;Lovelace\n"

    response = post_file(
        reader_client, content, id_column="key", name_column="first+last"
    )

    assert response.status_code == 201, response.data
    assert Profile.objects.get().name == "Ada Lovelace"


def test_json_body_with_a_list_of_profiles(reader_client):
    body = {
        "name": "From JSON",
        "generator": "template",
        "callback_url": "https://hooks.example.com/done",
        "profiles": [
            {"external_id": "x1", "name": "Ada", "age": 36},
            {"external_id": "x2", "name": "Grace", "age": 85},
        ],
    }

    response = reader_client.post(URL, body, format="json")

    assert response.status_code == 201, response.data
    batch = Batch.objects.get()
    assert batch.callback_url == "https://hooks.example.com/done"
    assert Profile.objects.get(external_id="x1").fields["age"] == 36


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"external_id,name\nA1,Ada\nA2,Grace\nA3,\n",
            "line 4: Missing name (column 'name').",
        ),
        (
            b"external_id,name\nA1,Ada\nA1,Grace\n",
            "line 3: Duplicate external id 'A1' (also on line 2).",
        ),
        (
            b"external_id,name\nA1,Ada\nA2,Gr\xffce\n",
            "line 3: Not UTF-8 text: byte 0xff at column 6 cannot be decoded.",
        ),
        (b"external_id,name\nA1,Ada,extra\n", "line 2: Expected 2 fields, found 3."),
        (b"", "The submitted file is empty."),
        (b"\n\n  \n", "The file is empty."),
        (b"external_id,name\n", "There are no profiles to import."),
        (b"external_id,name\nA1,Ada\n,Grace\n", "line 3: Missing external id"),
        (b'{"id": "1", "name": "Ada"}\n{not json\n', "line 2: Not valid JSON"),
        (b'{"id": "1", "name": "Ada"}\n[1, 2]\n', "line 2: Each line must be a JSON"),
    ],
    ids=[
        "missing-name",
        "duplicate-id",
        "bad-utf8",
        "wrong-field-count",
        "empty",
        "blank-lines",
        "header-only",
        "missing-id",
        "bad-json-line",
        "json-line-not-object",
    ],
)
def test_bad_file_is_refused_naming_the_line(reader_client, content, message):
    name = "profiles.jsonl" if content.startswith(b"{") else "profiles.csv"

    response = post_file(reader_client, content, name=name)

    assert response.status_code == 400
    assert response.data["file"][0].startswith(message)
    assert_nothing_written()


def test_a_name_column_that_is_not_in_the_file_is_named(reader_client):
    response = post_file(reader_client, CSV, name_column="surname")

    assert response.status_code == 400
    assert response.data["name_column"] == [
        "line 1: No column 'surname' in the file (the columns are: external_id, "
        "name, party)."
    ]
    assert_nothing_written()


def test_file_past_the_byte_limit_is_413_naming_the_limit(
    reader_client, storybatch_settings
):
    storybatch_settings(MAX_UPLOAD_BYTES=len(CSV) - 1)

    response = post_file(reader_client, CSV)

    assert response.status_code == 413
    assert "STORYBATCH_MAX_UPLOAD_BYTES" in response.data["detail"]
    assert_nothing_written()


def test_body_declared_past_the_byte_limit_is_refused_unread(
    reader_client, storybatch_settings
):
    storybatch_settings(MAX_UPLOAD_BYTES=100)
    body = {"name": "Big", "profiles": [{"id": str(n), "name": "N"} for n in range(50)]}

    response = reader_client.post(URL, body, format="json")

    assert response.status_code == 413
    assert "STORYBATCH_MAX_UPLOAD_BYTES" in response.data["detail"]
    assert_nothing_written()


def test_too_many_rows_is_400_naming_the_limit(reader_client, storybatch_settings):
    storybatch_settings(MAX_UPLOAD_ROWS=1)

    response = post_file(reader_client, CSV)

    assert response.status_code == 400
    assert response.data["file"][0].startswith("line 3: More than 1 profiles")
    assert "STORYBATCH_MAX_UPLOAD_ROWS" in response.data["file"][0]
    assert_nothing_written()


def test_too_long_field_is_400_naming_the_limit(reader_client, storybatch_settings):
    storybatch_settings(MAX_FIELD_LENGTH=5)

    response = post_file(reader_client, CSV)

    assert response.status_code == 400
    assert "STORYBATCH_MAX_FIELD_LENGTH" in response.data["file"][0]
    assert_nothing_written()


@pytest.mark.parametrize(
    "profiles, message",
    [
        ([{"id": "1", "name": "Ada"}, "Grace"], "profile 2: Each profile must be an"),
        (
            [{"id": "1", "name": "Ada"}, {"id": "1", "name": "B"}],
            "profile 2: Duplicate",
        ),
        ([{"id": "1", "name": ""}], "profile 1: Missing name"),
    ],
)
def test_bad_profile_in_a_json_list_is_named_by_position(
    reader_client, profiles, message
):
    response = reader_client.post(
        URL, {"name": "B", "profiles": profiles}, format="json"
    )

    assert response.status_code == 400
    assert response.data["profiles"][0].startswith(message)
    assert_nothing_written()


def test_profiles_the_importer_cannot_place_a_name_in(reader_client):
    response = reader_client.post(
        URL, {"name": "B", "profiles": [{"id": "1", "nick": "Ada"}]}, format="json"
    )

    assert response.status_code == 400
    assert "Cannot tell which column holds the name" in response.data["name_column"][0]
    assert_nothing_written()


GOOD = {"name": "B", "profiles": [{"id": "1", "name": "Ada"}]}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": ["a list"]}, "name"),
        ({"template": "{% if %}"}, "template"),
        ({"template": "{% load i18n %}"}, "template"),
        ({"generator": "magic"}, "generator"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 21}, "max_attempts"),
        ({"max_attempts": 10**30}, "max_attempts"),
        ({"max_attempts": "three"}, "max_attempts"),
        ({"callback_url": "not a url"}, "callback_url"),
        ({"options": {"api_key": "sk-secret"}}, "options"),
        ({"options": {"base_url": "http://127.0.0.1:9/"}}, "options"),
        ({"options": {"temperature": 2.5}}, "options"),
        ({"options": {"temperature": -1}}, "options"),
        ({"options": {"temperature": "hot"}}, "options"),
        ({"options": {"temperature": True}}, "options"),
        ({"options": {"temperature": 10**400}}, "options"),
        ({"options": ["model"]}, "options"),
        ({"options": "{not json"}, "options"),
        ({"profiles": []}, "profiles"),
        ({"profiles": "Ada"}, "profiles"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_bad_field_is_refused_naming_it(reader_client, changes, field):
    response = reader_client.post(URL, {**GOOD, **changes}, format="json")

    assert response.status_code == 400
    assert field in response.data
    assert_nothing_written()


def test_unknown_option_is_named_under_options(reader_client):
    body = {**GOOD, "options": {"model": "m", "api_key": "sk-secret"}}

    response = reader_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.data["options"]) == ["api_key"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Neither"},
        {**GOOD, "file": None},
    ],
)
def test_profiles_come_from_a_file_or_a_list(reader_client, body):
    response = reader_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert_nothing_written()


def test_file_and_list_together_are_refused(reader_client):
    data = upload(CSV, profiles=json.dumps([{"id": "1", "name": "Ada"}]))

    response = reader_client.post(URL, data, format="multipart")

    assert response.status_code == 400
    assert "non_field_errors" in response.data
    assert_nothing_written()


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        ("{not json", "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('"a string"', "application/json", 400),
        ("name=B", "text/plain", 415),
        ("\xff\xfe", "application/json", 400),
    ],
)
def test_body_that_is_not_a_json_object_is_refused(
    reader_client, body, content_type, status
):
    response = reader_client.generic("POST", URL, body, content_type=content_type)

    assert response.status_code == status
    assert_nothing_written()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("callback_url", "http://169.254.169.254/latest", "forbidden address"),
        ("generator", "llm", "No language model server is configured"),
    ],
)
def test_batches_that_could_not_work_are_refused_when_made(
    reader_client, storybatch_settings, field, value, message
):
    storybatch_settings(LLM_BASE_URL="", LLM_MODEL="")
    body = {"name": "x", "profiles": [{"id": 1, "name": "Ada"}], field: value}

    response = reader_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert message in str(response.data[field])
    assert_nothing_written()
