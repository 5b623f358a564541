"""Story generators, chosen per batch by ``Batch.generator``."""

from django.utils.module_loading import import_string

from batches.conf import conf
from batches.generators.base import (
    GenerationError,
    GeneratorConfig,
    ProfileData,
    Story,
    StoryGenerator,
)

GENERATOR_CLASSES = {
    "template": "batches.generators.template.TemplateGenerator",
    "llm": "batches.generators.llm.ChatCompletionGenerator",
}

__all__ = [
    "GenerationError",
    "GeneratorConfig",
    "ProfileData",
    "Story",
    "StoryGenerator",
    "generator_for",
    "generator_problem",
]


def generator_problem(generator, options=None):
    """Why a batch with this generator and these options could not make its
    stories with the current settings, or "" when it could."""
    if generator == "llm":
        from batches.generators.llm import configuration_problem

        return configuration_problem(options or {})
    return ""


def generator_for(batch):
    """A ready generator for the batch's kind, template and options."""
    classes = {**GENERATOR_CLASSES, **conf.EXTRA_GENERATORS}
    generator_class = import_string(classes[batch.generator])
    return generator_class(
        GeneratorConfig(template=batch.template, options=dict(batch.options or {}))
    )
