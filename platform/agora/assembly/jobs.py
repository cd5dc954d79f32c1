"""Assembly jobs: telling the commune which measures' public updates are overdue."""

from __future__ import annotations

from flask_babel import gettext as _

from agora.assembly import council, notices
from agora.audit import services as audit
from agora.db import utcnow
from agora.extensions import db
from agora.identity.models import Role
from agora.identity.services import holders_of
from agora.jobs import job
from agora.notifications.services import notify
from agora.shared.people import person_for_account
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant


@job("assembly.overdue_alerts")
def alert_overdue() -> int:
    """Notify the commune's administrators and agents (on their page, and by e-mail in their
    language) of the measures whose public update is overdue, once per lapse (a new update
    starts the clock again); the number alerted."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    measures = council.overdue_to_alert(db.session, tenant)
    holders = holders_of(db.session, tenant, (Role.COMMUNE_ADMIN, Role.AGENT))
    if not measures or not holders:
        return 0
    recipients = [
        person_for_account(db.session, tenant, a.id, a.display_name or _("the commune"))
        for a in holders
    ]
    notified = notify(
        db.session,
        tenant,
        recipients,
        notices.MEASURE_OVERDUE,
        {
            "days": council.OVERDUE_AFTER.days,
            "measures": [
                {
                    "id": m.id,
                    "updated_at": m.status_updated_at.isoformat() if m.status_updated_at else None,
                }
                for m in measures
            ],
        },
    )
    now = utcnow()
    for measure in measures:
        measure.overdue_alerted_at = now
    audit.record(
        db.session,
        tenant,
        actor="job:assembly.overdue_alerts",
        action="measure.overdue_alerted",
        object_type="measure",
        object_id=",".join(str(m.id) for m in measures),
        details={"measures": len(measures), "recipients": notified},
    )
    return len(measures)
