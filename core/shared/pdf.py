"""Small helpers for the printable A4 reports (fpdf2 with its core fonts): latin-1 safe text,
a page footer with the page number, section headings, simple wrapping tables and the
signature block of a unit head."""

from __future__ import annotations

from fpdf import FPDF

# Typographic marks people type (a range "Januari–Maret", quotes, an ellipsis) that the core
# fonts lack, written as their plain equivalents instead of "?".
PLAIN = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "-",
     "≥": ">=", "≤": "<=", "\u00a0": " "}
)  # fmt: skip


def latin1(text: str) -> str:
    """What the PDF's core fonts can draw: typographic marks made plain, anything else '?'."""
    return text.translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


def decimal_comma(value: float, places: int) -> str:
    """A figure as Indonesian writes it (a decimal comma): 2,5."""
    return f"{value:.{places}f}".replace(".", ",")


class NumberedPages(FPDF):
    """An A4 report whose pages carry "Halaman N" at the foot."""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 6, f"Halaman {self.page_no()}", align="C")


def heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)


def table(pdf: FPDF, widths: tuple[float, ...], header: list[str], rows: list[list[str]]) -> None:
    """A simple table whose cells wrap; a row that would not fit starts a new page."""
    pdf.set_font("Helvetica", "B", 9)
    table_row(pdf, widths, header)
    pdf.set_font("Helvetica", "", 9)
    for row in rows:
        table_row(pdf, widths, row)


def line_count(pdf: FPDF, width: float, height: float, text: str) -> int:
    """How many lines `text` takes in a cell `width` wide (at least one)."""
    found = pdf.multi_cell(width, height, text, dry_run=True, output="LINES")
    return max(1, len(list(found)))  # type: ignore[arg-type]


def table_row(pdf: FPDF, widths: tuple[float, ...], cells: list[str]) -> None:
    texts = [latin1(c) for c in cells]
    lines = max(line_count(pdf, w, 5, t) for w, t in zip(widths, texts, strict=True))
    height = 5 * max(lines, 1)
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    x, y = pdf.get_x(), pdf.get_y()
    for w, t in zip(widths, texts, strict=True):
        pdf.rect(x, y, w, height)
        pdf.set_xy(x, y)
        pdf.multi_cell(w, 5, t, border=0)
        x += w
    pdf.set_xy(pdf.l_margin, y + height)


def signature_block(pdf: FPDF, lines: list[tuple[str, float]]) -> None:
    """The signature block at the right of the page: (text, height) lines, kept whole: on a
    new page when it would not fit (a long unit name wraps, and is measured)."""
    width = 75.0
    needed = 8.0 + sum(height * line_count(pdf, width, height, latin1(t)) for t, height in lines)
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(8)
    left = pdf.w - pdf.r_margin - width
    for text, height in lines:
        pdf.set_x(left)
        pdf.multi_cell(width, height, latin1(text), new_x="LMARGIN", new_y="NEXT")
