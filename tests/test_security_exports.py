"""Exports through the API and the admin: a spreadsheet runs no formula
from a story, and every character of every story survives."""

import csv
import io
import json

import pytest
from django.urls import reverse

from batches.models import Batch, Profile
from tests.factories import make_batch

pytestmark = pytest.mark.django_db

FORMULAS = ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "\tindented", "\rreturned"]
# Newlines, quotes, commas, letters beyond ASCII and an emoji: all must come
# out exactly as they went in.
AWKWARD = 'Line one,\n"quoted", line two\r\nñ, 東京, 🙂; end'


@pytest.fixture
def batch():
    batch = make_batch(name="Exports", state=Batch.State.FINISHED)
    stories = [*FORMULAS, AWKWARD, "A plain story."]
    Profile.objects.bulk_create(
        Profile(
            batch=batch,
            external_id=f"E{number}",
            name=f"Person {number}",
            status=Profile.Status.COMPLETED,
            story=text,
        )
        for number, text in enumerate(stories, start=1)
    )
    # A formula in another column is defused too.
    Profile.objects.filter(external_id="E7").update(name="=HYPERLINK(1)")
    return batch


def csv_stories(content):
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    return {row["external_id"]: row for row in rows}


def assert_safe_and_whole(rows):
    for number, formula in enumerate(FORMULAS, start=1):
        assert rows[f"E{number}"]["story"] == "'" + formula
    assert rows["E7"]["story"] == AWKWARD
    assert rows["E7"]["name"] == "'=HYPERLINK(1)"
    assert rows["E8"]["story"] == "A plain story."


def test_api_csv_export_defuses_formulas_and_keeps_every_character(
    reader_client, batch
):
    response = reader_client.get(f"/api/batches/{batch.pk}/export/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert_safe_and_whole(csv_stories(b"".join(response.streaming_content)))


def test_api_json_lines_export_keeps_stories_exactly(reader_client, batch):
    response = reader_client.get(f"/api/batches/{batch.pk}/export/?format=jsonl")

    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode("utf-8").split("\n")
    records = {
        record["external_id"]: record for record in map(json.loads, filter(None, lines))
    }
    # JSON is not opened by spreadsheets: the stories are not prefixed.
    for number, formula in enumerate(FORMULAS, start=1):
        assert records[f"E{number}"]["story"] == formula
    assert records["E7"]["story"] == AWKWARD
    assert len(lines) == 9  # eight records, each ending in its own newline


def test_admin_export_defuses_formulas_and_keeps_every_character(admin_client, batch):
    response = admin_client.post(
        reverse("admin:batches_batch_changelist"),
        {"action": "export_stories", "_selected_action": [batch.pk]},
    )

    assert response.status_code == 200
    assert_safe_and_whole(csv_stories(b"".join(response.streaming_content)))
