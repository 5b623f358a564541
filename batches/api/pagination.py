"""Pagination that stays cheap on large batches."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination


class BatchPagination(PageNumberPagination):
    """Numbered pages with a total: there are few batches, and a client
    wants to show how many."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProfileCursorPagination(CursorPagination):
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
