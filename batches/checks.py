"""System checks: misconfiguration is caught when the site starts."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from batches.conf import conf
from batches.models import Batch


@checks.register()
def check_lease(app_configs, **kwargs):
    errors = []
    if conf.LEASE_SECONDS <= 0:
        errors.append(
            checks.Error(
                "STORYBATCH_LEASE_SECONDS must be greater than zero.",
                hint="Set it longer than the slowest story takes to generate.",
                id="batches.E001",
            )
        )
    elif conf.LEASE_SECONDS <= conf.LLM_TIMEOUT:
        errors.append(
            checks.Warning(
                "STORYBATCH_LEASE_SECONDS is not longer than STORYBATCH_LLM_TIMEOUT: "
                "a slow model answer can outlive the worker's claim, and another "
                "worker may generate the same story again.",
                hint="Make the lease longer than the language model timeout.",
                id="batches.W001",
            )
        )
    errors.extend(_check_lease_covers_a_round())
    if conf.TASKS_PER_BATCH < 1:
        errors.append(
            checks.Error(
                "STORYBATCH_TASKS_PER_BATCH must be at least 1.",
                hint="Set it to the number of workers that may share one batch.",
                id="batches.E002",
            )
        )
    return errors


def _check_lease_covers_a_round():
    from batches.generators.rendering import RENDER_SECONDS
    from batches.generators.template import TemplateGenerator

    # A worker holds a whole round of template profiles under one lease;
    # each may take up to the render budget.
    round_seconds = TemplateGenerator.claims_per_round * RENDER_SECONDS
    if conf.LEASE_SECONDS <= 0 or round_seconds < conf.LEASE_SECONDS:
        return []
    return [
        checks.Warning(
            f"STORYBATCH_LEASE_SECONDS ({conf.LEASE_SECONDS:g}) is not longer than "
            f"a round of template stories at their slowest ({round_seconds:g} s): "
            "another worker may take over profiles that are still being written.",
            hint=f"Set the lease above {round_seconds:g} seconds.",
            id="batches.W003",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_webhook_secret(app_configs, **kwargs):
    if conf.WEBHOOK_SECRET or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "STORYBATCH_WEBHOOK_SECRET is not set: batches with a callback URL "
            "will not send their webhook, since it could not be signed.",
            hint="Set STORYBATCH_WEBHOOK_SECRET to a long random string and "
            "give it to the receivers.",
            id="batches.W002",
        )
    ]


@checks.register()
def check_language_model(app_configs, **kwargs):
    errors = []
    # Not configured at all is fine (no batch need use the model; the
    # database check below warns when one does); half configured is not.
    if bool(conf.LLM_BASE_URL) != bool(conf.LLM_MODEL):
        errors.append(
            checks.Warning(
                "The language model is half configured: STORYBATCH_LLM_BASE_URL "
                "and STORYBATCH_LLM_MODEL must both be set for batches with "
                "generator 'llm'; until then each of their profiles fails.",
                hint="Point them at an OpenAI-compatible server, for example "
                "http://localhost:8000/v1 (see docs/LLM.md).",
                id="batches.W010",
            )
        )
    elif conf.LLM_BASE_URL and not conf.LLM_BASE_URL.startswith(
        ("http://", "https://")
    ):
        errors.append(
            checks.Error(
                "STORYBATCH_LLM_BASE_URL must start with http:// or https://.",
                hint="For example http://localhost:8000/v1.",
                id="batches.E011",
            )
        )
    if conf.LLM_CONCURRENCY < 1:
        errors.append(
            checks.Error(
                "STORYBATCH_LLM_CONCURRENCY must be at least 1.",
                hint="Set it to how many requests one worker may keep waiting "
                "on the model server at once.",
                id="batches.E010",
            )
        )
    elif conf.LLM_REQUESTS_PER_MINUTE > 0:
        # Every profile a worker holds may queue behind the others for the
        # rate limiter before its own request even starts.
        queued = conf.LLM_CONCURRENCY * 60 / conf.LLM_REQUESTS_PER_MINUTE
        if queued + conf.LLM_TIMEOUT >= conf.LEASE_SECONDS:
            errors.append(
                checks.Warning(
                    "STORYBATCH_LEASE_SECONDS is too short for the language "
                    f"model's pace: a profile may wait {queued:g} seconds for "
                    "the rate limit and then STORYBATCH_LLM_TIMEOUT for the "
                    "answer, outliving the worker's claim.",
                    hint="Lower STORYBATCH_LLM_CONCURRENCY or lengthen the "
                    "lease beyond that wait plus the timeout.",
                    id="batches.W012",
                )
            )
    return errors


@checks.register(checks.Tags.database)
def check_language_model_batches(app_configs, databases=None, **kwargs):
    if conf.LLM_BASE_URL or not databases:
        return []

    errors = []
    for alias in databases:
        waiting = Batch.objects.using(alias).filter(
            generator=Batch.Generator.LLM,
            state__in=[Batch.State.DRAFT, Batch.State.RUNNING],
        )
        try:
            count = waiting.count()
        except DatabaseError:
            # Not migrated yet (migrate runs its checks first): no batches.
            continue
        if count:
            errors.append(
                checks.Warning(
                    f"{count} draft or running batch(es) in database {alias!r} "
                    "use the language model, but STORYBATCH_LLM_BASE_URL is "
                    "not set: every one of their profiles will fail.",
                    hint="Set STORYBATCH_LLM_BASE_URL and STORYBATCH_LLM_MODEL "
                    "before the workers reach these batches (see docs/LLM.md).",
                    id="batches.W011",
                )
            )
    return errors
