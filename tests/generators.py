"""Generators for tests, named in STORYBATCH["EXTRA_GENERATORS"]."""

import os
import time
from pathlib import Path

from batches.generators import GenerationError, Story, StoryGenerator


class RecordingGenerator(StoryGenerator):
    """Writes one line per call to the file named by the environment
    variable STORYBATCH_RECORD_FILE ("pid external_id"), so that a test can
    count how often each profile was generated, across processes."""

    def generate(self, profile):
        record = os.environ.get("STORYBATCH_RECORD_FILE")
        if record:
            # One short append is atomic, so several processes can share it.
            with Path(record).open("a", encoding="utf-8") as file:
                file.write(f"{os.getpid()} {profile.external_id}\n")
        delay = float(os.environ.get("STORYBATCH_RECORD_DELAY", "0"))
        if delay:
            time.sleep(delay)
        return Story(text=f"The story of {profile.name}.")


class ScriptedGenerator(StoryGenerator):
    """Answers from a class-level script: {external_id: [outcome, ...]}, where
    an outcome is a story text or a GenerationError to raise."""

    script = {}
    calls = []

    def generate(self, profile):
        type(self).calls.append(profile.external_id)
        outcomes = type(self).script.get(profile.external_id)
        outcome = outcomes.pop(0) if outcomes else f"Story of {profile.name}."
        if isinstance(outcome, BaseException):
            raise outcome
        return Story(text=outcome)


class StoppingGenerator(StoryGenerator):
    """Two requests in flight, like a network generator; every call asks the
    worker to stop through the class-level ``stop`` flag, then answers."""

    concurrency = 2
    stop = None

    def generate(self, profile):
        type(self).stop.set()
        time.sleep(0.05)
        return Story(text=f"The story of {profile.name}.")


__all__ = [
    "GenerationError",
    "RecordingGenerator",
    "ScriptedGenerator",
    "StoppingGenerator",
]
