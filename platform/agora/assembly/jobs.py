"""Assembly jobs: telling the commune which measures' public updates are overdue."""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _

from agora.assembly import council
from agora.audit import services as audit
from agora.db import utcnow
from agora.extensions import db
from agora.identity.models import Role
from agora.identity.services import addresses_of
from agora.jobs import job
from agora.shared import mail
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant


@job("assembly.overdue_alerts")
def alert_overdue() -> int:
    """E-mail the commune's administrators and agents the measures whose public update is
    overdue, once per lapse (a new update starts the clock again); the number alerted."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    measures = council.overdue_to_alert(db.session, tenant)
    recipients = addresses_of(db.session, tenant, (Role.COMMUNE_ADMIN, Role.AGENT))
    if not measures or not recipients:
        return 0
    lines = [
        _(
            "- %(title)s (%(owner)s): last public update on %(day)s",
            title=m.title,
            owner=m.owner_service or _("no owner service"),
            day=format_date(m.status_updated_at, "long") if m.status_updated_at else "—",
        )
        for m in measures
    ]
    body = "\n".join(
        [
            _(
                "These measures of the action plan have not been updated publicly for more "
                "than %(days)d days; residents see them marked as overdue:",
                days=council.OVERDUE_AFTER.days,
            ),
            "",
            *lines,
        ]
    )
    subject = _("%(count)d measure(s) to update on the follow-up page", count=len(measures))
    for address in recipients:
        mail.send(address, f"{tenant.name} — {subject}", body)
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
        details={"measures": len(measures), "recipients": len(recipients)},
    )
    return len(measures)
