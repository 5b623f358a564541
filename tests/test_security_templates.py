"""A story template is data from a user: it sees the profile's plain
fields and nothing else, and a template that would run for ever or fill the
memory fails its profile with the reason instead of taking the worker."""

import time

import pytest
from django.core.exceptions import ValidationError

from batches.generators import GenerationError, GeneratorConfig, ProfileData, rendering
from batches.generators.rendering import compile_story_template
from batches.generators.story_tags import STORY_MAX_CHARS
from batches.generators.template import TemplateGenerator
from batches.models import Batch


def profile(**fields):
    return ProfileData(external_id="X1", name="Ada Lovelace", fields=fields)


def story(template, subject=None):
    generator = TemplateGenerator(GeneratorConfig(template=template))
    return generator.generate(subject or profile(party="Whig", tags=["a", "b"])).text


@pytest.mark.parametrize(
    "template",
    [
        "{{ fields.items.__self__ }}",
        "{% for k in fields.items.__self__ %}{{ k }}{% endfor %}",
        "{{ fields.items._mapping }}",
        "{{ name.upper.__globals__ }}",
        "{% with x=fields.__class__ %}{{ x }}{% endwith %}",
        "{% load i18n %}",
        "{% ssi '/etc/passwd' %}",
        "{% lorem 99999999 w %}",
    ],
)
def test_templates_that_reach_for_internals_are_refused(template):
    with pytest.raises(ValidationError):
        compile_story_template(template)


def test_looping_over_the_fields_sees_only_plain_values():
    text = story(
        "{% for key, value in fields.items %}{{ key }}={{ value }};{% endfor %}"
    )

    assert text == "party=Whig;tags=['a', 'b'];"


@pytest.mark.parametrize(
    "probe",
    [
        "{{ fields.items.im_self }}",
        "{{ fields.keys.mro }}",
        "{{ forloop.parentloop.parentloop }}",
        "{{ block.super }}",
        "{{ csrf_token }}",
        "{{ perms }}",
        "{{ messages }}",
        "{{ view }}",
        "{{ fields.tags|dictsort:'__class__' }}",
    ],
)
def test_nothing_but_the_profile_answers(probe):
    with pytest.raises(GenerationError, match="empty story"):
        story(probe)


def test_a_template_cannot_change_the_profile_it_renders():
    subject = profile(tags=["a", "b"], extra={"k": "v"})

    story("{{ fields.tags.clear }}{{ extra.popitem }}{{ fields.clear }}x", subject)

    assert subject.fields == {"tags": ["a", "b"], "extra": {"k": "v"}}


def test_a_template_cannot_empty_the_plain_fields_it_renders():
    # Fields of plain values are copied one level deep only.
    subject = profile(party="Whig", born=1815, living=False)

    story("{{ fields.clear }}x", subject)

    assert subject.fields == {"party": "Whig", "born": 1815, "living": False}


@pytest.mark.parametrize(
    "template",
    [
        "{{ name|ljust:'999999999' }}",
        "{{ name|rjust:'999999999' }}",
        "{{ name|center:'999999999' }}",
        "{{ 7|stringformat:'0999999999d' }}",
        "{{ 1.5|floatformat:'999999999' }}",
        "{{ bio|make_list|join:bio }}",
    ],
)
def test_one_filter_cannot_make_a_huge_value(template):
    started = time.monotonic()

    with pytest.raises(GenerationError, match=str(STORY_MAX_CHARS)):
        story(template, profile(bio="x" * 5000))

    assert time.monotonic() - started < 1


def test_doubling_a_value_stops_at_the_limit():
    doublings = (
        "".join(f"{{% with v{n + 1}=v{n}|add:v{n} %}}" for n in range(40))
        + "{{ v40 }}"
        + "{% endwith %}" * 40
    )

    with pytest.raises(GenerationError, match="grew past"):
        story("{% with v0=name %}" + doublings + "{% endwith %}")


def test_a_story_longer_than_the_limit_fails_while_it_is_made():
    long_loop = "{% for c in bio %}{{ bio }}{% endfor %}"

    with pytest.raises(GenerationError, match=f"grew past {STORY_MAX_CHARS}"):
        story(long_loop, profile(bio="y" * 1000))


def test_text_repeated_outside_any_loop_is_counted_too():
    template = "{% with b=bio %}" + "{{ b }}" * 30 + "{% endwith %}"

    with pytest.raises(GenerationError, match="grew past"):
        story(template, profile(bio="z" * 5000))


def test_loops_that_make_no_text_still_stop_in_time(monkeypatch):
    monkeypatch.setattr(rendering, "RENDER_SECONDS", 0.2)
    nested = "{% for a in bio %}{% for b in bio %}{% for c in bio %}"
    nested += "{% endfor %}{% endfor %}{% endfor %}done"
    started = time.monotonic()

    with pytest.raises(GenerationError, match="took over 0.2 seconds"):
        story(nested, profile(bio="x" * 1000))

    assert time.monotonic() - started < 2


def test_a_story_within_the_limits_renders_whole():
    template = (
        "{% for key, value in fields.items %}{% if value %}"
        "{{ key|label }}: {{ value|ljust:20 }}|{% endif %}{% endfor %}"
    )

    assert story(template, profile(party="Whig")) == "Party: Whig                |"


@pytest.mark.django_db
def test_the_api_refuses_a_bad_template_naming_the_field(reader_client):
    response = reader_client.post(
        "/api/batches/",
        {
            "name": "Probe",
            "template": "{{ fields.items.__self__ }}",
            "profiles": [{"id": "1", "name": "Ada"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["template"]
    assert "underscores" in response.json()["template"][0]
    assert not Batch.objects.exists()
