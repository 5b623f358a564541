"""
The staff admin. It stays fast however many profiles there are:

- the batch list counts the profiles of the batches on its page only, in
  one annotated query;
- the profile list never counts a whole table: it counts at most a few
  thousand rows, or asks PostgreSQL's statistics for an estimate;
- no page loads every profile of a batch, and nothing offers a dropdown of
  every batch.

Every change to a batch goes through batches.services, so the admin leaves
the same audit trail as the API and the commands.
"""

import json
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.options import ActionLocation, IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import Count
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from batches import services
from batches.api.serializers import public_options
from batches.exceptions import ImportRejected, StateConflict
from batches.exporting import CONTENT_TYPES, stories_export
from batches.generators import generator_problem
from batches.generators.rendering import validate_story_template
from batches.importing import Limits, batch_import, parse_profile_file
from batches.models import Batch, BatchEvent, Profile, ProfileAttempt
from batches.querysets import Progress
from batches.validators import validate_callback_url

ADMIN = BatchEvent.Source.ADMIN
# Actions offered both on the batch list and on one batch's page.
EVERYWHERE = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
# How many groups of errors, events and webhook deliveries a batch page shows.
TOP_ERRORS = 10
RECENT_EVENTS = 50
RECENT_DELIVERIES = 20

# Colours of the progress bar, drawn left to right over a grey "pending".
BAR_SEGMENTS = (
    ("successful", "#2e7d32", "with a story"),
    ("completed_empty", "#9ccc65", "completed without a story"),
    ("failed", "#c62828", "failed"),
    ("processing", "#1e88e5", "processing"),
)
BAR_BACKGROUND = "#c8c8c8"


def _count(value):
    return number_format(value, force_grouping=True)


def progress_bar(progress):
    """An inline SVG bar of a Progress: no script, no inline style."""
    if not progress.total:
        return format_html('<span class="storybatch-muted">{}</span>', "no profiles")

    counts = {
        "successful": progress.successful,
        "completed_empty": progress.completed - progress.successful,
        "failed": progress.failed,
        "processing": progress.processing,
    }
    rects, summary, left = [], [], 0.0
    for key, colour, label in BAR_SEGMENTS:
        if not counts[key]:
            continue
        width = 100 * counts[key] / progress.total
        rects.append((f"{left:.3f}", f"{width:.3f}", colour))
        summary.append(f"{_count(counts[key])} {label}")
        left += width
    if progress.pending:
        summary.append(f"{_count(progress.pending)} pending")

    return format_html(
        '<span class="storybatch-progress" title="{title}">'
        '<svg viewBox="0 0 100 10" width="140" height="14" preserveAspectRatio="none"'
        ' role="img" aria-label="{title}">'
        '<rect width="100" height="10" fill="{background}"></rect>{rects}</svg>'
        " {percent}%</span>",
        title=", ".join(summary),
        background=BAR_BACKGROUND,
        rects=format_html_join(
            "",
            '<rect x="{}" width="{}" height="10" fill="{}"></rect>',
            rects,
        ),
        percent=progress.percent,
    )


def preformatted(text):
    return format_html('<pre class="storybatch-text">{}</pre>', text or "—")


def profiles_url(batch, **filters):
    query = urlencode({"batch": batch.pk, **filters})
    return f"{reverse('admin:batches_profile_changelist')}?{query}"


# -- Batches -----------------------------------------------------------------


class ProgressChangeList(ChangeList):
    """The batch list, counting only the profiles of the batches it shows.

    Annotating the whole filtered queryset would make the database group
    every profile of every batch before it could take one page, and count
    them all again to paginate: seconds on a table of millions. Instead the
    page is picked from the batch table alone, and one more query counts
    just its batches' profiles (``progress_of``).
    """

    def get_results(self, request):
        super().get_results(request)
        self.result_list = Batch.objects.progress_of(self.result_list)


class BatchChangeForm(forms.ModelForm):
    class Meta:
        model = Batch
        fields = ["name", "generator", "template", "max_attempts", "callback_url"]

    def clean_template(self):
        template = self.cleaned_data["template"]
        validate_story_template(template)
        return template


