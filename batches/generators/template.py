"""The default generator: a Django template over the profile, offline."""

from batches.generators.base import Story, StoryGenerator
from batches.generators.rendering import compile_story_template, render_or_fail


class TemplateGenerator(StoryGenerator):
    concurrency = 1
    # A story takes well under a millisecond: claim and write in rounds.
    claims_per_round = 25

    def __init__(self, config):
        super().__init__(config)
        self.template = compile_story_template(config.template)

    def generate(self, profile):
        return Story(
            text=render_or_fail(self.template, profile, what="template", makes="story")
        )
