"""System checks: misconfiguration is caught when the site starts."""

from django.conf import settings
from django.core import checks

from batches.conf import conf


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
    if conf.TASKS_PER_BATCH < 1:
        errors.append(
            checks.Error(
                "STORYBATCH_TASKS_PER_BATCH must be at least 1.",
                hint="Set it to the number of workers that may share one batch.",
                id="batches.E002",
            )
        )
    return errors


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
