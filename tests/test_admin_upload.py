"""Adding a batch from an uploaded file in the admin."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from batches.models import Batch, BatchEvent, Profile

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:batches_batch_add")

GOOD_CSV = (
    b"id,full_name,party\n"
    b"A1,Ada Lovelace,Independent\n"
    b"A2,Alan Turing,Independent\n"
    b"A3,Grace Hopper,Democrat\n"
)
GOOD_JSONL = (
    b'{"external_id": "J1", "name": "Joan Clarke", "state": "NY"}\n'
    b'{"external_id": "J2", "name": "Tommy Flowers", "state": "CA"}\n'
)


def upload(client, content, filename="members.csv", **fields):
    data = {
        "file": SimpleUploadedFile(filename, content),
        "name": "",
        "id_column": "",
        "name_column": "",
        "template": "",
        "generator": "template",
        "max_attempts": 3,
        "callback_url": "",
        **fields,
    }
    return client.post(ADD_URL, data)


def form_errors(response):
    return response.context["adminform"].form.errors


def test_add_page_shows_the_upload_form(admin_client):
    response = admin_client.get(ADD_URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in content
    for field in ["file", "id_column", "name_column", "template", "callback_url"]:
        assert f'name="{field}"' in content


def test_a_good_csv_makes_a_draft_batch(admin_client, admin_user):
    response = upload(
        admin_client,
        GOOD_CSV,
        name="Pioneers",
        name_column="full_name",
        template="{{ name }} of the {{ party }} party.",
        max_attempts=5,
        callback_url="https://example.test/hook",
    )

    batch = Batch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:batches_batch_change", args=[batch.pk])
    assert (batch.name, batch.state, batch.max_attempts) == ("Pioneers", "draft", 5)
    assert batch.template == "{{ name }} of the {{ party }} party."
    assert batch.callback_url == "https://example.test/hook"
    assert batch.created_by == admin_user
    assert list(
        Profile.objects.filter(batch=batch).values_list("external_id", "name")
    ) == [("A1", "Ada Lovelace"), ("A2", "Alan Turing"), ("A3", "Grace Hopper")]
    event = batch.events.get()
    assert (event.action, event.source, event.actor) == (
        BatchEvent.Action.CREATED,
        BatchEvent.Source.ADMIN,
        admin_user,
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Imported 3 profiles into the draft batch “Pioneers”. Start it when it "
        "looks right."
    ]


def test_a_good_json_lines_file_is_named_after_the_file(admin_client):
    response = upload(admin_client, GOOD_JSONL, filename="codebreakers.jsonl")

    batch = Batch.objects.get()
    assert response.status_code == 302
    assert batch.name == "codebreakers"
    assert Profile.objects.filter(batch=batch).count() == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"id,name\nA1,Ada\nA2,\n",
            "Line 3: Missing name (column 'name'). Nothing was imported.",
        ),
        (
            b"id,name\nA1,Ada\nA1,Alan\n",
            "Line 3: Duplicate external id 'A1' (also on line 2). Nothing was imported.",
        ),
        (
            b"id,name\nA1,Ada\nA2,Alan,extra\n",
            "Line 3: Expected 2 fields, found 3. Nothing was imported.",
        ),
        (
            b"id,name\nA1,Ad\xe9\n",
            "Line 2: Not UTF-8 text: byte 0xe9 at column 6 cannot be decoded. "
            "Nothing was imported.",
        ),
        (b"\n\n", "The file is empty. Nothing was imported."),
    ],
    ids=["missing-name", "duplicate-id", "extra-field", "not-utf8", "empty"],
)
def test_a_bad_csv_names_the_line_and_writes_nothing(admin_client, content, expected):
    response = upload(admin_client, content)

    assert response.status_code == 200
    assert form_errors(response)["file"] == [expected]
    assert escape(expected) in response.content.decode()
    assert not Batch.objects.exists()
    assert not Profile.objects.exists()
    assert not BatchEvent.objects.exists()


def test_a_bad_json_line_names_the_line(admin_client):
    content = b'{"id": "J1", "name": "Joan"}\n{"id": "J2", "name": \n'

    response = upload(admin_client, content, filename="people.jsonl")

    assert form_errors(response)["file"][0].startswith("Line 2: Not valid JSON")
    assert not Batch.objects.exists()


def test_too_many_rows_for_an_upload_is_refused(admin_client, storybatch_settings):
    storybatch_settings(MAX_UPLOAD_ROWS=2)

    response = upload(admin_client, GOOD_CSV)

    assert form_errors(response)["file"] == [
        "Line 4: More than 2 profiles: the limit for one upload "
        "(STORYBATCH_MAX_UPLOAD_ROWS). Nothing was imported."
    ]
    assert not Batch.objects.exists()


def test_an_unknown_id_column_is_an_error_on_that_field(admin_client):
    response = upload(admin_client, GOOD_CSV, id_column="member_id")

    assert form_errors(response)["id_column"] == [
        "Line 1: No column 'member_id' in the file (the columns are: id, "
        "full_name, party). Nothing was imported."
    ]
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"template": "{% if %}"}, "template", "Template syntax error"),
        ({"max_attempts": 0}, "max_attempts", "greater than or equal to 1"),
        ({"max_attempts": 21}, "max_attempts", "less than or equal to 20"),
        ({"callback_url": "not a url"}, "callback_url", "Enter a valid URL"),
        ({"generator": "magic"}, "generator", "Select a valid choice"),
    ],
    ids=["template", "too-few-attempts", "too-many-attempts", "url", "generator"],
)
def test_bad_settings_are_form_errors(admin_client, fields, field, message):
    response = upload(admin_client, GOOD_CSV, **fields)

    assert response.status_code == 200
    assert message in form_errors(response)[field][0]
    assert not Batch.objects.exists()


def test_a_missing_file_is_a_form_error(admin_client):
    response = admin_client.post(ADD_URL, {"generator": "template", "max_attempts": 3})

    assert form_errors(response)["file"] == ["This field is required."]
    assert not Batch.objects.exists()


def test_upload_needs_the_add_permission(admin_client_for, admin_operator):
    response = upload(admin_client_for(admin_operator), GOOD_CSV)

    assert response.status_code == 403
    assert not Batch.objects.exists()
