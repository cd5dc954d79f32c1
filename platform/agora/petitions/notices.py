"""The petitions' notifications, rendered for each reader (see ``agora.notifications.kinds``).

Each kind's parameters, as stored with the notification:

``petition.level_reached``
    ``petition_id``, ``level`` (the key of the highest level crossed, in the rules the
    petition pinned), ``signatures`` (its count of signatures then).
``petition.decided``
    ``petition_id`` (the title and the public answer are the petition's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from agora.notifications.kinds import Gone, Link, RenderContext, Rendered, renderer
from agora.petitions.models import Petition
from agora.plugins.contracts import InterpellationRules
from agora.shared.labels import PETITION_EFFECTS

LEVEL_REACHED = "petition.level_reached"
DECIDED = "petition.decided"


def _petition(context: RenderContext, params: Mapping[str, Any]) -> Petition:
    petition = context.session.get(Petition, (context.tenant.id, params["petition_id"]))
    if petition is None:  # petitions are kept; a notification outlives none of them
        raise Gone(f"petition {params['petition_id']} of this notification is missing")
    return petition


def _link(petition: Petition) -> Link:
    return Link("petitions.petition_page", {"petition_id": petition.id})


@renderer(LEVEL_REACHED)
def _level_reached(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    petition = _petition(context, params)
    rules = InterpellationRules.from_document(petition.rules)
    level = next(lv for lv in rules.levels if lv.key == params["level"])
    # The commune's own words for the level are in its language; other readers get ours.
    effect = level.label if context.locale == context.tenant.locale else None
    return Rendered(
        ngettext(
            "Petition: %(num)d signature reached",
            "Petition: %(num)d signatures reached",
            level.signatures,
        ),
        ngettext(
            "The petition “%(title)s” has %(num)d signature, which obliges the commune to: "
            "%(effect)s. Record on the petitions' staff page what the commune does.",
            "The petition “%(title)s” has %(num)d signatures, which obliges the commune to: "
            "%(effect)s. Record on the petitions' staff page what the commune does.",
            params["signatures"],
            title=petition.title,
            effect=effect or str(PETITION_EFFECTS[level.effect]),
        ),
        _link(petition),
    )


@renderer(DECIDED)
def _decided(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    petition = _petition(context, params)
    return Rendered(
        _("The commune answered the petition “%(title)s”", title=petition.title),
        petition.answer,
        _link(petition),
    )
