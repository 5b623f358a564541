"""Compiling and rendering story templates in a sandboxed template engine."""

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError

DEFAULT_TEMPLATE = (
    "{{ name }}."
    "{% for key, value in fields.items %}{% if value %}"
    " {{ key|label }}: {{ value }}.{% endif %}{% endfor %}"
)


class StoryEngine(Engine):
    # Only the vetted library, never Django's full set of built-ins.
    default_builtins = []


story_engine = StoryEngine(
    builtins=["batches.generators.story_tags"],
    libraries={},
    loaders=[],
    autoescape=False,
    string_if_invalid="",
)


def compile_story_template(source):
    """The compiled template, or ValidationError naming the syntax problem."""
    try:
        return story_engine.from_string(source or DEFAULT_TEMPLATE)
    except TemplateSyntaxError as error:
        raise ValidationError(
            f"Template syntax error: {error}", code="syntax"
        ) from error


def validate_story_template(source):
    compile_story_template(source)


def story_context(profile):
    """The template's whole world: the profile's name, id and plain fields.

    Each field whose name is a plain identifier is also a top-level variable,
    so ``{{ party }}`` works as well as ``{{ fields.party }}``.
    """
    context = {
        key: value
        for key, value in profile.fields.items()
        if isinstance(key, str) and key.isidentifier()
    }
    context.update(
        name=profile.name, external_id=profile.external_id, fields=dict(profile.fields)
    )
    return Context(context, autoescape=False)


def render_story(template, profile):
    return template.render(story_context(profile)).strip()
