"""
Generated profiles patterned on the bundled Congress data: the columns of
data/congress/legislators-current-terms.csv, with names, genders, parties and
states drawn from the real rows, so that a million profiles look and weigh
like a million real ones. The same seed gives the same rows.
"""

import csv
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CONGRESS = Path(__file__).resolve().parent.parent / "data" / "congress"
CURRENT_TERMS = CONGRESS / "legislators-current-terms.csv"
HISTORICAL = CONGRESS / "legislators-historical.csv"
STORY_TEMPLATE = CONGRESS / "story.txt"

# Starting years of recent Congresses, for made-up term dates.
TERM_STARTS = tuple(range(1981, 2027, 2))


@dataclass(frozen=True)
class Pools:
    """What generated rows are drawn from, read once from the real files."""

    columns: tuple
    first_names: dict  # gender -> names
    middle_names: tuple
    last_names: tuple
    suffixes: tuple
    nicknames: tuple
    parties: tuple  # repeated as often as they occur, so choice() is weighted
    districts: dict  # state -> the districts it has (0 for at large)
    leadership_roles: tuple


def _read(path):
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@cache
def pools():
    current = _read(CURRENT_TERMS)
    people = current + _read(HISTORICAL)
    with CURRENT_TERMS.open(newline="", encoding="utf-8") as stream:
        columns = tuple(next(csv.reader(stream)))

    first_names = {"M": set(), "F": set()}
    for person in people:
        if person["gender"] in first_names and person["first_name"]:
            first_names[person["gender"]].add(person["first_name"])

    districts = {}
    for member in current:
        seats = districts.setdefault(member["state"], set())
        if member["type"] == "rep":
            seats.add(int(member["district"] or 0))

    return Pools(
        columns=columns,
        first_names={
            gender: tuple(sorted(names)) for gender, names in first_names.items()
        },
        middle_names=tuple(
            sorted({p["middle_name"] for p in people if p["middle_name"]})
        ),
        last_names=tuple(sorted({p["last_name"] for p in people if p["last_name"]})),
        suffixes=tuple(sorted({p["suffix"] for p in people if p["suffix"]})),
        nicknames=tuple(sorted({p["nickname"] for p in people if p["nickname"]})),
        parties=tuple(member["party"] for member in current),
        districts={
            state: tuple(sorted(seats or {0})) for state, seats in districts.items()
        },
        leadership_roles=tuple(
            sorted({m["leadership_roles"] for m in current if m["leadership_roles"]})
        ),
    )


def profile_rows(count, *, seed=1):
    """``count`` rows as dicts with the Congress columns; ids are unique."""
    pool = pools()
    rng = random.Random(seed)
    states = tuple(sorted(pool.districts))
    for number in range(1, count + 1):
        gender = "F" if rng.random() < 0.29 else "M"
        first = rng.choice(pool.first_names[gender])
        middle = rng.choice(pool.middle_names) if rng.random() < 0.6 else ""
        last = rng.choice(pool.last_names)
        suffix = rng.choice(pool.suffixes) if rng.random() < 0.04 else ""
        nickname = rng.choice(pool.nicknames) if rng.random() < 0.03 else ""
        state = rng.choice(states)
        senator = rng.random() < 0.19
        first_year = rng.choice(TERM_STARTS[:-1])
        terms = 1 + (2025 - first_year) // (6 if senator else 2)
        party = rng.choice(pool.parties)
        yield {
            "bioguide_id": f"{last[0].upper()}{number:07d}",
            "govtrack_id": str(400000 + number),
            "wikidata_id": f"Q{1000000 + number * 7}",
            "wikipedia_id": f"{first} {last}",
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "suffix": suffix,
            "nickname": nickname,
            "full_name": " ".join(
                part for part in (first, middle, last, suffix) if part
            ),
            "birthday": f"{rng.randint(1935, 1990)}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}",
            "gender": gender,
            "type": "sen" if senator else "rep",
            "state": state,
            "district": "" if senator else str(rng.choice(pool.districts[state])),
            "senate_class": str(rng.randint(1, 3)) if senator else "",
            "state_rank": rng.choice(("junior", "senior")) if senator else "",
            "party": party,
            "caucus": "Democrat" if party == "Independent" else "",
            "how": "",
            "term_start": "2025-01-03",
            "term_end": "2031-01-03" if senator else "2027-01-03",
            "first_term_start": f"{first_year}-01-03",
            "first_term_type": "sen" if senator else "rep",
            "num_terms": str(terms),
            "num_house_terms": "0" if senator else str(terms),
            "num_senate_terms": str(terms) if senator else "0",
            "parties_over_career": party,
            "states_over_career": state,
            "leadership_roles": (
                rng.choice(pool.leadership_roles) if rng.random() < 0.02 else ""
            ),
        }


def write_csv(path, count, *, seed=1):
    """Write ``count`` generated rows to ``path`` with the Congress header."""
    columns = pools().columns
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(profile_rows(count, seed=seed))
    return path


def read_csv_rows(path, limit=None):
    """The rows of a generated CSV as dicts, at most ``limit`` of them."""
    with path.open(newline="", encoding="utf-8") as stream:
        for number, row in enumerate(csv.DictReader(stream)):
            if limit is not None and number >= limit:
                return
            yield row
