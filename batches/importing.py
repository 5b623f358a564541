"""
Importing profiles from CSV or JSON Lines files, or from a list of records.

Files are read as a stream of lines and written in chunks (COPY on
PostgreSQL, executemany elsewhere) inside one transaction: memory stays flat
however large the file, and a file with one bad row creates no batch at all.
Every problem is reported with its line number.
"""

import csv
import json
import logging
import math
from dataclasses import dataclass

from django.db import IntegrityError, reset_queries, transaction
from django.utils import timezone

from batches.conf import conf
from batches.exceptions import ImportRejected, LimitExceeded
from batches.models import Batch, BatchEvent, Profile

logger = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
DELIMITERS = (",", ";", "\t")
ID_COLUMN_GUESSES = ("external_id", "id")
NAME_PARTS = ("first_name", "middle_name", "last_name", "suffix")
# Bounds on the shape of one profile, whatever its size in bytes.
MAX_FIELDS = 1000
MAX_NESTING = 20


@dataclass(frozen=True)
class ParsedProfile:
    line: int
    external_id: str
    name: str
    fields: dict


@dataclass(frozen=True)
class Limits:
    max_rows: int | None = None
    max_bytes: int | None = None
    max_field_length: int | None = None

    @classmethod
    def for_uploads(cls):
        return cls(
            max_rows=conf.MAX_UPLOAD_ROWS,
            max_bytes=conf.MAX_UPLOAD_BYTES,
            max_field_length=conf.MAX_FIELD_LENGTH,
        )

    @classmethod
    def for_commands(cls):
        # Operators import from their own disks: only the field length,
        # which protects the database and the templates, still applies.
        return cls(max_field_length=conf.MAX_FIELD_LENGTH)


# -- Columns -------------------------------------------------------------------


class NameSpec:
    """Which columns make a profile's name.

    Written as alternatives separated by commas, each one or more columns
    joined with "+": ``full_name,first_name+last_name`` takes ``full_name``,
    or, where that is empty, the first and last names joined by a space.
    """

    def __init__(self, alternatives):
        self.alternatives = alternatives

    @classmethod
    def parse(cls, text):
        alternatives = [
            [part.strip() for part in alternative.split("+") if part.strip()]
            for alternative in text.split(",")
        ]
        alternatives = [parts for parts in alternatives if parts]
        if not alternatives:
            raise ImportRejected("The name column is empty.", field="name_column")
        return cls(alternatives)

    @classmethod
    def guess(cls, columns):
        present = set(columns)
        parts = [part for part in NAME_PARTS if part in present]
        has_parts = "first_name" in present and "last_name" in present
        if "name" in present:
            return cls([["name"]])
        if "full_name" in present:
            return cls([["full_name"], parts] if has_parts else [["full_name"]])
        if has_parts:
            return cls([parts])
        raise ImportRejected(
            "Cannot tell which column holds the name; give the name column "
            f"(the columns are: {', '.join(columns)}).",
            field="name_column",
        )

    @classmethod
    def any_known(cls):
        """Every name column guess() knows, tried in its order, row by row."""
        return cls([["name"], ["full_name"], list(NAME_PARTS)])

    @property
    def columns(self):
        return [column for parts in self.alternatives for column in parts]

    def describe(self):
        return ",".join("+".join(parts) for parts in self.alternatives)

    def name_of(self, record):
        for parts in self.alternatives:
            words = []
            for part in parts:
                try:
                    words.append(_text(record.get(part)))
                except _NotText:
                    raise _NotText(part) from None
            name = " ".join(word for word in words if word)
            if name:
                return name
        return ""


