"""The default generator: a Django template over the profile, offline."""

from batches.generators.base import GenerationError, Story, StoryGenerator
from batches.generators.rendering import compile_story_template, render_story


class TemplateGenerator(StoryGenerator):
    concurrency = 1
    # A story takes well under a millisecond: claim and write in rounds.
    claims_per_round = 25

    def __init__(self, config):
        super().__init__(config)
        self.template = compile_story_template(config.template)

    def generate(self, profile):
        try:
            text = render_story(self.template, profile)
        except Exception as error:
            # A template is user data: whatever it does wrong fails this one
            # profile, with the reason, and never the worker.
            raise GenerationError(
                f"Template failed to render: {type(error).__name__}: {error}"
            ) from error
        if not text:
            raise GenerationError("The template rendered an empty story.")
        return Story(text=text)
