"""What reaches the invited households on paper: the letters for the print shop (one A4
page each, for a window envelope) and the door-to-door pairs' visit sheets.

The letter's address block sits where a DL window envelope (110 × 220 mm, window 45 × 100 mm
at 20 mm from the right edge and 50 mm from the top, the common French « enveloppe à fenêtre
») shows it once the A4 is folded in three: 100 mm from the left edge, 50 mm from the top.
What is the same on every letter (the letterhead, the notice) is drawn once, as a form the
pages reuse, so that thousands of letters print in seconds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from agora.documents.pdf import qr_code
from agora.draws import responses

WIDTH, HEIGHT = A4
MARGIN = 20 * mm
ADDRESS_LEFT, ADDRESS_TOP, ADDRESS_WIDTH = 100 * mm, 50 * mm, 90 * mm
QR_SIZE = 32 * mm


@dataclass(frozen=True)
class Letter:
    """One invited household: the address lines and the answer's code and URL."""

    address: tuple[str, ...]
    code: str
    url: str


@dataclass(frozen=True)
class LetterText:
    """The words of the letters, in the commune's language."""

    commune: str
    colour: str
    title: str
    paragraphs: tuple[str, ...]
    code_label: str
    answer_label: str
    notice_title: str


def address_lines(contact: dict[str, str]) -> tuple[str, ...]:
    """The address block from the contact an invitation keeps of its register (address
    file: number, repetition, street, postcode; electoral roll: names, address, postcode)."""
    name = " ".join(contact.get(k, "") for k in ("prenoms", "prenom", "nom") if contact.get(k))
    street = " ".join(
        contact.get(k, "") for k in ("numero", "rep", "nom_voie", "adresse") if contact.get(k)
    )
    lines = [name or "Aux habitant·es", street, contact.get("code_postal", "")]
    return tuple(line for line in lines if line)


def _wrap(canvas: Canvas, text: str, x: float, y: float, width: float, size: float) -> float:
    canvas.setFont("Helvetica", size)
    for line in simpleSplit(text, "Helvetica", size, width):
        canvas.drawString(x, y, line)
        y -= size * 1.35
    return y


def _fixed_parts(canvas: Canvas, text: LetterText) -> None:
    """The letterhead and the data notice, drawn once for every page."""
    canvas.beginForm("fixed")
    canvas.setFillColor(HexColor(text.colour))
    canvas.rect(0, HEIGHT - 14 * mm, WIDTH, 14 * mm, stroke=0, fill=1)
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(MARGIN, HEIGHT - 9.5 * mm, text.commune)
    canvas.setFillColor(HexColor("#0b0c0c"))
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(MARGIN, 52 * mm, text.notice_title)
    _wrap(canvas, responses.NOTICE, MARGIN, 47 * mm, WIDTH - 2 * MARGIN, 8)
    canvas.endForm()


def letters_pdf(text: LetterText, letters: Sequence[Letter]) -> bytes:
    """One A4 page per letter, in order."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(text.title)
    canvas.setAuthor(text.commune)
    _fixed_parts(canvas, text)
    for letter in letters:
        canvas.doForm("fixed")
        y = HEIGHT - ADDRESS_TOP
        canvas.setFont("Helvetica", 11)
        for line in letter.address:
            canvas.drawString(ADDRESS_LEFT, y, line[:60])
            y -= 14
        y = HEIGHT - 100 * mm
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(MARGIN, y, text.title)
        y -= 10 * mm
        for paragraph in text.paragraphs:
            y = _wrap(canvas, paragraph, MARGIN, y, WIDTH - 2 * MARGIN - QR_SIZE - 8 * mm, 10.5)
            y -= 4 * mm
        box = 70 * mm
        canvas.setFont("Helvetica", 10)
        canvas.drawString(MARGIN, box + 12 * mm, text.code_label)
        canvas.setFont("Courier-Bold", 22)
        canvas.drawString(MARGIN, box, letter.code)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(MARGIN, box - 8 * mm, f"{text.answer_label} {letter.url}")
        qr_x = WIDTH - MARGIN - QR_SIZE
        qr_code(canvas, letter.url, qr_x, box - 10 * mm, QR_SIZE)
        canvas.linkURL(letter.url, (qr_x, box - 10 * mm, qr_x + QR_SIZE, box - 10 * mm + QR_SIZE))
        canvas.showPage()
    if not letters:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def visit_sheet_pdf(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """A round's addresses in walking order, with a box per outcome to tick."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    widths = [
        95 * mm,
        25 * mm,
        *[(WIDTH - 2 * MARGIN - 120 * mm) / (len(columns) - 2)] * (len(columns) - 2),
    ]
    per_page = 26
    for start in range(0, max(len(rows), 1), per_page):
        canvas.setFont("Helvetica-Bold", 13)
        canvas.drawString(MARGIN, HEIGHT - MARGIN, title)
        y = HEIGHT - MARGIN - 12 * mm
        canvas.setFont("Helvetica-Bold", 8)
        x = MARGIN
        for column, width in zip(columns, widths, strict=True):
            canvas.drawString(x, y, column)
            x += width
        canvas.setFont("Helvetica", 9)
        for row in rows[start : start + per_page]:
            y -= 9 * mm
            x = MARGIN
            for index, (cell, width) in enumerate(zip(row, widths, strict=False)):
                if index < 2:
                    canvas.drawString(x, y, cell[:55])
                else:
                    canvas.rect(x + 2 * mm, y - 1 * mm, 4 * mm, 4 * mm)
                x += width
            canvas.line(MARGIN, y - 3 * mm, WIDTH - MARGIN, y - 3 * mm)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
