"""Pagination that stays cheap on large batches."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class StrictPageSize:
    """A ``page_size`` that is not a whole number from 1 up is refused
    (400, naming the parameter), where DRF would quietly answer its default
    page instead; one above the maximum still gets the maximum."""

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"A whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return min(int(raw), self.max_page_size)


class BatchPagination(StrictPageSize, PageNumberPagination):
    """Numbered pages with a total: there are few batches, and a client
    wants to show how many."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProfileCursorPagination(StrictPageSize, CursorPagination):
    """Keyset pagination on id: each page is one range scan of the
    (batch, id) or (batch, status, id) index, however deep, and no page
    counts the batch."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # The position goes into ``id > position``: anything but digits
        # would make the database query fail instead of answering 404.
        position = cursor.position if cursor is not None else None
        if position is not None and not (position.isascii() and position.isdigit()):
            raise NotFound(self.invalid_cursor_message)
        return cursor
