"""CSV written line by line as rows are read, for streamed downloads (the audit report, the
console's history export), so no export is held in memory.

Every text cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with ``'``: these files are opened in
spreadsheets, and a tenant's data must not run there as code.
"""

import csv
from collections.abc import Iterable, Iterator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file whose ``write`` returns the text, so ``csv.writer`` hands each line back."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(value: object) -> object:
    """The value, with text that would start a formula quoted with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header line, then one line per row, each cell spreadsheet-safe."""
    writer = csv.writer(_Echo())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])
