"""Importing files: formats, and every bad input named and rejected whole."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from batches.exceptions import ImportRejected
from batches.importing import Limits, batch_import, parse_profile_file
from batches.models import Batch, BatchEvent, Profile

pytestmark = pytest.mark.django_db


def import_bytes(data, *, filename="people.csv", chunk_size=None, **options):
    profiles = parse_profile_file(io.BytesIO(data), filename=filename, **options)
    return batch_import(
        profiles=profiles,
        name="Imported",
        source=BatchEvent.Source.COMMAND,
        chunk_size=chunk_size,
    )


def assert_nothing_written():
    assert Batch.objects.count() == 0
    assert Profile.objects.count() == 0


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_any_delimiter_imports(delimiter):
    text = delimiter.join(["id", "name", "party"]) + "\n"
    text += delimiter.join(["A1", "Ada Lovelace", "Whig"]) + "\n"
    text += delimiter.join(["A2", "Charles Babbage", ""]) + "\n"

    batch, count = import_bytes(text.encode())

    assert count == 2
    ada = batch.profiles.get(external_id="A1")
    assert ada.name == "Ada Lovelace"
    assert ada.fields == {"id": "A1", "name": "Ada Lovelace", "party": "Whig"}


def test_imported_profiles_read_back_as_the_orm_would_have_written_them():
    # The importer writes rows itself (COPY, or one executemany INSERT), so
    # every default and the text that COPY must escape are checked here.
    note = 'tab\there, newline\nthere, backslash \\N, quote " and é'
    data = json.dumps({"id": "A1", "name": "Ada \\ Lovelace", "note": note})
    before = timezone.now()

    batch, _ = import_bytes(data.encode(), filename="people.jsonl")

    imported = Profile.objects.get(batch=batch)
    written = Profile.objects.create(batch=batch, external_id="ORM", name="x")
    written.refresh_from_db()
    assert imported.name == "Ada \\ Lovelace"
    assert imported.fields == {"id": "A1", "name": "Ada \\ Lovelace", "note": note}
    for field in ("status", "story", "has_story", "attempts", "last_error"):
        assert getattr(imported, field) == getattr(written, field), field
    for field in ("claim_token", "claimed_by", "lease_expires_at", "available_at"):
        assert getattr(imported, field) == getattr(written, field), field
    assert imported.prompt_tokens == imported.completion_tokens == 0
    assert before <= imported.created_at == imported.updated_at <= timezone.now()
    assert Profile.objects.filter(batch=batch, fields__note=note).count() == 1


def test_a_byte_order_mark_and_crlf_line_ends_are_understood():
    data = "\ufeffid,name\r\nA1,André Carson\r\n".encode()

    batch, _ = import_bytes(data)

    assert batch.profiles.get().fields == {"id": "A1", "name": "André Carson"}


def test_quoted_fields_with_commas_and_quotes_survive():
    data = b'id,name,note\nA1,"Earl L. ""Buddy"" Carter","a, b"\n'

    batch, _ = import_bytes(data)

    profile = batch.profiles.get()
    assert profile.name == 'Earl L. "Buddy" Carter'
    assert profile.fields["note"] == "a, b"


def test_json_lines_import():
    lines = [
        {"id": 7, "name": "Grace Hopper", "rank": "Rear Admiral"},
        {"id": 8, "name": "Alan Turing"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode() + b"\n\n"

    batch, count = import_bytes(data, filename="people.jsonl")

    assert count == 2
    assert batch.profiles.get(external_id="7").fields["rank"] == "Rear Admiral"


def test_name_alternatives_fill_a_missing_full_name():
    data = b"id,full_name,first_name,last_name\nA1,,James,Gallagher\nA2,Ann Smith,Ann,Smith\n"

    batch, _ = import_bytes(data)

    assert dict(batch.profiles.values_list("external_id", "name")) == {
        "A1": "James Gallagher",
        "A2": "Ann Smith",
    }


def test_explicit_columns_are_used():
    data = b"bioguide_id,given,family\nB1,Ada,Lovelace\n"

    batch, _ = import_bytes(data, id_column="bioguide_id", name_column="given+family")

    assert batch.profiles.get().name == "Ada Lovelace"


def test_the_bundled_congress_file_imports_whole():
    with open("data/congress/legislators-current.csv", "rb") as stream:
        profiles = parse_profile_file(
            stream, filename="legislators-current.csv", id_column="bioguide_id"
        )
        batch, count = batch_import(
            profiles=profiles, name="Congress", source=BatchEvent.Source.COMMAND
        )

    assert count == 537
    assert batch.profiles.get(external_id="G000607").name == "James Gallagher"


BAD_FILES = [
    pytest.param(b"", "The file is empty.", id="empty"),
    pytest.param(b"\n\n", "The file is empty.", id="blank-lines-only"),
    pytest.param(b"id,name\n", "There are no profiles to import.", id="header-only"),
    pytest.param(b"id,name\nA1,\n", "line 2: Missing name (column 'name').", id="missing-name"),
    pytest.param(b"id,name\n,Ada\n", "line 2: Missing external id (column 'id').", id="missing-id"),
    pytest.param(
        b"id,name\nA1,Ada\nA2,Bob\nA1,Cy\n",
        "line 4: Duplicate external id 'A1' (also on line 2).",
        id="duplicate-id",
    ),
    pytest.param(
        b"id,name\nA1,Ada\nA2,Bob,extra\n",
        "line 3: Expected 2 fields, found 3.",
        id="too-many-fields",
    ),
    pytest.param(
        b"id,name,party\nA1,Ada\n", "line 2: Expected 3 fields, found 2.", id="too-few-fields"
    ),
    pytest.param(
        b"id,name\nA1,Ada\nA2,Bo\xffb\n",
        "line 3: Not UTF-8 text: byte 0xff at column 6 cannot be decoded.",
        id="undecodable-bytes",
    ),
    pytest.param(b"id,name,name\nA1,Ada,Ada\n", "line 1: The column 'name' appears twice.", id="duplicate-column"),
    pytest.param(b"id,,name\nA1,x,Ada\n", "line 1: A column in the header row has no name.", id="unnamed-column"),
    pytest.param(b"key,title\nA1,Ada\n", "Cannot tell which column holds the external id", id="no-id-column"),
    pytest.param(b'id,name\nA1,"Ada\n', "Not valid CSV", id="unterminated-quote"),
    pytest.param(b"id,name\nA1,Ad\x00a\n", "line 2: The line holds a NUL character.", id="nul-byte"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_bad_csv_is_rejected_with_its_line_and_writes_nothing(data, message):
    with pytest.raises(ImportRejected) as caught:
        import_bytes(data)

    assert message in str(caught.value)
    assert_nothing_written()


BAD_JSONL = [
    pytest.param(b'{"id": 1, "name": "Ada"}\n{"id": 2, "name": \n', "line 2: Not valid JSON", id="invalid-json"),
    pytest.param(b'{"id": 1, "name": "Ada"}\n[1, 2]\n', "line 2: Each line must be a JSON object.", id="not-an-object"),
    pytest.param(b'{"id": 1, "name": "Ada"}\n{"id": 2}\n', "line 2: Missing name", id="missing-name"),
    pytest.param(b'{"id": 1, "name": "Ada"}\n{"id": 1, "name": "Bo"}\n', "line 2: Duplicate external id '1'", id="duplicate-id"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), BAD_JSONL)
def test_bad_json_lines_are_rejected_with_their_line(data, message):
    with pytest.raises(ImportRejected) as caught:
        import_bytes(data, filename="people.jsonl")

    assert message in str(caught.value)
    assert_nothing_written()


def test_a_duplicate_in_a_later_chunk_is_caught_by_the_database():
    rows = [f"P{n},Person {n}" for n in range(1, 11)] + ["P3,Again"]
    data = ("id,name\n" + "\n".join(rows) + "\n").encode()

    with pytest.raises(ImportRejected) as caught:
        import_bytes(data, chunk_size=4)

    assert str(caught.value) == (
        "line 12: Duplicate external id 'P3' (an earlier row has it)."
    )
    assert_nothing_written()


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (Limits(max_rows=2), "line 4: More than 2 profiles"),
        (Limits(max_bytes=20), "The file is larger than 20 bytes"),
        (
            Limits(max_field_length=5),
            "line 2: Field 'name' has a value longer than 5 characters",
        ),
        (
            Limits(max_field_length=2),
            "line 2: Field 'name' has a name longer than 2 characters",
        ),
    ],
)
def test_limits_reject_the_whole_file(limits, message):
    data = b"id,name\nA1,Ada Lovelace\nA2,Bob\nA3,Cy\n"

    with pytest.raises(ImportRejected) as caught:
        import_bytes(data, limits=limits)

    assert message in str(caught.value)
    assert_nothing_written()


def test_import_command_names_the_row_and_exits_non_zero(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,name\nA1,Ada\nA2,\n")

    with pytest.raises(CommandError) as caught:
        call_command("import_profiles", str(bad))

    assert str(caught.value) == (
        "bad.csv: line 3: Missing name (column 'name'). Nothing was imported."
    )
    assert caught.value.returncode == 1
    assert_nothing_written()


def test_import_command_with_if_new_does_not_import_twice(tmp_path, capsys):
    good = tmp_path / "people.csv"
    good.write_bytes(b"id,name\nA1,Ada\n")

    call_command("import_profiles", str(good), "--if-new")
    call_command("import_profiles", str(good), "--if-new")

    out = capsys.readouterr().out
    assert "Imported 1 profile into batch" in out
    assert "'people' already exists (draft); not importing again." in out
    assert Batch.objects.count() == 1


def test_import_command_rejects_a_bad_template(tmp_path):
    good = tmp_path / "people.csv"
    good.write_bytes(b"id,name\nA1,Ada\n")
    template = tmp_path / "story.txt"
    template.write_text("{% if name %}unclosed")

    with pytest.raises(CommandError, match="Template syntax error"):
        call_command("import_profiles", str(good), "--template-file", str(template))

    assert_nothing_written()


HOSTILE_JSONL = [
    pytest.param(b'{"id": 1, "name": "Ada", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "line 1: Not valid JSON: nested too deeply.", id="deep-nesting"),
    pytest.param(b'{"id": 1, "name": "Ada", "x": ' + b"[" * 22 + b"1" + b"]" * 22 + b"}\n", "line 1: Field 'x' is nested more than 20 levels deep.", id="nested-past-the-bound"),
    pytest.param(b'{"id": 1, "name": "Ada", "n": ' + b"9" * 5000 + b"}\n", "line 1: A number has too many digits.", id="huge-integer"),
    pytest.param(b'{"id": 1, "name": "Ada", "n": NaN}\n', "line 1: Not valid JSON: NaN is not a number JSON allows.", id="nan"),
    pytest.param(b'{"id": 1, "name": "Ada", "n": 1e999}\n', "line 1: Field 'n' is not a finite number.", id="infinity"),
    pytest.param(b'{"id": 1, "name": "A\\ud800nn"}\n', "line 1: Field 'name' holds an unpaired surrogate", id="lone-surrogate"),
    pytest.param(b'{"id": 1, "name": "A\\u0000nn"}\n', "line 1: Field 'name' holds a NUL character.", id="escaped-nul"),
    pytest.param(b'{"id": 1, "name": "Ada", "k\\u0000": 1}\n', "line 1: Field 'k\\x00' holds a NUL character.", id="nul-in-a-key"),
    # Records of text alone are first checked whole; a failure must still
    # name the field.
    pytest.param(b'{"id": "1", "name": "Ada", "bio": "A\\ud800"}\n', "line 1: Field 'bio' holds an unpaired surrogate", id="text-record-surrogate"),
    pytest.param(b'{"id": "1", "name": "Ada", "bio": "A\\u0000"}\n', "line 1: Field 'bio' holds a NUL character.", id="text-record-nul"),
    pytest.param(b'{"id": "1", "name": "Ada", "k\\udc00": "x"}\n', "line 1: Field 'k\\udc00' holds an unpaired surrogate", id="text-record-key-surrogate"),
    pytest.param(b'{"id": 1, "name": {"first": "Ada"}}\n', "line 1: The name (column 'name') must be text.", id="name-is-an-object"),
    pytest.param(b'{"id": [1, 2], "name": "Ada"}\n', "line 1: The external id (column 'id') must be text or a number.", id="id-is-a-list"),
    pytest.param(b'{"id": true, "name": "Ada"}\n', "must be text or a number", id="id-is-a-boolean"),
    pytest.param(b'{"id": 1, "name": "\\u200b\\u2060"}\n', "line 1: Missing name", id="invisible-name"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), HOSTILE_JSONL)
def test_hostile_json_lines_are_rejected_with_their_line(data, message):
    with pytest.raises(ImportRejected) as caught:
        import_bytes(data, filename="people.jsonl")

    assert message in str(caught.value)
    assert_nothing_written()


def test_nested_values_and_keys_are_held_to_the_field_length_limit():
    data = b'{"id": 1, "name": "Ada", "bio": {"text": "' + b"x" * 50 + b'"}}\n'

    with pytest.raises(ImportRejected, match="Field 'text' has a value longer"):
        import_bytes(data, filename="p.jsonl", limits=Limits(max_field_length=20))

    assert_nothing_written()


def test_a_profile_with_too_many_columns_is_refused():
    header = ",".join(["id", "name", *(f"c{n}" for n in range(1200))])

    with pytest.raises(ImportRejected, match="More than 1000 columns"):
        import_bytes(f"{header}\nA1,Ada{',' * 1200}\n".encode())


def test_line_numbers_count_leading_blank_lines():
    with pytest.raises(ImportRejected) as caught:
        import_bytes(b"\n\n\nid,name\n1,Ann\n2,\n")

    assert str(caught.value).startswith("line 6: Missing name")


def test_lone_carriage_returns_end_lines_as_in_old_spreadsheets():
    batch, count = import_bytes(b"id,name\r1,Ann\r2,Bob\r")

    assert count == 2
    assert batch.profiles.get(external_id="2").name == "Bob"


def test_json_lines_take_each_rows_own_name_column():
    data = b'{"id": 1, "first_name": "Ada", "last_name": "King"}\n{"id": 2, "full_name": "Alan Turing"}\n'

    batch, _ = import_bytes(data, filename="people.jsonl")

    assert dict(batch.profiles.values_list("external_id", "name")) == {
        "1": "Ada King",
        "2": "Alan Turing",
    }
