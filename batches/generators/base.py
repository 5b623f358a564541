"""What every story generator promises, and the plain data it works on."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProfileData:
    """A profile as generators see it: plain values, never a model instance."""

    external_id: str
    name: str
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class GenerationError(Exception):
    """A profile's story could not be made.

    ``transient`` says the same request may succeed later (a timeout, a rate
    limit, a server error); ``retry_after`` is the server's own advice, in
    seconds, where it gave one.
    """

    def __init__(self, message, *, transient=False, retry_after=None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True)
class GeneratorConfig:
    """What a generator is built from: the batch's template and options."""

    template: str
    options: dict = field(default_factory=dict)


class StoryGenerator:
    """Turns one profile into its story, or raises GenerationError.

    ``concurrency`` is how many profiles one worker keeps in flight through
    this generator: 1 for work that is bound by the CPU, more for work that
    waits on a network. ``claims_per_round`` lets a fast, local generator
    take several profiles per claim and write their stories together; the
    lease must cover that many generations.
    """

    concurrency = 1
    claims_per_round = 1

    def __init__(self, config):
        self.config = config

    def generate(self, profile):
        raise NotImplementedError

    def close(self):
        """Release what the generator holds (connections, threads)."""
