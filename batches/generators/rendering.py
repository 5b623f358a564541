"""Compiling and rendering story templates in a sandboxed template engine."""

import copy
import time

from django.core.exceptions import ValidationError
from django.template import (
    Context,
    Engine,
    Node,
    NodeList,
    TemplateSyntaxError,
    defaulttags,
)
from django.utils.safestring import SafeString

from batches.generators.base import GenerationError
from batches.generators.story_tags import STORY_MAX_CHARS, StoryTooCostly
from batches.generators.story_tags import TAG_NAMES as ALLOWED_TAGS

# How long one story may take to render. Loops over loops over a long field
# would otherwise keep a worker busy for hours while making no text at all.
# A worker renders a round of template stories under one lease, so this
# times the round's size must stay well inside STORYBATCH_LEASE_SECONDS.
RENDER_SECONDS = 2.0

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


class RenderBudget:
    """What one story's rendering may still spend: text and time."""

    def __init__(self):
        self.chars_left = STORY_MAX_CHARS
        self.deadline = time.monotonic() + RENDER_SECONDS

    def spend(self, chars=0):
        self.chars_left -= chars
        if self.chars_left < 0:
            raise StoryTooCostly(f"The story grew past {STORY_MAX_CHARS} characters.")
        if time.monotonic() > self.deadline:
            raise StoryTooCostly(f"The story took over {RENDER_SECONDS} seconds.")


class StoryContext(Context):
    def __init__(self, values):
        super().__init__(values, autoescape=False)
        # Copies of the context (Django makes some) share the one budget.
        self.budget = RenderBudget()


# Nodes whose output is made of their children's, which are counted already.
CONTAINER_NODES = (
    defaulttags.AutoEscapeControlNode,
    defaulttags.FilterNode,
    defaulttags.ForNode,
    defaulttags.IfChangedNode,
    defaulttags.IfNode,
    defaulttags.SpacelessNode,
    defaulttags.WithNode,
)


class BudgetedNodeList(NodeList):
    """Renders node by node, counting each node's text against the budget
    before the next is rendered."""

    def render(self, context):
        bits = []
        for node in self:
            bit = node.render_annotated(context)
            context.budget.spend(0 if isinstance(node, CONTAINER_NODES) else len(bit))
            bits.append(bit)
        return SafeString("".join(bits))


class LoopBody(Node):
    """A for loop's body as one node, so that each pass of the loop is
    counted, even one that makes no text."""

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        context.budget.spend()
        return self.nodelist.render(context)


def budgeted(nodelist):
    """The nodelist, and every nodelist inside it, counted as it renders."""
    nodelist = BudgetedNodeList(nodelist)
    for node in nodelist:
        if isinstance(node, defaulttags.IfNode):
            # Its branches are kept in pairs, not in named nodelists.
            node.conditions_nodelists = [
                (condition, budgeted(branch))
                for condition, branch in node.conditions_nodelists
            ]
            continue
        for name in node.child_nodelists:
            inner = getattr(node, name, None)
            if isinstance(inner, NodeList):
                setattr(node, name, budgeted(inner))
        if isinstance(node, defaulttags.ForNode):
            node.nodelist_loop = NodeList([LoopBody(node.nodelist_loop)])
    return nodelist


def compile_story_template(source):
    """The compiled template, or ValidationError naming the syntax problem."""
    try:
        template = story_engine.from_string(source or DEFAULT_TEMPLATE)
    except TemplateSyntaxError as error:
        message = f"Template syntax error: {error}"
        if "Invalid block tag" in message:
            # Django's own hint ("did you forget to load it?") does not apply:
            # story templates cannot load anything.
            message = message.split(" Did you forget")[0]
            message += f" Story templates can use only: {', '.join(ALLOWED_TAGS)}."
        raise ValidationError(message, code="syntax") from error
    except RecursionError:
        raise ValidationError(
            "The template is nested too deeply.", code="nesting"
        ) from None
    template.nodelist = budgeted(template.nodelist)
    return template


def validate_story_template(source):
    compile_story_template(source)


# Values that no template can change in place.
PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


def story_context(profile):
    """The template's whole world: the profile's name, id and plain fields.

    Each field whose name is a plain identifier is also a top-level variable,
    so ``{{ party }}`` works as well as ``{{ fields.party }}``.
    """
    # A copy: a template may call a list's clear() or a dict's popitem(),
    # and the profile's own fields must come out as they went in. Fields of
    # plain values (every CSV row) need only a copy of the dict itself.
    fields = profile.fields
    if all(type(value) in PLAIN_VALUES for value in fields.values()):
        fields = dict(fields)
    else:
        fields = copy.deepcopy(fields)
    context = {
        key: value
        for key, value in fields.items()
        if isinstance(key, str) and key.isidentifier()
    }
    context.update(name=profile.name, external_id=profile.external_id, fields=fields)
    return StoryContext(context)


def render_story(template, profile):
    return template.render(story_context(profile)).strip()


def render_or_fail(template, profile, *, what, makes):
    """The rendered text, or GenerationError saying why not. ``what`` and
    ``makes`` name the template and its product in the messages ("template"
    and "story", "prompt template" and "prompt")."""
    try:
        text = render_story(template, profile)
    except Exception as error:
        # A template is user data: whatever it does wrong fails this one
        # profile, with the reason, and never the worker.
        raise GenerationError(
            f"{what.capitalize()} failed to render: {type(error).__name__}: {error}"
        ) from error
    if not text:
        raise GenerationError(f"The {what} rendered an empty {makes}.")
    return text
