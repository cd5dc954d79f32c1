"""PDF documents (reportlab): the charter and the follow-up report, as a town hall files them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
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
