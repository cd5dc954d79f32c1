"""PDF documents (reportlab): the charter and the follow-up report, as a town hall files them,
and sheets of voting cards to cut out."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer


def document(title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> bytes:
    """A simple titled document: ``sections`` are (heading, text) pairs; blank lines split
    paragraphs, single line ends are kept."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author="Agora", leftMargin=2.2 * cm, rightMargin=2.2 * cm
    )
    story: list[Flowable] = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(escape(subtitle), styles["Italic"]),
    ]
    for heading, text in sections:
        story += [Spacer(1, 0.4 * cm), Paragraph(escape(heading), styles["Heading2"])]
        story += [
            Paragraph(escape(paragraph).replace("\n", "<br/>"), styles["BodyText"])
            for paragraph in text.split("\n\n")
            if paragraph.strip()
        ]
    pdf.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class VotingCard:
    """One card: the texts it carries (already translated) and the address its QR code holds."""

    heading: str
    details: str
    name: str
    code_label: str
    code: str
    url: str
    instructions: str


#: Cards per sheet (2 columns × 5 rows of 9.5 × 5.5 cm on A4, centred), and cut marks' length.
COLUMNS, ROWS = 2, 5
CARD_WIDTH, CARD_HEIGHT = 9.5 * cm, 5.5 * cm
MARK = 0.5 * cm
QR_SIZE = 3.4 * cm


def voting_cards(title: str, cards: Sequence[VotingCard]) -> bytes:
    """A4 sheets of voting cards, with cut marks in the margins: on each card the heading,
    the details, the holder's name, the code, the instructions, and a QR code of ``url``
    (also a link on the QR code's area)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("Agora")
    width, height = A4
    left = (width - COLUMNS * CARD_WIDTH) / 2
    bottom = (height - ROWS * CARD_HEIGHT) / 2
    per_page = COLUMNS * ROWS
    for start in range(0, len(cards), per_page):
        _cut_marks(canvas, left, bottom)
        for index, card in enumerate(cards[start : start + per_page]):
            column, row = index % COLUMNS, index // COLUMNS
            x = left + column * CARD_WIDTH
            y = bottom + (ROWS - 1 - row) * CARD_HEIGHT
            _card(canvas, card, x, y)
        canvas.showPage()
    if not cards:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _cut_marks(canvas: Canvas, left: float, bottom: float) -> None:
    """Short lines in the margins, in line with every edge between cards."""
    canvas.setLineWidth(0.4)
    right, top = left + COLUMNS * CARD_WIDTH, bottom + ROWS * CARD_HEIGHT
    gap = 0.15 * cm
    for column in range(COLUMNS + 1):
        x = left + column * CARD_WIDTH
        canvas.line(x, top + gap, x, top + gap + MARK)
        canvas.line(x, bottom - gap, x, bottom - gap - MARK)
    for row in range(ROWS + 1):
        y = bottom + row * CARD_HEIGHT
        canvas.line(left - gap, y, left - gap - MARK, y)
        canvas.line(right + gap, y, right + gap + MARK, y)


def _card(canvas: Canvas, card: VotingCard, x: float, y: float) -> None:
    pad = 0.4 * cm
    text_width = CARD_WIDTH - QR_SIZE - 3 * pad
    cursor = y + CARD_HEIGHT - pad - 9
    for line in simpleSplit(card.heading, "Helvetica-Bold", 9, text_width)[:2]:
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(x + pad, cursor, line)
        cursor -= 11
    for line in simpleSplit(card.details, "Helvetica", 8, text_width)[:2]:
        canvas.setFont("Helvetica", 8)
        canvas.drawString(x + pad, cursor, line)
        cursor -= 10
    cursor -= 6
    canvas.setFont("Helvetica-Bold", 12)
    for line in simpleSplit(card.name, "Helvetica-Bold", 12, text_width)[:2]:
        canvas.drawString(x + pad, cursor, line)
        cursor -= 14
    cursor -= 4
    canvas.setFont("Helvetica", 8)
    canvas.drawString(x + pad, cursor, card.code_label)
    cursor -= 16
    canvas.setFont("Courier-Bold", 15)
    canvas.drawString(x + pad, cursor, card.code)
    cursor = y + pad + 2 * 9
    canvas.setFont("Helvetica", 7)
    for line in simpleSplit(card.instructions, "Helvetica", 7, CARD_WIDTH - 2 * pad)[:3]:
        canvas.drawString(x + pad, cursor, line)
        cursor -= 9
    qr_x = x + CARD_WIDTH - pad - QR_SIZE
    qr_y = y + CARD_HEIGHT - pad - QR_SIZE
    qr_code(canvas, card.url, qr_x, qr_y, QR_SIZE)
    canvas.linkURL(card.url, (qr_x, qr_y, qr_x + QR_SIZE, qr_y + QR_SIZE), relative=0)


def qr_code(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """``data`` as a QR code (segno), drawn as vector squares with its quiet zone."""
    matrix = [list(row) for row in segno.make_qr(data, error="m").matrix_iter(border=2)]
    module = size / len(matrix)
    canvas.setFillGray(0)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        # One rectangle per run of dark modules: a third of the drawing operations, which
        # is most of the time a batch of thousands of letters takes.
        for start, run in _dark_runs(row):
            path.rect(x + start * module, top, run * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


def _dark_runs(row: list[int]) -> list[tuple[int, int]]:
    """``(first column, length)`` of each run of dark modules in a row."""
    runs: list[tuple[int, int]] = []
    start = None
    for column, dark in enumerate([*row, 0]):
        if dark and start is None:
            start = column
        elif not dark and start is not None:
            runs.append((start, column - start))
            start = None
    return runs
