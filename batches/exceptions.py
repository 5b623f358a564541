"""Domain errors, which each front door translates for its own users."""


class StateConflict(Exception):
    """The action does not fit the batch's state (HTTP 409)."""


class ImportRejected(Exception):
    """An input file or list of profiles cannot be imported (HTTP 400).

    ``line`` is the 1-based line of the file (or position in the list) where
    the problem is, when there is one.
    """

    def __init__(self, message, *, line=None, field=None):
        self.message = message
        self.line = line
        self.field = field
        super().__init__(f"line {line}: {message}" if line else message)


class LimitExceeded(ImportRejected):
    """An upload is past one of the configured limits (HTTP 413 for size)."""
