"""Documents in the formats a town hall uses: iCalendar, CSV (``;``, UTF-8 with BOM), PDF."""
