"""CSV downloads of search results and caseloads, built only from the choke point's view objects.

Rules:
- Only items the downloader may read become columns; a withheld item is not
  a column at all (a list is not a record page: an empty column per row
  would only repeat "not shared").
- Every cell is neutralised against spreadsheet formula injection.
- The choke point has committed the audit event (export.search or
  export.caseload) before the view returns the response, so before the first
  byte is sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

from access.disclosure import ItemView
from audit.export import safe_cell
from records.dataset import ITEMS_BY_CODE


def readable_columns(rows: Sequence[Mapping[str, ItemView]], order: Iterable[str]) -> list[str]:
    """Item codes shown in at least the first row's view, i.e. those the downloader may read, in list order."""
    if not rows:
        return []
    first = rows[0]
    return [code for code in order if code in first and not first[code].withheld]


def _cell(item: ItemView | None) -> str:
    return "; ".join(item.lines) if item is not None and not item.withheld else ""


def csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
    yield buffer.getvalue()


def list_csv(
    *,
    rows: Sequence[tuple[str, Mapping[str, ItemView], list[str]]],
    order: Iterable[str],
    extra_header: list[str],
) -> Iterator[str]:
    """rows: (record id, items, extra cells) -> CSV lines with one column per readable item."""
    codes = readable_columns([items for _, items, _ in rows], order)
    header = ["record_id", *extra_header, *(ITEMS_BY_CODE[c].label for c in codes)]
    return csv_lines(header, ([rid, *extra, *(_cell(items.get(c)) for c in codes)] for rid, items, extra in rows))
