"""Test data: batches and profiles made in bulk, patterned on the bundled
Congress data."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from batches.models import Batch, Profile

_names = itertools.count(1)

PARTIES = ("Democrat", "Republican", "Independent")
STATES = ("CA", "TX", "NY", "FL", "WA", "VT")


def profile_fields(number):
    return {
        "bioguide_id": f"T{number:06d}",
        "full_name": f"Member Number {number}",
        "party": PARTIES[number % len(PARTIES)],
        "state": STATES[number % len(STATES)],
        "type": "sen" if number % 5 == 0 else "rep",
        "district": str(number % 40),
    }


def make_batch(*, profiles=0, state=Batch.State.DRAFT, status=None, **fields):
    """A batch with ``profiles`` profiles, inserted in one statement."""
    fields.setdefault("name", f"Batch {next(_names)}")
    if state != Batch.State.DRAFT:
        fields.setdefault("started_at", timezone.now())
    batch = Batch.objects.create(state=state, **fields)
    if profiles:
        make_profiles(batch, profiles, status=status)
    return batch


def make_profiles(batch, count, *, status=None, start=1, **fields):
    status = status or Profile.Status.PENDING
    now = timezone.now()
    extra = dict(fields)
    if status == Profile.Status.COMPLETED:
        extra.setdefault("story", "A story.")
    Profile.objects.bulk_create(
        Profile(
            batch=batch,
            external_id=f"T{number:06d}",
            name=f"Member Number {number}",
            fields=profile_fields(number),
            status=status,
            created_at=now,
            updated_at=now,
            **extra,
        )
        for number in range(start, start + count)
    )


def make_user(username="reader", *, staff=False, operator=False, superuser=False):
    user = get_user_model().objects.create_user(
        username=username,
        password="a-long-test-password",
        is_staff=staff or superuser,
        is_superuser=superuser,
    )
    if operator:
        user.user_permissions.add(Permission.objects.get(codename="operate_batch"))
    return user
