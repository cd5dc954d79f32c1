"""A commune's lifecycle in the console: prospect → onboarding → active ⇄ suspended →
archived. Each move is a new configuration version, exactly as editing ``commune.status`` (and
``commune.notice``) in the commune's file and applying it would be: audited in the commune's
log, and what ``tenants export`` writes back."""

from __future__ import annotations

import copy

from flask_babel import gettext as _

from agora.db import DbSession
from agora.errors import Conflict, Invalid
from agora.onboarding.services import STATUS_TRANSITIONS, ApplyPlan, apply_config
from agora.plugins.manager import get_registry
from agora.shared.labels import TENANT_STATUSES
from agora.tenancy.config import validate_document
from agora.tenancy.models import Tenant, TenantStatus
from agora.tenancy.services import current_config


def next_statuses(tenant: Tenant) -> list[TenantStatus]:
    """Where the commune may go from its status, in the lifecycle's order."""
    allowed = STATUS_TRANSITIONS[tenant.status]
    return [status for status in TenantStatus if status in allowed]


def check_move(tenant: Tenant, status: TenantStatus, notice: str) -> str:
    """The notice of a move the lifecycle allows (stripped); raise :class:`Conflict` for a
    move it does not, :class:`Invalid` for a suspension that does not say why."""
    if status not in STATUS_TRANSITIONS[tenant.status]:
        raise Conflict(
            _(
                "A commune that is %(status)s cannot become %(target)s.",
                status=TENANT_STATUSES[tenant.status.value],
                target=TENANT_STATUSES[status.value],
            )
        )
    notice = notice.strip()
    if status == TenantStatus.SUSPENDED and not notice:
        raise Invalid(_("Say publicly why the commune is suspended."))
    return notice


def change_status(
    session: DbSession, tenant: Tenant, status: TenantStatus, notice: str, actor: str
) -> ApplyPlan:
    """Move ``tenant`` to ``status``. A suspension says why, publicly (``notice``, shown on
    every page of the commune's site); any other move clears the notice."""
    notice = check_move(tenant, status, notice)
    version = current_config(session, tenant)
    if version is None:
        raise Conflict(_("This commune has no configuration yet: apply its file first."))
    document = copy.deepcopy(dict(version.document))
    document["commune"]["status"] = status.value
    if status == TenantStatus.SUSPENDED:
        document["commune"]["notice"] = notice
    else:
        document["commune"].pop("notice", None)
    config = validate_document(document, get_registry(), "console")
    return apply_config(session, config, "console", actor)