# Characters that show nothing: a name or id made only of them is empty.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def _text(value):
    """A name part or id as clean text; only text and numbers qualify."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _NotText
    return str(value).strip().strip(INVISIBLE).strip()


class _NotText(Exception):
    """A name or id given as a list, an object or a true/false value."""

    def __init__(self, column=None):
        super().__init__(column)
        self.column = column


def _check_columns(columns, *, id_column, name_spec):
    missing = [c for c in [id_column, *name_spec.columns] if c not in columns]
    if missing:
        raise ImportRejected(
            f"No column {missing[0]!r} in the file (the columns are: "
            f"{', '.join(columns)}).",
            line=1,
            field="id_column" if missing[0] == id_column else "name_column",
        )


def _guess_id_column(columns):
    for guess in ID_COLUMN_GUESSES:
        if guess in columns:
            return guess
    raise ImportRejected(
        "Cannot tell which column holds the external id; give the id column "
        f"(the columns are: {', '.join(columns)}).",
        field="id_column",
    )


class RowChecker:
    """Turns records into ParsedProfiles, or says what is wrong with one."""

    def __init__(self, *, id_column, name_spec, limits):
        self.id_column = id_column
        self.name_spec = name_spec
        self.limits = limits
        self.rows = 0

    def check(self, line, record):
        self.rows += 1
        if self.limits.max_rows and self.rows > self.limits.max_rows:
            raise LimitExceeded(
                f"More than {self.limits.max_rows} profiles: the limit for one "
                "upload (STORYBATCH_MAX_UPLOAD_ROWS).",
                line=line,
            )

        self._check_values(line, record)
        try:
            external_id = _text(record.get(self.id_column))
        except _NotText:
            raise ImportRejected(
                f"The external id (column {self.id_column!r}) must be text or a number.",
                line=line,
            ) from None
        if not external_id:
            raise ImportRejected(
                f"Missing external id (column {self.id_column!r}).", line=line
            )
        if len(external_id) > Profile._meta.get_field("external_id").max_length:
            raise ImportRejected(
                f"External id is longer than 255 characters (column {self.id_column!r}).",
                line=line,
            )

        try:
            name = self.name_spec.name_of(record)
        except _NotText as error:
            raise ImportRejected(
                f"The name (column {error.column!r}) must be text.", line=line
            ) from None
        if not name:
            raise ImportRejected(
                f"Missing name (column {self.name_spec.describe()!r}).", line=line
            )
        if len(name) > Profile._meta.get_field("name").max_length:
            raise ImportRejected("Name is longer than 500 characters.", line=line)

        return ParsedProfile(
            line=line, external_id=external_id, name=name, fields=record
        )

    def _check_values(self, line, record):
        """Every key and value, however deeply nested: within the length
        limit, no NUL (PostgreSQL cannot store it), no lone surrogates (no
        database can), and numbers that JSON can hold."""
        if len(record) > MAX_FIELDS:
            raise LimitExceeded(
                f"More than {MAX_FIELDS} fields in one profile.", line=line
            )
        limit = self.limits.max_field_length
        if self._flat_and_clean(record, limit):
            return
        pending = [(None, record, 0)]
        while pending:
            key, value, depth = pending.pop()
            if depth > MAX_NESTING:
                raise ImportRejected(
                    f"Field {key!r} is nested more than {MAX_NESTING} levels deep.",
                    line=line,
                )
            if isinstance(value, dict):
                for inner_key, inner in value.items():
                    self._check_text(line, inner_key, inner_key, limit, "name")
                    pending.append((inner_key, inner, depth + 1))
            elif isinstance(value, list):
                pending.extend((key, inner, depth + 1) for inner in value)
            elif isinstance(value, str):
                self._check_text(line, key, value, limit, "value")
            elif isinstance(value, float) and not math.isfinite(value):
                raise ImportRejected(
                    f"Field {key!r} is not a finite number.", line=line
                )

    @staticmethod
    def _flat_and_clean(record, limit):
        """Whether the record is one level of text that passes every check,
        found with a few calls for the whole record. Every CSV row has this
        shape, and nearly every row passes; any other record, and any row
        that fails, takes the field-by-field walk, which names the field."""
        try:
            text = "".join(record) + "".join(record.values())
        except TypeError:
            return False
        if limit and (
            max(map(len, record), default=0) > limit
            or max(map(len, record.values()), default=0) > limit
        ):
            return False
        if "\x00" in text:
            return False
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return False
        return True

    @staticmethod
    def _check_text(line, key, text, limit, what):
        if limit and len(text) > limit:
            raise LimitExceeded(
                f"Field {key!r} has a {what} longer than {limit} characters "
                "(STORYBATCH_MAX_FIELD_LENGTH).",
                line=line,
            )
        if "\x00" in text:
            raise ImportRejected(f"Field {key!r} holds a NUL character.", line=line)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ImportRejected(
                f"Field {key!r} holds an unpaired surrogate, which is not a character.",
                line=line,
            ) from None


# -- Files -----------------------------------------------------------------------


def _physical_lines(stream):
    """Lines ending in CR LF, LF or a lone CR, as a spreadsheet writes them."""
    for chunk in stream:
        yield from chunk.splitlines(keepends=True)


def _decoded_lines(stream, limits, on_bytes):
    """The file's lines as text, with a precise line number on bad bytes."""
    total = 0
    for number, raw in enumerate(_physical_lines(stream), start=1):
        total += len(raw)
        if limits.max_bytes and total > limits.max_bytes:
            raise LimitExceeded(
                f"The file is larger than {limits.max_bytes} bytes "
                "(STORYBATCH_MAX_UPLOAD_BYTES).",
                line=number,
            )
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = raw[error.start : error.start + 1].hex()
            raise ImportRejected(
                f"Not UTF-8 text: byte 0x{bad} at column {error.start + 1} cannot "
                "be decoded.",
                line=number,
            ) from None
        if "\x00" in text:
            raise ImportRejected("The line holds a NUL character.", line=number)
        if on_bytes:
            on_bytes(len(raw))
        yield text


