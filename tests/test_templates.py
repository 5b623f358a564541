"""Story templates are data: they see the profile and nothing else."""

import pytest
from django.core.exceptions import ValidationError

from batches.generators import GenerationError, GeneratorConfig, ProfileData
from batches.generators.rendering import compile_story_template
from batches.generators.template import TemplateGenerator


def story(template, **fields):
    profile = ProfileData(external_id="X1", name="Ada Lovelace", fields=fields)
    return TemplateGenerator(GeneratorConfig(template=template)).generate(profile).text


def test_fields_are_variables_and_stay_in_a_fields_dict():
    assert story(
        "{{ name }} ({{ party }}, {{ fields.state }})", party="Whig", state="VT"
    ) == ("Ada Lovelace (Whig, VT)")


def test_the_default_template_reads_well_for_any_columns():
    text = story("", first_name="Ada", party="Whig", empty="")

    assert text == "Ada Lovelace. First name: Ada. Party: Whig."


def test_output_is_not_html_escaped():
    assert story("{{ quote }}", quote='"Rick" & <co>') == '"Rick" & <co>'


@pytest.mark.parametrize(
    ("filtered", "expected"),
    [
        ("{{ state|us_state }}", "California"),
        ("{{ district|ordinal }}", "12th"),
        ("{{ birthday|as_date|date:'F j, Y' }}", "December 10, 1815"),
        ("{{ 'first_name'|label }}", "First name"),
    ],
)
def test_story_filters(filtered, expected):
    assert story(filtered, state="CA", district="12", birthday="1815-12-10") == expected


@pytest.mark.parametrize(
    "template",
    [
        "{% load static %}{% static 'x' %}",
        "{% include 'admin/base.html' %}",
        "{% extends 'admin/base.html' %}",
        "{% debug %}",
        "{% url 'admin:index' %}",
        "{% csrf_token %}",
        "{% if name %}unclosed",
        "{{ name.__class__ }}",
        "{{ fields.__class__.__mro__ }}",
    ],
)
def test_templates_that_reach_beyond_the_profile_are_refused(template):
    with pytest.raises(ValidationError):
        compile_story_template(template)


@pytest.mark.parametrize(
    "probe",
    ["{{ settings.SECRET_KEY }}", "{{ request.user }}", "{{ user.password }}",
     "{{ batch.created_by }}", "{{ profile.batch }}"],
)  # fmt: skip
def test_nothing_outside_the_profile_is_visible(probe):
    with pytest.raises(GenerationError, match="empty story"):
        story(probe)


def test_a_template_nested_too_deeply_is_refused():
    with pytest.raises(ValidationError, match="nested too deeply"):
        compile_story_template("{% if 1 %}" * 2000 + "{% endif %}" * 2000)


def test_a_forbidden_tag_is_named_with_the_tags_that_exist():
    with pytest.raises(ValidationError) as caught:
        compile_story_template("{% load static %}")

    message = caught.value.messages[0]
    assert "Invalid block tag on line 1: 'load'." in message
    assert "Did you forget" not in message
    assert "Story templates can use only: autoescape," in message
