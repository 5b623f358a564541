import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from batches.exceptions import ImportRejected
from batches.generators import generator_problem
from batches.generators.rendering import validate_story_template
from batches.importing import Limits, batch_import, parse_profile_file
from batches.models import Batch, BatchEvent

# Files smaller than this import too fast for a progress bar to help.
PROGRESS_BAR_BYTES = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import a CSV (comma, semicolon or tab) or JSON Lines file of profiles "
        "into a new draft batch. All or nothing: a bad row imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to import ('-' is not supported).")
        parser.add_argument("--name", help="The batch's name (default: the file name).")
        parser.add_argument(
            "--id-column", help="Column with each profile's id (default: id)."
        )
        parser.add_argument(
            "--name-column",
            help="Column(s) with the name: 'full_name', or 'first_name+last_name', "
            "or alternatives such as 'full_name,first_name+last_name'.",
        )
        parser.add_argument(
            "--format",
            choices=["auto", "csv", "jsonl"],
            default="auto",
            dest="file_format",
        )
        parser.add_argument("--template-file", help="Story template for the batch.")
        parser.add_argument(
            "--generator",
            choices=Batch.Generator.values,
            default=Batch.Generator.TEMPLATE,
        )
        parser.add_argument("--max-attempts", type=int, default=3)
        parser.add_argument(
            "--if-new",
            action="store_true",
            help="Do nothing, and say so, when a batch of this name already exists.",
        )
        parser.add_argument(
            "--start", action="store_true", help="Start the batch once imported."
        )

    def handle(self, *args, file, name, id_column, name_column, file_format, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        name = name or path.stem
        template = self._template(options["template_file"])
        if not 1 <= options["max_attempts"] <= 20:
            raise CommandError("--max-attempts must be between 1 and 20.")
        problem = generator_problem(options["generator"])
        if problem:
            raise CommandError(f"--generator {options['generator']}: {problem}")

        existing = Batch.objects.filter(name=name).order_by("pk").first()
        if existing is not None and options["if_new"]:
            self.stdout.write(
                f"Batch {existing.pk} {name!r} already exists ({existing.state}); "
                "not importing again."
            )
            return

        with path.open("rb") as stream, self._progress(path) as bar:
            profiles = parse_profile_file(
                stream,
                filename=path.name,
                file_format=file_format,
                id_column=id_column,
                name_column=name_column,
                limits=Limits.for_commands(),
                on_bytes=bar.update if bar else None,
            )
            try:
                batch, count = batch_import(
                    profiles=profiles,
                    name=name,
                    source=BatchEvent.Source.COMMAND,
                    template=template,
                    generator=options["generator"],
                    max_attempts=options["max_attempts"],
                )
            except ImportRejected as error:
                problem = str(error).rstrip(".")
                raise CommandError(
                    f"{path.name}: {problem}. Nothing was imported."
                ) from error

        noun = "profile" if count == 1 else "profiles"
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {count} {noun} into batch {batch.pk} {name!r}."
            )
        )
        if options["start"]:
            from batches.services import batch_start

            batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
            self.stdout.write(f"Started batch {batch.pk} {name!r}.")

    def _template(self, template_file):
        if not template_file:
            return ""
        try:
            template = Path(template_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read the template file: {error}") from error
        try:
            validate_story_template(template)
        except ValidationError as error:
            raise CommandError(f"{template_file}: {error.messages[0]}") from error
        return template

    def _progress(self, path):
        size = os.path.getsize(path)
        if size < PROGRESS_BAR_BYTES:
            return _NoBar()
        return tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc="importing",
            file=self.stderr._out,
        )


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc_info):
        return False