class BatchUploadForm(forms.Form):
    """A new draft batch from an uploaded file, checked like the import
    command checks its file."""

    file = forms.FileField(
        help_text="CSV (comma, semicolon or tab separated, with a header row) "
        "or JSON Lines, UTF-8."
    )
    name = forms.CharField(
        max_length=Batch._meta.get_field("name").max_length,
        required=False,
        help_text="Default: the file's name.",
    )
    id_column = forms.CharField(
        max_length=200, required=False, help_text="Default: external_id, or id."
    )
    name_column = forms.CharField(
        max_length=500,
        required=False,
        help_text='The columns that make the name, e.g. "full_name" or '
        '"full_name,first_name+last_name". Default: guessed from the header.',
    )
    template = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "class": "vLargeTextField"}),
        required=False,
        validators=[validate_story_template],
        help_text=Batch._meta.get_field("template").help_text,
    )
    generator = forms.ChoiceField(
        choices=Batch.Generator.choices, initial=Batch.Generator.TEMPLATE
    )
    max_attempts = forms.IntegerField(min_value=1, max_value=20, initial=3)
    callback_url = forms.URLField(
        max_length=200,
        required=False,
        validators=[validate_callback_url],
        help_text=Batch._meta.get_field("callback_url").help_text,
    )

    def clean_generator(self):
        generator = self.cleaned_data["generator"]
        problem = generator_problem(generator)
        if problem:
            raise forms.ValidationError(problem)
        return generator

    def clean_file(self):
        # Checked before a line is read: a file with no line breaks would
        # otherwise be read whole into memory as its first line.
        upload = self.cleaned_data["file"]
        limit = Limits.for_uploads().max_bytes
        if limit and upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {limit} bytes, the limit for one upload "
                "(STORYBATCH_MAX_UPLOAD_BYTES). Nothing was imported."
            )
        return upload

    def import_batch(self, *, actor):
        """Create the batch, all or nothing. An ImportRejected becomes an
        error on the form, and the result is None."""
        data = self.cleaned_data
        upload = data["file"]
        profiles = parse_profile_file(
            upload,
            filename=upload.name,
            id_column=data["id_column"] or None,
            name_column=data["name_column"] or None,
            limits=Limits.for_uploads(),
        )
        try:
            return batch_import(
                profiles=profiles,
                name=data["name"] or Path(upload.name).stem,
                source=ADMIN,
                actor=actor,
                template=data["template"],
                generator=data["generator"],
                max_attempts=data["max_attempts"],
                callback_url=data["callback_url"],
            )
        except ImportRejected as error:
            self.add_error(
                error.field if error.field in self.fields else "file",
                _rejection_message(error),
            )
            return None


