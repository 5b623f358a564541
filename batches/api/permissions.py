"""
Who may do what to batches. The rule lives here once, so that the API and
the admin ask the same question.
"""

from rest_framework.permissions import BasePermission

OPERATE_PERMISSION = "batches.operate_batch"


def can_operate_batches(user):
    """May this user start, reset, retry, cancel and delete batches?"""
    return bool(user and user.is_authenticated and user.has_perm(OPERATE_PERMISSION))


class CanOperateBatches(BasePermission):
    message = (
        "Starting, resetting, retrying, cancelling and deleting batches needs "
        f"the permission {OPERATE_PERMISSION!r}."
    )

    def has_permission(self, request, view):
        return can_operate_batches(request.user)
