"""The operator console, on the platform host: the communes a staff member works for (their
onboarding and lifecycle), and the installed plugins."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.db import paris_today
from agora.errors import DomainError, Invalid
from agora.extensions import db
from agora.identity import handoff
from agora.identity.access import safe_next
from agora.identity.acting import current_account, who
from agora.identity.services import commune_followed_by, communes_of_staff
from agora.onboarding import lifecycle, wizard
from agora.onboarding.forms import CommuneStatusForm, NewCommuneForm
from agora.plugins.manager import get_registry
from agora.shared.forms import ask_confirmation, notify
from agora.shared.labels import TENANT_STATUSES
from agora.tenancy.config import TenantConfig
from agora.tenancy.models import Tenant, TenantKind, TenantStatus
from agora.tenancy.services import current_config

bp = Blueprint("console", __name__, url_prefix="/console")


def index() -> str:
    account = current_account()
    tenants = communes_of_staff(db.session, account) if account is not None else []
    return render_template("console/index.html", tenants=tenants)


def _followed_commune(slug: str) -> Tenant:
    """A commune the signed-in staff member works for (every commune for a platform admin)."""
    tenant = commune_followed_by(db.session, current_account(), slug)
    if tenant is None:
        abort(404)
    return tenant


def _commune_page(tenant: Tenant, form: CommuneStatusForm, status: int = 200) -> tuple[str, int]:
    form.offer(lifecycle.next_statuses(tenant))
    version = current_config(db.session, tenant)
    notice = TenantConfig(version.document).notice if version is not None else None
    return render_template("console/commune.html", tenant=tenant, form=form, notice=notice), status


def _colleagues() -> list[tuple[int, str]]:
    """The staff a new commune may be given besides its creator (who follows it anyway)."""
    account = current_account()
    return [
        (colleague.id, colleague.email or "")
        for colleague in wizard.consultancy_staff(db.session)
        if account is None or colleague.id != account.id
    ]


def _new_commune_page(form: NewCommuneForm, status: int = 200) -> tuple[str, int]:
    profiles = wizard.profiles()
    form.offer(profiles, _colleagues())
    return render_template(
        "console/new_commune.html",
        form=form,
        profile_hints=[{"hint": {"text": profile.description}} for profile in profiles],
        base_domain=current_app.config["AGORA_BASE_DOMAIN"],
    ), status


@bp.get("/communes/new")
def new_commune() -> tuple[str, int]:
    return _new_commune_page(NewCommuneForm(formdata=None))


@bp.post("/communes/new")
def create_commune() -> str | tuple[str, int] | Response:
    """The onboarding wizard: check everything, ask for confirmation, then create the
    commune, its staff, its first administrator and its programme in one transaction."""
    account = current_account()
    assert account is not None  # the policy let only staff and platform admins in
    form = NewCommuneForm()
    form.offer(wizard.profiles(), _colleagues())
    if not form.validate():
        return _new_commune_page(form, 422)
    new = wizard.NewCommune(
        name=form.name.data,
        insee_code=form.insee_code.data,
        kind=TenantKind(form.kind.data),
        population=int(form.population.data),
        slug=form.slug.data,
        profile=form.profile.data,
        staff_ids=tuple(int(value) for value in form.staff.data or ()),
        admin_email=form.admin_email.data,
        starts_on=form.starts_on.data,
    )
    try:
        wizard.check_new_commune(db.session, new, today=paris_today())
    except wizard.CommuneRefused as refused:
        for name, message in refused.errors:
            form.refuse(name, message)
        return _new_commune_page(form, refused.status)
    profile = next(p for p in wizard.profiles() if p.key == new.profile)
    if (
        page := ask_confirmation(
            title=_("Onboard %(commune)s?", commune=new.name),
            consequences=[
                _(
                    "Its site opens at %(host)s, with the rules of « %(profile)s », which it "
                    "can then change.",
                    host=f"{new.slug}.{current_app.config['AGORA_BASE_DOMAIN']}",
                    profile=profile.title,
                ),
                _(
                    "Its support programme starts on %(day)s.",
                    day=format_date(new.starts_on, format="long"),
                ),
                _(
                    "%(email)s becomes its administrator and receives a link to sign in.",
                    email=new.admin_email,
                ),
            ],
            cancel_url=url_for("console.new_commune"),
            confirm_text=_("Onboard the commune"),
            irreversible=False,
        )
    ) is not None:
        return page
    tenant = wizard.create_commune(
        db.session, new, creator=account, actor=who(), today=paris_today()
    )
    db.session.commit()
    wizard.invite_administrator(db.session, tenant, new.admin_email, inviter=account.email or "")
    db.session.commit()
    notify(
        _(
            "%(commune)s is onboarded; %(email)s has been sent a link to sign in.",
            commune=tenant.name,
            email=new.admin_email,
        )
    )
    return redirect(url_for("console.commune_page", slug=tenant.slug))


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
