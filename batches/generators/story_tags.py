"""
The only tags and filters a story template may use. Templates come from
users, so everything that reaches outside the profile is left out: no
``load``, ``include``, ``extends``, ``url``, ``csrf_token`` or ``debug``
(which prints the loaded modules).
"""

import datetime
import functools
import re

from django.template import Library, defaultfilters, defaulttags

# The longest story, and the longest value any filter may make on the way:
# a template is refused at this size rather than left to fill the worker's
# memory, one doubling or padding at a time.
STORY_MAX_CHARS = 100_000

ALLOWED_TAGS = {
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
}

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas",
    "CA": "California", "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska",
    "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah",
    "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "DC": "the District of Columbia", "PR": "Puerto Rico", "GU": "Guam",
    "VI": "the U.S. Virgin Islands", "AS": "American Samoa",
    "MP": "the Northern Mariana Islands", "DK": "Dakota Territory",
    "OL": "the Territory of Orleans", "PI": "the Philippine Islands",
}  # fmt: skip

# Filters whose argument is a width or a precision: Python would make a
# string that wide before any limit could look at the result.
WIDTH_FILTERS = {"center", "floatformat", "ljust", "rjust", "stringformat"}


class StoryTooCostly(Exception):
    """The template would take too long or make too much text."""


def refuse_length(length):
    if length > STORY_MAX_CHARS:
        raise StoryTooCostly(
            f"A value in the template grew past {STORY_MAX_CHARS} characters."
        )


def refuse_long(value):
    if isinstance(value, str | list | tuple):
        refuse_length(len(value))
    return value


def refuse_wide(arg):
    for digits in re.findall(r"\d+", str(arg)):
        if len(digits) > 9 or int(digits) > STORY_MAX_CHARS:
            raise StoryTooCostly(
                f"A width or precision above {STORY_MAX_CHARS} in a filter."
            )


def bounded(name, filter_function):
    """The filter, refusing to make a value longer than a story may be."""

    @functools.wraps(filter_function)
    def checked(value, *args, **kwargs):
        if name in WIDTH_FILTERS:
            for arg in args:
                refuse_wide(arg)
        if name == "join" and args and isinstance(value, list | tuple):
            # The separator is repeated between every item.
            refuse_length(len(value) * len(str(args[0])))
        return refuse_long(filter_function(value, *args, **kwargs))

    return checked


# In the order an error message lists them.
TAG_NAMES = sorted(ALLOWED_TAGS)

register = Library()
register.tags = {
    name: compile_function
    for name, compile_function in defaulttags.register.tags.items()
    if name in ALLOWED_TAGS
}
register.filters = {
    name: bounded(name, filter_function)
    for name, filter_function in defaultfilters.register.filters.items()
}


@register.filter
def us_state(code):
    """'CA' -> 'California'; anything unknown is returned as it is."""
    return US_STATES.get(str(code).strip().upper(), code)


@register.filter
def ordinal(value):
    """3 -> '3rd', 11 -> '11th'; anything that is not a number is unchanged."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return value
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@register.filter
def as_date(value):
    """An ISO date string as a date, for the ``date`` filter; else unchanged."""
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return value


@register.filter
def label(key):
    """A column name as words: 'first_name' -> 'First name'."""
    return str(key).replace("_", " ").strip().capitalize()
