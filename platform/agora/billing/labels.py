"""French names of the billing statuses (never their codes on a page)."""

from __future__ import annotations

from flask_babel import lazy_pgettext as _lp

from agora.shared.labels import Labels

QUOTE_STATUSES = Labels(
    draft=_lp("quote", "draft"),
    submitted=_lp("quote", "sent"),
    accepted=_lp("quote", "accepted"),
    refused=_lp("quote", "refused"),
)
INVOICE_STATUSES = Labels(
    to_issue=_lp("invoice", "to issue"),
    open=_lp("invoice", "awaiting payment"),
    paid=_lp("invoice", "paid"),
    void=_lp("invoice", "cancelled"),
    uncollectible=_lp("invoice", "uncollectible"),
)
#: Tag colours (GOV.UK's), by status.
COLOURS = {
    "draft": "grey",
    "submitted": "blue",
    "accepted": "green",
    "refused": "red",
    "to_issue": "yellow",
    "open": "blue",
    "paid": "green",
    "void": "grey",
    "uncollectible": "red",
}
