"""Billing's notifications (see ``agora.notifications.kinds``).

``billing.quote_sent``
    ``quote_id``: a quote was sent to the commune, for its administrators to accept or refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from agora.billing.models import Quote
from agora.notifications.kinds import Gone, Link, RenderContext, Rendered, renderer

QUOTE_SENT = "billing.quote_sent"


@renderer(QUOTE_SENT)
def _quote_sent(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    quote = context.session.get(Quote, (context.tenant.id, params["quote_id"]))
    if quote is None:
        raise Gone(f"quote {params['quote_id']} of this notification is missing")
    return Rendered(
        _("Quote %(number)s to accept or refuse", number=quote.number),
        _(
            "The consultancy sent the quote %(number)s (%(title)s). Read it and accept or "
            "refuse it on the commune's billing page.",
            number=quote.number,
            title=quote.title,
        ),
        Link("billing.commune_page", {}),
    )