def _rejection_message(error):
    where = f"Line {error.line}: " if error.line else ""
    return f"{where}{error.message} Nothing was imported."


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    form = BatchChangeForm
    list_display = [
        "name",
        "state",
        "total",
        "completed",
        "failed",
        "successful",
        "progress",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["name"]
    list_per_page = 100
    # Facet counts would group every profile of every batch.
    show_facets = admin.ShowFacets.NEVER
    actions = [
        "start",
        "reset_failed",
        "reset_all",
        "retry_failed",
        "cancel",
        "export_stories",
        "delete_selected",
    ]
    settings_fields = ["generator", "template", "max_attempts", "callback_url"]
    fieldsets = [
        (None, {"fields": ["name", "state", "progress_summary", "profile_links"]}),
        (
            "Settings",
            {"fields": [*settings_fields, "generator_options"]},
        ),
        (
            "Dates",
            {"fields": ["created_by", "created_at", "started_at", "finished_at"]},
        ),
        ("Errors of failed profiles", {"fields": ["failure_summary"]}),
        ("History", {"fields": ["event_history", "webhook_history"]}),
    ]
    always_read_only = [
        "state",
        "progress_summary",
        "profile_links",
        "generator_options",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "failure_summary",
        "event_history",
        "webhook_history",
    ]

    class Media:
        css = {"all": ["batches/admin.css"]}

    def get_changelist(self, request, **kwargs):
        return ProgressChangeList

    def get_readonly_fields(self, request, obj=None):
        # Workers read a running batch's settings as they go: changed midway,
        # one batch would hold stories made two ways.
        if obj is not None and obj.is_active:
            return [*self.always_read_only, *self.settings_fields]
        return self.always_read_only

    def has_operate_permission(self, request):
        return request.user.has_perm("batches.operate_batch")

    # -- List columns --------------------------------------------------------

    @admin.display(description="total")
    def total(self, batch):
        return _count(batch.total)

    @admin.display(description="completed")
    def completed(self, batch):
        return _count(batch.completed)

    @admin.display(description="failed")
    def failed(self, batch):
        return _count(batch.failed)

    @admin.display(description="successful")
    def successful(self, batch):
        return _count(batch.successful)

    @admin.display(description="progress")
    def progress(self, batch):
        return progress_bar(Progress.of(batch))

    # -- Change page ---------------------------------------------------------

    @admin.display(description="progress")
    def progress_summary(self, batch):
        progress = services.batch_progress(batch)
        rows = [
            ("total", progress.total),
            ("pending", progress.pending),
            ("processing", progress.processing),
            ("completed", progress.completed),
            ("of which with a story", progress.successful),
            ("failed", progress.failed),
            ("prompt tokens", progress.prompt_tokens),
            ("completion tokens", progress.completion_tokens),
        ]
        return format_html(
            '{}<table class="storybatch-table"><tbody>{}</tbody></table>',
            progress_bar(progress),
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                ((label, _count(value)) for label, value in rows),
            ),
        )

    @admin.display(description="profiles")
    def profile_links(self, batch):
        return format_html(
            '<a href="{}">All profiles of this batch</a> · '
            '<a href="{}">failed ones</a>',
            profiles_url(batch),
            profiles_url(batch, status__exact=Profile.Status.FAILED),
        )

    @admin.display(description="generator options")
    def generator_options(self, batch):
        # Only the options a person chose; never anything from settings.
        options = public_options(batch.options)
        if not options:
            return "—"
        return preformatted(json.dumps(options, indent=2, sort_keys=True))

    @admin.display(description=f"most common errors (top {TOP_ERRORS})")
    def failure_summary(self, batch):
        groups = (
            Profile.objects.filter(batch=batch)
            .failed()
            .values("last_error")
            .annotate(profiles=Count("pk"))
            .order_by("-profiles", "last_error")[:TOP_ERRORS]
        )
        rows = [
            (
                _count(group["profiles"]),
                Truncator(group["last_error"] or "—").chars(500),
            )
            for group in groups
        ]
        if not rows:
            return "No profile has failed."
        return format_html(
            '<table class="storybatch-table"><thead><tr><th>profiles</th>'
            "<th>error</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr><td>{}</td><td><pre class="storybatch-text">{}</pre></td></tr>',
                rows,
            ),
        )

    @admin.display(description=f"audit trail (latest {RECENT_EVENTS})")
    def event_history(self, batch):
        events = batch.events.select_related("actor").order_by("-created_at", "-id")
        rows = [
            (
                event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                event.get_action_display(),
                event.get_source_display(),
                event.actor or "—",
                json.dumps(event.details, sort_keys=True) if event.details else "",
            )
            for event in events[:RECENT_EVENTS]
        ]
        return _table(["when", "action", "through", "who", "details"], rows)

    @admin.display(description=f"webhook deliveries (latest {RECENT_DELIVERIES})")
    def webhook_history(self, batch):
        deliveries = batch.webhook_deliveries.order_by("-created_at", "-id")
        rows = [
            (
                delivery.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                delivery.attempt,
                delivery.url,
                delivery.status_code or "—",
                "yes" if delivery.delivered else "no",
                Truncator(delivery.error).chars(300),
            )
            for delivery in deliveries[:RECENT_DELIVERIES]
        ]
        return _table(["when", "attempt", "url", "status", "delivered", "error"], rows)

    # -- Adding from an upload -----------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        form = BatchUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                imported = form.import_batch(actor=request.user)
                if imported is not None:
                    batch, count = imported
                    self.log_addition(request, batch, [{"added": {}}])
            if imported is not None:
                self.message_user(
                    request,
                    f"Imported {_count(count)} profiles into the draft batch "
                    f"“{batch}”. Start it when it looks right.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:batches_batch_change", args=[batch.pk])
                )

        return self._render_upload_form(request, form, form_url, extra_context)

    def _render_upload_form(self, request, form, form_url, extra_context):
        fieldsets = [
            (None, {"fields": ["file", "name", "id_column", "name_column"]}),
            ("Settings", {"fields": list(self.settings_fields)}),
        ]
        admin_form = helpers.AdminForm(form, fieldsets, {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a batch from a file",
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    # -- Deleting ------------------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        batch = self.get_object(request, object_id)
        if batch is not None and batch.is_active:
            return self._refuse_delete(request, batch, "it is running; cancel it first")

        try:
            return super().delete_view(request, object_id, extra_context)
        except StateConflict as error:
            # It started between the confirmation page and this request; the
            # admin's own log entry was rolled back with the delete.
            return self._refuse_delete(request, batch, str(error))

    def _refuse_delete(self, request, batch, reason):
        self.message_user(
            request, f"“{batch}” was not deleted: {reason}.", messages.ERROR
        )
        return HttpResponseRedirect(
            reverse("admin:batches_batch_change", args=[batch.pk])
        )

    def get_deleted_objects(self, objs, request):
        """What the delete confirmation lists: each batch and how many
        profiles go with it. Django's own list would load every profile."""
        batches = list(objs)
        counts = dict(
            Profile.objects.filter(batch__in=batches)
            .values_list("batch_id")
            .annotate(Count("pk"))
            .order_by()
        )
        deleted = []
        for batch in batches:
            # The shape Django's unordered_list filter takes: an item, then
            # the list of what it holds.
            deleted.append(
                format_html(
                    'Batch: <a href="{}">{}</a>',
                    reverse("admin:batches_batch_change", args=[batch.pk]),
                    batch,
                )
            )
            profiles = _count(counts.get(batch.pk, 0))
            deleted.append([f"{profiles} profiles and their attempt logs"])
        model_count = {
            Batch._meta.verbose_name_plural: len(batches),
            Profile._meta.verbose_name_plural: sum(counts.values()),
        }
        # Deleting a batch is one permission: its profiles go with it.
        return deleted, model_count, set(), []

    def delete_model(self, request, obj):
        services.batch_delete(batch=obj, source=ADMIN, actor=request.user)

    def delete_queryset(self, request, queryset):
        for batch in queryset:
            try:
                services.batch_delete(batch=batch, source=ADMIN, actor=request.user)
            except StateConflict as error:
                self.message_user(request, f"“{batch}”: {error}", messages.ERROR)

    @admin.action(permissions=["delete"], description="Delete selected batches")
    def delete_selected(self, request, queryset):
        # Running batches are refused before the confirmation page, so that
        # it lists, and its message counts, only what will be deleted.
        running = queryset.running()
        for batch in running:
            self.message_user(
                request,
                f"“{batch}” is running and will not be deleted; cancel it first.",
                messages.WARNING,
            )
        deletable = queryset.exclude(state=Batch.State.RUNNING)
        if not deletable.exists():
            return None
        return django_delete_selected(self, request, deletable)

    # -- Operating -----------------------------------------------------------

    def _for_each(self, request, queryset, verb, operate, describe):
        """Run ``operate(batch)`` on every selected batch; report what was
        done in one message, and each refusal in its own."""
        done = []
        for batch in queryset.order_by("pk"):
            try:
                result = operate(batch)
            except StateConflict as error:
                self.message_user(
                    request, f"“{batch}” was not {verb}: {error}", messages.WARNING
                )
            else:
                done.append(describe(batch, result))
        if done:
            self.message_user(
                request, f"{verb.capitalize()}: {'; '.join(done)}.", messages.SUCCESS
            )

    @admin.action(
        permissions=["operate"],
        description="Start the batch",
        description_plural="Start selected batches",
        location=EVERYWHERE,
    )
    def start(self, request, queryset):
        self._for_each(
            request,
            queryset,
            "started",
            lambda batch: services.batch_start(
                batch=batch, source=ADMIN, actor=request.user
            ),
            lambda batch, started: f"“{batch}” ({started.get_state_display().lower()})",
        )

    def _reset(self, request, queryset, scope):
        self._for_each(
            request,
            queryset,
            "reset",
            lambda batch: services.batch_reset(
                batch=batch, source=ADMIN, actor=request.user, scope=scope
            ),
            lambda batch, count: f"“{batch}” ({_count(count)} profiles queued again)",
        )

    @admin.action(
        permissions=["operate"],
        description="Reset failed and stuck profiles",
        location=EVERYWHERE,
    )
    def reset_failed(self, request, queryset):
        self._reset(request, queryset, services.ResetScope.FAILED)

    @admin.action(
        permissions=["operate"],
        description="Reset all profiles (generate every story again)",
        location=EVERYWHERE,
    )
    def reset_all(self, request, queryset):
        self._reset(request, queryset, services.ResetScope.ALL)

    @admin.action(
        permissions=["operate"],
        description="Retry failed profiles with fresh attempts",
        location=EVERYWHERE,
    )
    def retry_failed(self, request, queryset):
        self._for_each(
            request,
            queryset,
            "retried",
            lambda batch: services.batch_retry(
                batch=batch, source=ADMIN, actor=request.user
            ),
            lambda batch, count: f"“{batch}” ({_count(count)} profiles queued again)",
        )

    @admin.action(
        permissions=["operate"],
        description="Cancel the batch",
        description_plural="Cancel selected batches",
        location=EVERYWHERE,
    )
    def cancel(self, request, queryset):
        self._for_each(
            request,
            queryset,
            "cancelled",
            lambda batch: services.batch_cancel(
                batch=batch, source=ADMIN, actor=request.user
            ),
            lambda batch, cancelled: f"“{batch}”",
        )

    @admin.action(
        permissions=["view"],
        description="Export stories as CSV",
        location=EVERYWHERE,
    )
    def export_stories(self, request, queryset):
        # One file per download: several batches are refused rather than
        # zipped, since a zip of large batches cannot be streamed as it is
        # written without a library we do not otherwise need.
        selected = list(queryset.order_by("pk")[:2])
        if len(selected) != 1:
            self.message_user(
                request,
                "Choose exactly one batch to export; each batch is its own file.",
                messages.WARNING,
            )
            return None

        batch = selected[0]
        response = StreamingHttpResponse(
            stories_export(batch, file_format="csv"), content_type=CONTENT_TYPES["csv"]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="batch-{batch.pk}-stories.csv"'
        )
        return response


def _table(headers, rows):
    if not rows:
        return "None yet."
    return format_html(
        '<table class="storybatch-table"><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((header,) for header in headers)),
        format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),)
                for row in rows
            ),
        ),
    )