def sniff_format(filename, first_line):
    lowered = (filename or "").lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


def _sniff_delimiter(header_line):
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_records(lines, first, *, offset, id_column, name_column, limits):
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(_prepend(first, lines), delimiter=delimiter, strict=True)
    header_line = offset + 1
    try:
        header = [column.strip() for column in next(reader)]
    except csv.Error as error:
        raise ImportRejected(
            f"The header row is not valid CSV: {error}.", line=header_line
        ) from error
    if not any(header):
        raise ImportRejected("The header row is empty.", line=header_line)
    if len(header) > MAX_FIELDS:
        raise LimitExceeded(
            f"More than {MAX_FIELDS} columns in the header row.", line=header_line
        )
    seen = set()
    for column in header:
        if not column:
            raise ImportRejected(
                "A column in the header row has no name.", line=header_line
            )
        if column in seen:
            raise ImportRejected(
                f"The column {column!r} appears twice.", line=header_line
            )
        seen.add(column)

    id_column = id_column or _guess_id_column(header)
    name_spec = NameSpec.parse(name_column) if name_column else NameSpec.guess(header)
    _check_columns(header, id_column=id_column, name_spec=name_spec)
    checker = RowChecker(id_column=id_column, name_spec=name_spec, limits=limits)

    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportRejected(
                f"Not valid CSV: {error}.", line=reader.line_num + offset
            ) from error
        line = reader.line_num + offset
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            raise ImportRejected(
                f"Expected {len(header)} fields, found {len(row)}.", line=line
            )
        yield checker.check(line, dict(zip(header, row, strict=True)))


def _reject_constant(word):
    raise ValueError(f"{word} is not a number JSON allows")


