"""Report tables: counts with small numbers suppressed, and the geometry of their bar charts.

Rules and reasons:
- Reports show counts only, never a row that identifies a person.
- A count from 1 to 4 is shown as "fewer than 5" (``SUPPRESSED``), in the
  table, the chart and the CSV alike, so nobody can be picked out of a small
  group (for example the one person with a rare diagnosis in a team). Zero is
  shown: it identifies nobody. No totals are shown, so a suppressed cell
  cannot be worked out by subtraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SMALL = 5
SUPPRESSED = "<5"
COLOURS = ("#1d70b8", "#f47738", "#00703c", "#912b88", "#d4351c", "#505a5f")


def suppress(count: int) -> int | None:
    """None when the count must not be shown (1 to 4)."""
    return None if 0 < count < SMALL else count


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Table:
    """One report table: row labels, column headings and suppressed counts (None = fewer than 5)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int | None, ...]], ...]
    note: str = ""

    @classmethod
    def of(cls, title: str, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[int]]], note: str = "") -> Table:
        return cls(title, tuple(columns), tuple((label, tuple(suppress(c) for c in counts)) for label, counts in rows), note)

    def cell_text(self, value: int | None) -> str:
        return SUPPRESSED if value is None else str(value)

    def csv_rows(self) -> list[list[str]]:
        return [[self.title, *self.columns]] + [[label, *(self.cell_text(v) for v in values)] for label, values in self.rows]

    @property
    def text_rows(self) -> list[tuple[str, list[str]]]:
        return [(label, [self.cell_text(v) for v in values]) for label, values in self.rows]

    # Chart geometry (horizontal grouped bars), drawn as SVG by the template: no script, no library.
    LABEL_WIDTH = 220
    PLOT_WIDTH = 420
    BAR = 14
    GAP = 10

    @property
    def chart_height(self) -> int:
        return max(40, len(self.rows) * (self.BAR * len(self.columns) + self.GAP) + 30)

    @property
    def chart_width(self) -> int:
        return self.LABEL_WIDTH + self.PLOT_WIDTH + 60

    @property
    def bars(self) -> list[Bar]:
        peak = max((v for _, values in self.rows for v in values if v is not None), default=0) or 1
        out = []
        y = 10.0
        for _label, values in self.rows:
            for i, value in enumerate(values):
                width = 0.0 if value is None else self.PLOT_WIDTH * value / peak
                out.append(Bar(self.LABEL_WIDTH, y, width, self.BAR - 2, COLOURS[i % len(COLOURS)], self.cell_text(value)))
                y += self.BAR
            y += self.GAP
        return out

    @property
    def row_labels(self) -> list[tuple[str, float]]:
        step = self.BAR * len(self.columns) + self.GAP
        return [(label, 10 + i * step + self.BAR * len(self.columns) / 2 + 4) for i, (label, _) in enumerate(self.rows)]

    @property
    def legend(self) -> list[tuple[str, str, int, int]]:
        """(column, colour, x, y) of each legend key, three to a line, drawn in SVG (no inline styles: the CSP forbids them)."""
        return [(c, COLOURS[i % len(COLOURS)], (i % 3) * 220, (i // 3) * 18) for i, c in enumerate(self.columns)]

    @property
    def legend_height(self) -> int:
        return ((len(self.columns) + 2) // 3) * 18 + 4
