"""The operator console, on the platform host: the communes a staff member works for, and
the installed plugins."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.errors import DomainError, Invalid
from agora.extensions import db
from agora.identity import handoff
from agora.identity.access import safe_next
from agora.identity.acting import current_account, who
from agora.identity.services import communes_of_staff
from agora.onboarding import lifecycle
from agora.onboarding.forms import CommuneStatusForm
from agora.plugins.manager import get_registry
from agora.shared.forms import ask_confirmation, notify
from agora.shared.labels import TENANT_STATUSES
from agora.tenancy.config import TenantConfig
from agora.tenancy.models import Tenant, TenantStatus
from agora.tenancy.services import current_config, tenant_by_slug

bp = Blueprint("console", __name__, url_prefix="/console")


def index() -> str:
    account = current_account()
    tenants = communes_of_staff(db.session, account) if account is not None else []
    return render_template("console/index.html", tenants=tenants)


def _followed_commune(slug: str) -> Tenant:
    """A commune the signed-in staff member works for (every commune for a platform admin)."""
    account = current_account()
    tenant = tenant_by_slug(db.session, slug)
    if account is None or tenant is None or tenant not in communes_of_staff(db.session, account):
        abort(404)
    return tenant


def _commune_page(tenant: Tenant, form: CommuneStatusForm, status: int = 200) -> tuple[str, int]:
    form.offer(lifecycle.next_statuses(tenant))
    version = current_config(db.session, tenant)
    notice = TenantConfig(version.document).notice if version is not None else None
    return render_template("console/commune.html", tenant=tenant, form=form, notice=notice), status


@bp.get("/communes/<slug>")
def commune_page(slug: str) -> tuple[str, int]:
    return _commune_page(_followed_commune(slug), CommuneStatusForm(formdata=None))


@bp.post("/communes/<slug>/status")
def change_commune_status(slug: str) -> str | tuple[str, int] | Response:
    """Move the commune along its lifecycle (a new configuration version, audited)."""
    tenant = _followed_commune(slug)
    form = CommuneStatusForm()
    form.offer(lifecycle.next_statuses(tenant))
    if not form.validate():
        return _commune_page(tenant, form, 422)
    status = TenantStatus(form.status.data)
    label = TENANT_STATUSES[status.value]
    try:
        lifecycle.check_move(tenant, status, form.notice.data or "")
    except DomainError as refusal:  # said before the confirmation is asked
        form.refuse("notice" if isinstance(refusal, Invalid) else None, refusal.message)
        return _commune_page(tenant, form, refusal.status)
    consequences = {
        TenantStatus.SUSPENDED: _(
            "Its site stays readable with the notice on every page; only its staff can act."
        ),
        TenantStatus.ARCHIVED: _("Its site closes for good; its data and audit log are kept."),
    }
    if (
        page := ask_confirmation(
            title=_("Make %(commune)s %(status)s?", commune=tenant.name, status=label),
            consequences=[
                consequences.get(status, _("Its site follows the new status at once.")),
                _("A new version of its rules records the change in its audit log."),
            ],
            cancel_url=url_for("console.commune_page", slug=tenant.slug),
            confirm_text=_("Change the status"),
            irreversible=status == TenantStatus.ARCHIVED,
        )
    ) is not None:
        return page
    lifecycle.change_status(db.session, tenant, status, form.notice.data or "", who())
    db.session.commit()
    notify(_("%(commune)s is now %(status)s.", commune=tenant.name, status=label))
    return redirect(url_for("console.commune_page", slug=tenant.slug))


@bp.get("/plugins")
def plugins() -> str:
    registry = get_registry()
    rows = [(name, registry.implemented_hooks(name)) for name in registry.names()]
    return render_template("console/plugins.html", plugins=rows)


@bp.get("/communes/<slug>/open")
def open_commune(slug: str) -> Response:
    """Continue as the same person on the commune's own host (a signed one-time hand-off),
    on the page ``next`` names (a path of that site; its members' page otherwise)."""
    tenant = _followed_commune(slug)
    account = current_account()
    assert account is not None  # _followed_commune refused anyone else
    next_path = request.args.get("next")
    landing = safe_next(next_path) if next_path else url_for("identity.members")
    return redirect(handoff.url_for_commune(account, tenant, method="console", next_path=landing))
