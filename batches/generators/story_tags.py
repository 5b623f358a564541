"""
The only tags and filters a story template may use. Templates come from
users, so everything that reaches outside the profile is left out: no
``load``, ``include``, ``extends``, ``url``, ``csrf_token`` or ``debug``
(which prints the loaded modules).
"""

import datetime

from django.template import Library, defaultfilters, defaulttags

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

register = Library()
register.tags = {
    name: compile_function
    for name, compile_function in defaulttags.register.tags.items()
    if name in ALLOWED_TAGS
}
register.filters = dict(defaultfilters.register.filters)


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
