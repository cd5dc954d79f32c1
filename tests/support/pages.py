"""Reading a page as a person does: its text, without tags, entities or layout whitespace."""

from __future__ import annotations

import html
import re
from typing import Any


def page_text(response: Any) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r"\s+", " ", text)
