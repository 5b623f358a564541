"""Settings for worker processes that tests start: the project's own, plus
the test generators."""

from batchsite.settings import *  # noqa: F403

STORYBATCH = {  # noqa: F405
    **STORYBATCH,  # noqa: F405
    "EXTRA_GENERATORS": {"recording": "tests.generators.RecordingGenerator"},
}
