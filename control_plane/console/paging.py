"""The console's paging: a cursor left in a page's address from other filters starts again."""

from collections.abc import Callable

from resale.cursors import Page
from resale.errors import InvalidCursor


def page_or_first(read: Callable[[str | None], Page], cursor: str | None) -> Page:
    """``read(cursor)``, or the first page when the cursor belongs to other filters (the user
    changed them and kept the address), where the API would answer 400."""
    try:
        return read(cursor)
    except InvalidCursor:
        return read(None)