# -- Profiles ----------------------------------------------------------------


class CheapCountPaginator(Paginator):
    """A paginator that never counts a whole large table.

    Counting a million rows takes PostgreSQL a full scan on every page view.
    An unfiltered list on PostgreSQL takes the planner's estimate from
    pg_class when it is large; otherwise at most ``cap`` + 1 rows are
    counted, and ``is_capped`` says the true number may be higher.
    """

    cap = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        if not queryset.query.where:
            estimate = _estimated_rows(queryset)
            if estimate is not None and estimate > self.cap:
                self.is_estimate = True
                return estimate
        counted = queryset.order_by()[: self.cap + 1].count()
        self.is_capped = counted > self.cap
        return min(counted, self.cap)

    is_estimate = False
    is_capped = False


def _estimated_rows(queryset):
    """The planner's row estimate for the queryset's table on PostgreSQL."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [table],
        )
        row = cursor.fetchone()
    # -1 means the table has never been analysed.
    return row[0] if row and row[0] >= 0 else None


class BatchIdFilter(admin.SimpleListFilter):
    """Filters by the batch id in the URL (``?batch=12``), which the batch
    page links to, instead of listing every batch as a choice."""

    title = "batch"
    parameter_name = "batch"

    def lookups(self, request, model_admin):
        # Only the chosen batch is a choice. The admin applies a filter only
        # when it has choices, so an unknown id must still be one, or the
        # list would show every profile.
        value = self.value()
        if value is None:
            return []
        if not value.isdigit():
            return [(value, value)]
        name = Batch.objects.filter(pk=value).values_list("name", flat=True).first()
        return [(value, name if name is not None else f"no batch {value}")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(f"Batch id {value!r} is not a number.")
        return queryset.filter(batch_id=int(value))


class ProfileAttemptInline(admin.TabularInline):
    model = ProfileAttempt
    fields = ["number", "outcome", "worker_id", "started_at", "duration", "error_text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="error")
    def error_text(self, attempt):
        return preformatted(attempt.error) if attempt.error else "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "batch_link",
        "external_id",
        "status",
        "has_story",
        "attempts",
        "updated_at",
    ]
    list_select_related = ["batch"]
    list_filter = ["status", BatchIdFilter]
    search_fields = ["name", "=external_id"]
    search_help_text = "Part of a name, or an exact external id."
    # Ordered as the (batch, id) index is, so that a page is read from the
    # index whether or not the list is filtered by batch; sorting by another
    # column would sort the whole table.
    ordering = ["batch_id", "id"]
    sortable_by = []
    list_per_page = 100
    paginator = CheapCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Profiles change through their batch's actions, never one by one, and a
    # "delete all" across millions of rows is not a button to offer.
    actions = None
    fields = [
        "batch",
        "external_id",
        "name",
        "status",
        "attempts",
        "story_text",
        "error_text",
        "source_fields",
        "claimed_by",
        "lease_expires_at",
        "available_at",
        "prompt_tokens",
        "completion_tokens",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [ProfileAttemptInline]

    class Media:
        css = {"all": ["batches/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("batch")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="batch")
    def batch_link(self, profile):
        # Filters the list to this batch, which is what one wants from a
        # batch name in a list of profiles.
        return format_html(
            '<a href="?{}">{}</a>',
            urlencode({"batch": profile.batch_id}),
            profile.batch,
        )

    @admin.display(description="story")
    def story_text(self, profile):
        return preformatted(profile.story)

    @admin.display(description="last error")
    def error_text(self, profile):
        return preformatted(profile.last_error)

    @admin.display(description="fields")
    def source_fields(self, profile):
        return preformatted(json.dumps(profile.fields, indent=2, ensure_ascii=False))