def json_object(text):
    """One JSON value, or ImportRejected saying in plain words what is wrong."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ImportRejected(f"Not valid JSON: {error.msg}.") from None
    except RecursionError:
        raise ImportRejected("Not valid JSON: nested too deeply.") from None
    except ValueError as error:
        if "digits" in str(error):
            # Python refuses to read integers of thousands of digits.
            raise ImportRejected("A number has too many digits.") from None
        raise ImportRejected(f"Not valid JSON: {error}.") from None


def _record_checker(record, *, id_column, name_column, limits):
    """The checker for records shaped like the first one. Without a name
    column, each record takes the first name column it has."""
    columns = list(record)
    if name_column:
        name_spec = NameSpec.parse(name_column)
    else:
        NameSpec.guess(columns)
        name_spec = NameSpec.any_known()
    return RowChecker(
        id_column=id_column or _guess_id_column(columns),
        name_spec=name_spec,
        limits=limits,
    )


def _jsonl_records(lines, first, *, offset, id_column, name_column, limits):
    checker = None
    for number, text in enumerate(_prepend(first, lines), start=offset + 1):
        if not text.strip():
            continue
        try:
            record = json_object(text)
        except ImportRejected as error:
            raise ImportRejected(error.message, line=number) from None
        if not isinstance(record, dict):
            raise ImportRejected("Each line must be a JSON object.", line=number)
        if checker is None:
            checker = _record_checker(
                record, id_column=id_column, name_column=name_column, limits=limits
            )
        yield checker.check(number, record)


def _prepend(first, rest):
    yield first
    yield from rest


def parse_profile_file(
    stream,
    *,
    filename="",
    file_format="auto",
    id_column=None,
    name_column=None,
    limits=None,
    on_bytes=None,
):
    """Yield the file's profiles one at a time; raise ImportRejected at the
    first problem. ``stream`` is a binary file object."""
    limits = limits or Limits()
    lines = _decoded_lines(stream, limits, on_bytes)
    skipped, first = 0, None
    for line in lines:
        if line.strip():
            first = line
            break
        skipped += 1
    if first is None:
        raise ImportRejected("The file is empty.")

    if file_format == "auto":
        file_format = sniff_format(filename, first)
    reader = {"csv": _csv_records, "jsonl": _jsonl_records}.get(file_format)
    if reader is None:
        raise ImportRejected(f"Unknown format {file_format!r}; use csv or jsonl.")
    yield from reader(
        lines,
        first,
        offset=skipped,
        id_column=id_column,
        name_column=name_column,
        limits=limits,
    )


def parse_profile_records(records, *, id_column=None, name_column=None, limits=None):
    """Profiles given as a list of objects (the API's JSON body). Positions
    count from 1, like lines."""
    limits = limits or Limits()
    checker = None
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise ImportRejected("Each profile must be an object.", line=position)
        if checker is None:
            checker = _record_checker(
                record, id_column=id_column, name_column=name_column, limits=limits
            )
        yield checker.check(position, record)


# -- Writing ---------------------------------------------------------------------


class _ProfileWriter:
    """Writes one batch's parsed profiles straight into the profile table, a
    chunk at a time: with COPY on PostgreSQL, with one executemany INSERT on
    other databases. Each row brings three values of its own; every other
    column holds the same value for the whole import, so that value is
    prepared for the database once, where ``bulk_create`` would prepare
    every value of every row."""

    ROW_FIELDS = ("external_id", "name", "fields")

    def __init__(self, batch):
        self.connection = transaction.get_connection()
        ops = self.connection.ops
        now = timezone.now()
        fixed = {"batch": batch.pk, "created_at": now, "updated_at": now}
        shared = [
            field
            for field in Profile._meta.concrete_fields
            if not field.primary_key
            and not field.generated
            and field.name not in self.ROW_FIELDS
        ]
        self.shared_values = tuple(
            field.get_db_prep_save(
                fixed.get(field.name, field.get_default()), self.connection
            )
            for field in shared
        )
        self.encoder = Profile._meta.get_field("fields").encoder
        columns = [Profile._meta.get_field(name).column for name in self.ROW_FIELDS]
        columns += [field.column for field in shared]
        table = ops.quote_name(Profile._meta.db_table)
        names = ", ".join(ops.quote_name(column) for column in columns)
        self.copy = self.connection.vendor == "postgresql"
        if self.copy:
            self.sql = f"COPY {table} ({names}) FROM STDIN"
        else:
            marks = ", ".join(["%s"] * len(columns))
            self.sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"

    def _rows(self, chunk):
        dumps, encoder, shared = json.dumps, self.encoder, self.shared_values
        for parsed in chunk:
            yield (
                parsed.external_id,
                parsed.name,
                dumps(parsed.fields, cls=encoder),
                *shared,
            )

    def write(self, chunk):
        """Insert one chunk, or raise IntegrityError and insert none of it."""
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.copy:
                # COPY goes to psycopg's own cursor, so its errors are
                # translated into Django's here.
                with (
                    self.connection.wrap_database_errors,
                    cursor.cursor.copy(self.sql) as copy,
                ):
                    for row in self._rows(chunk):
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, list(self._rows(chunk)))


def _insert_chunk(writer, batch, chunk):
    """Insert one chunk; name the row when an external id is taken."""
    seen = {}
    for parsed in chunk:
        if parsed.external_id in seen:
            raise ImportRejected(
                f"Duplicate external id {parsed.external_id!r} (also on line "
                f"{seen[parsed.external_id]}).",
                line=parsed.line,
            )
        seen[parsed.external_id] = parsed.line
    try:
        # The chunk goes in under a savepoint, so that PostgreSQL can still
        # answer the query below after the failed insert.
        writer.write(chunk)
    except IntegrityError:
        taken = set(
            Profile.objects.filter(batch=batch, external_id__in=seen).values_list(
                "external_id", flat=True
            )
        )
        duplicate = next((p for p in chunk if p.external_id in taken), None)
        if duplicate is None:
            raise
        raise ImportRejected(
            f"Duplicate external id {duplicate.external_id!r} (an earlier row has it).",
            line=duplicate.line,
        ) from None


def batch_import(
    *,
    profiles,
    name,
    source,
    actor=None,
    template="",
    generator=Batch.Generator.TEMPLATE,
    options=None,
    max_attempts=3,
    callback_url="",
    chunk_size=None,
):
    """Create a draft batch holding ``profiles`` (an iterable of
    ParsedProfile), all or nothing. Returns (batch, number of profiles)."""
    from batches.services import event_record

    chunk_size = chunk_size or conf.IMPORT_CHUNK_SIZE
    count = 0
    with transaction.atomic():
        batch = Batch.objects.create(
            name=name,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            template=template,
            generator=generator,
            options=options or {},
            max_attempts=max_attempts,
            callback_url=callback_url,
        )
        writer = _ProfileWriter(batch)
        chunk = []
        for parsed in profiles:
            chunk.append(parsed)
            if len(chunk) >= chunk_size:
                _insert_chunk(writer, batch, chunk)
                count += len(chunk)
                chunk = []
                # With DEBUG on, Django keeps the SQL of every query; the
                # inserts of a large file would pile up in memory.
                reset_queries()
        if chunk:
            _insert_chunk(writer, batch, chunk)
            count += len(chunk)
        if not count:
            raise ImportRejected("There are no profiles to import.")

        event_record(
            batch=batch,
            action=BatchEvent.Action.CREATED,
            source=source,
            actor=actor,
            profiles=count,
        )

    logger.info(
        "batch imported batch=%s profiles=%s source=%s", batch.pk, count, source
    )
    return batch, count
