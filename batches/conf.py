"""
Storybatch's own settings, read from the STORYBATCH dictionary in Django's
settings with a default for each key. Read them as ``conf.LEASE_SECONDS``;
tests change them with ``override_settings(STORYBATCH={...})``.
"""

import os

from django.conf import settings

DEFAULTS = {
    # How long a worker's claim on a profile lasts. It must be longer than
    # the slowest generation, or a second worker may take the profile over.
    "LEASE_SECONDS": 120.0,
    # Tasks enqueued when a batch starts: how many workers may share it.
    "TASKS_PER_BATCH": 4,
    # How long one task works on a batch before handing over to a fresh
    # task, so that batches share workers and a stopping worker is quick.
    "TASK_SECONDS": 10.0,
    # Backoff for failures that may pass: base * 2**(attempt-1) seconds,
    # capped, with jitter.
    "BACKOFF_BASE_SECONDS": 2.0,
    "BACKOFF_MAX_SECONDS": 300.0,
    # How often the sweep looks for work whose task was lost.
    "SWEEP_SECONDS": 60.0,
    "WEBHOOK_SECRET": "",
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_ATTEMPTS": 5,
    # Allow callbacks to loopback and private addresses (a receiver on the
    # same network). Link-local addresses are refused whatever this says.
    "WEBHOOK_ALLOW_PRIVATE": False,
    "LLM_BASE_URL": "",
    "LLM_API_KEY": "",
    "LLM_MODEL": "",
    "LLM_TEMPERATURE": 0.7,
    "LLM_MAX_TOKENS": 400,
    "LLM_TIMEOUT": 60.0,
    "LLM_CONCURRENCY": 8,
    "LLM_REQUESTS_PER_MINUTE": 0,
    "MAX_UPLOAD_BYTES": 50 * 1024 * 1024,
    "MAX_UPLOAD_ROWS": 200_000,
    "MAX_FIELD_LENGTH": 10_000,
    "IMPORT_CHUNK_SIZE": 2000,
    # More generators, by name: {"name": "dotted.path.To.Class"}.
    "EXTRA_GENERATORS": {},
}


class Settings:
    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(f"Storybatch has no setting {name!r}.")
        return getattr(settings, "STORYBATCH", {}).get(name, DEFAULTS[name])


conf = Settings()


def settings_from_environment(environ=None):
    """The STORYBATCH dictionary for settings.py: each key whose variable
    STORYBATCH_<KEY> is set, read with the type of its default."""
    from batchsite.env import env_bool, env_float, env_int, env_str

    environ = os.environ if environ is None else environ
    readers = {bool: env_bool, int: env_int, float: env_float, str: env_str}
    values = {}
    for key, default in DEFAULTS.items():
        name = f"STORYBATCH_{key}"
        reader = readers.get(type(default))
        if reader is not None and name in environ:
            values[key] = reader(name, default, environ=environ)
    return values
