"""Sign-in, sign-out, personal data, and the commune's members page. Views stay thin: the
rules are in services, oidc, handoff and policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from agora.extensions import db, limiter
from agora.identity import federation, handoff, oidc
from agora.identity.access import record_failure, safe_next, sign_in, sign_out
from agora.identity.acting import current_account
from agora.identity.forms import (
    GrantRoleForm,
    MagicLinkForm,
    MagicLinkUseForm,
    SecondFactorForm,
)
from agora.identity.models import Account, Role, RoleGrant, TokenPurpose
from agora.identity.services import (
    TokenRefused,
    account_by_email,
    actor,
    check_token,
    erase_account,
    export_personal_data,
    grant_role_by_email,
    issue_magic_link,
    members_of,
    needs_second_factor,
    record_sign_in_failure,
    record_sign_out,
    redeem_magic_link,
    revoke_grant,
    totp_provisioning,
    verify_totp,
)
from agora.identity.sessions import end_all_sessions
from agora.shared import mail
from agora.shared.forms import ask_confirmation, notify, render_invalid
from agora.shared.labels import ROLES
from agora.tenancy.addresses import site_address, site_host
from agora.tenancy.context import AUTH_SUBDOMAIN, get_owned_or_404, request_tenant
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import tenant_by_slug

bp = Blueprint("identity", __name__, template_folder="templates")


def _refusal(reason: str) -> str:
    messages = {
        "unknown": _("This sign-in link is not valid."),
        "forged": _("This sign-in link is not valid."),
        "used": _("This sign-in link has already been used. Ask for a new one."),
        "expired": _("This sign-in link has expired. Ask for a new one."),
    }
    return str(messages.get(reason, messages["unknown"]))


# --- sign-in page and magic links ----------------------------------------------------------


@bp.get("/login")
def login() -> str:
    return _login_page(MagicLinkForm(formdata=None, next=request.args.get("next", "")))


def _login_page(form: MagicLinkForm) -> str:
    return render_template(
        "identity/login.html",
        form=form,
        providers=oidc.providers_enabled(db.session, request_tenant()),
        next_path=form.next.data or "",
    )


@bp.post("/login/magic")
@limiter.limit("5 per minute; 20 per hour")
def send_magic_link() -> str | tuple[str, int]:
    form = MagicLinkForm()
    if not form.validate():
        return _login_page(form), 422
    email = form.email.data
    tenant = request_tenant()
    # On a commune's site anyone may join as a resident; the console only lets staff in.
    known = account_by_email(db.session, email)
    # The mail is written in its recipient's language: an account's own, else (a newcomer)
    # the language this page is read in, which becomes the account's at sign-in.
    language = known.locale if known is not None else str(get_locale())
    # The link leads to the commune's configured address, whatever Host the request named.
    token = issue_magic_link(db.session, email, tenant=tenant, host=site_host(tenant))
    if token is not None:
        db.session.commit()
        query = urlencode({"next": form.next.data or ""})
        link = f"{site_address(tenant)}/login/magic/{token}?{query}"
        with force_locale(language):
            subject = _("Your sign-in link")
            body = render_template(
                "identity/magic_link_mail.txt", link=link, site=tenant.name if tenant else "Agora"
            )
        mail.send(email, subject, body)
    # The same answer whether or not the address is known.
    return render_template("identity/magic_link_sent.html", email=email)


@bp.get("/login/magic/<token>")
def confirm_magic_link(token: str) -> str:
    # Mail scanners open links: opening shows a button, only the POST signs in.
    try:
        check_token(db.session, token, purpose=TokenPurpose.MAGIC_LINK, host=request.host)
    except TokenRefused as refused:
        abort(410, description=_refusal(refused.reason))
    form = MagicLinkUseForm(formdata=None, next=request.args.get("next", ""))
    return render_template("identity/magic_link_confirm.html", token=token, form=form)


@bp.post("/login/magic/<token>")
@limiter.limit("10 per minute")
def use_magic_link(token: str) -> Response | tuple[str, int]:
    form = MagicLinkUseForm()
    if not form.validate():
        return render_invalid("identity/magic_link_confirm.html", form, token=token)
    try:
        account = redeem_magic_link(db.session, token, tenant=request_tenant(), host=request.host)
    except TokenRefused as refused:
        db.session.rollback()
        record_failure(refused.reason, "magic_link")
        abort(410, description=_refusal(refused.reason))
    if needs_second_factor(db.session, account):
        db.session.commit()
        cookie.clear()
        cookie["pending_account_id"] = account.id
        cookie["pending_host"] = request.host
        query = urlencode({"next": form.next.data or ""})
        return redirect(f"{url_for('identity.second_factor')}?{query}")
    sign_in(account, "magic_link")
    return redirect(safe_next(form.next.data))


def _pending_account() -> Account:
    account_id = cookie.get("pending_account_id")
    if account_id is None or cookie.get("pending_host") != request.host:
        abort(400, description=_("No sign-in is in progress. Start again from the sign-in page."))
    account = db.session.get(Account, account_id)
    if account is None:
        abort(400, description=_("No sign-in is in progress. Start again from the sign-in page."))
    return account


@bp.get("/login/second-factor")
def second_factor() -> str:
    form = SecondFactorForm(formdata=None, next=request.args.get("next", ""))
    return _second_factor_page(_pending_account(), form)


def _second_factor_page(account: Account, form: SecondFactorForm) -> str:
    """The code's form, with the key to add to an authenticator app until one is set up."""
    setup = None
    if not account.totp_confirmed:
        secret, uri = totp_provisioning(account)
        setup = {
            # Shown for typing by hand, in groups of four characters.
            "key": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "uri": uri,
            # An image the authenticator app scans: a data URI (the CSP's img-src allows
            # data:, and no inline style), black on white whatever the commune's colours.
            "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=4),
        }
    db.session.commit()
    return render_template("identity/second_factor.html", setup=setup, form=form)


@bp.post("/login/second-factor")
@limiter.limit("5 per minute")
def check_second_factor() -> Response | tuple[str, int]:
    account = _pending_account()
    form = SecondFactorForm()
    if not form.validate():
        return _second_factor_page(account, form), 422
    if not verify_totp(db.session, account, form.code.data):
        db.session.rollback()
        record_failure("totp", "magic_link")
        # A wrong code is a refused sign-in (401), shown next to the field; it is not kept.
        form.code.data = ""
        form.refuse(
            "code", _("This code is not valid. Check your authenticator's clock and try again.")
        )
        return _second_factor_page(account, form), 401
    sign_in(account, "magic_link+totp")
    return redirect(safe_next(form.next.data))


@bp.get("/login/handoff", endpoint="handoff")
def accept_handoff() -> Response:
    try:
        row = handoff.accept(request.args.get("token", ""))
    except TokenRefused as refused:
        db.session.rollback()
        record_failure(refused.reason, "handoff")
        abort(
            401,
            description=_("This sign-in hand-off is not valid (forged, expired or already used)."),
        )
    account = db.session.get(Account, row.account_id)
    assert account is not None
    sign_in(account, row.method, row.id_token)
    return redirect(safe_next(request.args.get("next")))


# --- OpenID Connect (callbacks on the auth host) -------------------------------------------


def _logout_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="agora.identity.logout")


def _auth_url(path: str, **query: str) -> str:
    return f"{site_address(subdomain=AUTH_SUBDOMAIN)}{path}?{urlencode(query)}"


@bp.get("/login/oidc/<kind>")
def oidc_start(kind: str) -> Response:
    tenant = request_tenant()
    if oidc.provider_for(db.session, kind, tenant) is None:
        abort(404)
    return redirect(
        _auth_url(
            url_for("identity.oidc_begin", kind=kind),
            commune=tenant.slug if tenant else "",
            next=request.args.get("next", "/"),
        )
    )


@bp.get("/oidc/<kind>/begin")
def oidc_begin(kind: str) -> Response:
    slug = request.args.get("commune", "")
    tenant = tenant_by_slug(db.session, slug) if slug else None
    config = oidc.provider_for(db.session, kind, tenant)
    if config is None or (slug and tenant is None):
        abort(404)
    try:
        pending = oidc.authorization(
            config, _auth_url(url_for("identity.oidc_callback")).rstrip("?")
        )
    except oidc.SignInRefused as refused:
        abort(502, description=str(refused))
    cookie["oidc"] = {
        "state": pending.state,
        "nonce": pending.nonce,
        "kind": kind,
        "commune": slug,
        "next": request.args.get("next", "/"),
    }
    return redirect(pending.url)


def _refuse_sign_in(tenant: Tenant | None, reason: str) -> Any:
    if tenant is not None:
        with tenant_scope(db.session, tenant.id):
            record_sign_in_failure(db.session, tenant, reason, "oidc")
        db.session.commit()
    abort(401, description=_("Sign-in refused: %(reason)s.", reason=reason))


@bp.get("/oidc/callback")
def oidc_callback() -> Response:
    pending = cookie.pop("oidc", None)
    if pending is None:
        abort(400, description=_("No sign-in is in progress. Start again from the sign-in page."))
    tenant = tenant_by_slug(db.session, pending["commune"]) if pending["commune"] else None
    if request.args.get("state") != pending["state"]:
        _refuse_sign_in(tenant, "the answer does not belong to this sign-in (state)")
    if "error" in request.args:
        _refuse_sign_in(tenant, request.args.get("error_description") or request.args["error"])
    config = oidc.provider_for(db.session, pending["kind"], tenant)
    if config is None:
        abort(404)
    try:
        identity = oidc.complete(
            config,
            _auth_url(url_for("identity.oidc_callback")).rstrip("?"),
            request.args.get("code", ""),
            pending["nonce"],
        )
        account = federation.account_for(db.session, config, tenant, identity)
    except oidc.SignInRefused as refused:
        db.session.rollback()
        _refuse_sign_in(tenant, str(refused))
    return redirect(
        handoff.url_for_commune(
            account,
            tenant,
            method=config.kind,
            next_path=pending["next"],
            id_token=identity.id_token,
        )
    )


@bp.post("/logout")
def logout() -> Response:
    method, id_token = cookie.get("method"), cookie.get("id_token")
    account, tenant = current_account(), request_tenant()
    sign_out()
    if account is not None and tenant is not None:
        record_sign_out(db.session, tenant, account)
    db.session.commit()
    if id_token and method in {"franceconnect", "proconnect", oidc.STAFF}:
        token = _logout_serializer().dumps(
            {
                "kind": method,
                "commune": tenant.slug if tenant else "",
                "id_token": id_token,
                "back": f"{site_address(tenant)}/",
            }
        )
        return redirect(_auth_url(url_for("identity.oidc_logout"), token=token))
    return redirect(url_for("home"))


@bp.get("/oidc/logout")
def oidc_logout() -> Response:
    try:
        data = _logout_serializer().loads(request.args.get("token", ""), max_age=300)
    except BadSignature:
        abort(400, description=_("This sign-out request is not valid."))
    tenant = tenant_by_slug(db.session, data["commune"]) if data["commune"] else None
    config = oidc.provider_for(db.session, data["kind"], tenant)
    if config is None:
        abort(404)
    state = oidc.new_state()
    cookie["oidc_logout"] = {"state": state, "back": data["back"]}
    return redirect(
        oidc.end_session_url(
            config,
            data["id_token"],
            state,
            _auth_url(url_for("identity.oidc_logged_out")).rstrip("?"),
        )
    )


@bp.get("/oidc/logged-out")
def oidc_logged_out() -> Response:
    pending = cookie.pop("oidc_logout", None)
    if pending is None or request.args.get("state") != pending["state"]:
        abort(400, description=_("This sign-out answer does not match a sign-out in progress."))
    return redirect(pending["back"])


# --- personal data (GDPR) -------------------------------------------------------------------


def _me() -> Account:
    account = current_account()
    assert account is not None  # the policy let only signed-in people through
    return account


@bp.get("/me/data")
def my_data() -> str:
    data = export_personal_data(db.session, _me(), request_tenant())
    return render_template("identity/my_data.html", data=data.document)


@bp.get("/me/data.json")
def my_data_json() -> Response:
    response = jsonify(export_personal_data(db.session, _me(), request_tenant()).document)
    response.headers["Content-Disposition"] = 'attachment; filename="mes-donnees.json"'
    return response


@bp.post("/me/erase")
def erase_me() -> str | Response:
    if (
        page := ask_confirmation(
            title=_("Erase your data?"),
            consequences=[
                _("Your name, e-mail address and sign-in links are erased."),
                _("You are signed out."),
                _("What you did stays counted (votes, attendance) without your name."),
            ],
            cancel_url=url_for("identity.my_data"),
            confirm_text=_("Erase my data"),
        )
    ) is not None:
        return page
    erase_account(db.session, _me(), request_tenant())
    db.session.commit()
    cookie.clear()
    notify(_("Your data is erased and you are signed out."))
    return redirect(url_for("home"))


@bp.post("/me/sessions/end")
def end_my_sessions() -> str | Response:
    if (
        page := ask_confirmation(
            title=_("Sign out everywhere?"),
            consequences=[
                _("Every browser where you are signed in is signed out, this one included."),
                _("A copied session cookie stops working too."),
                _("You sign in again with a sign-in link."),
            ],
            cancel_url=url_for("identity.my_data"),
            confirm_text=_("Sign out everywhere"),
        )
    ) is not None:
        return page
    account, tenant = _me(), request_tenant()
    ended = end_all_sessions(db.session, account.id)
    cookie.clear()
    if tenant is not None:
        record_sign_out(db.session, tenant, account, everywhere=ended)
    db.session.commit()
    notify(_("You are signed out on every browser."))
    return redirect(url_for("home"))


# --- members of the commune -----------------------------------------------------------------


def _grant_form(formdata: Any = None) -> GrantRoleForm:
    """The grant form, offering every role but the consultancy's (the operator assigns it)."""
    form = GrantRoleForm(formdata=formdata)
    form.offer((r.value, str(ROLES[r.value])) for r in Role if r != Role.CONSULTANCY_STAFF)
    return form


def _members_page(form: GrantRoleForm) -> str:
    tenant = request_tenant()
    assert tenant is not None
    return render_template("identity/members.html", rows=members_of(db.session, tenant), form=form)


@bp.get("/admin/members")
def members() -> str:
    return _members_page(_grant_form())


@bp.post("/admin/members", endpoint="grant_role")
def grant_member_role() -> Response | tuple[str, int]:
    tenant = request_tenant()
    assert tenant is not None
    form = _grant_form(request.form)
    if not form.validate():
        return _members_page(form), 422
    role = Role(form.role.data)
    grant_role_by_email(
        db.session, tenant, form.email.data, role, granted_by=actor(current_account())
    )
    db.session.commit()
    notify(
        _(
            "%(email)s is now %(role)s.",
            email=form.email.data,
            role=ROLES[role.value],
        )
    )
    return redirect(url_for("identity.members"))


@bp.post("/admin/members/<int:grant_id>/revoke")
def revoke_role(grant_id: int) -> str | Response:
    tenant = request_tenant()
    assert tenant is not None
    grant = get_owned_or_404(RoleGrant, grant_id)
    holder = db.session.get(Account, grant.account_id)
    email = (holder.email if holder is not None else None) or _("(erased)")
    role = ROLES[grant.role.value]
    if (
        page := ask_confirmation(
            title=_("Withdraw the role %(role)s from %(email)s?", role=role, email=email),
            consequences=[
                _("They lose at once what this role allows in the commune."),
                _("They are signed out, and sign in again with the roles they keep."),
                _("The role can be granted again later."),
            ],
            cancel_url=url_for("identity.members"),
            confirm_text=_("Withdraw the role"),
            irreversible=False,
        )
    ) is not None:
        return page
    revoke_grant(db.session, tenant, grant, actor(current_account()))
    db.session.commit()
    notify(_("The role %(role)s is withdrawn from %(email)s.", role=role, email=email))
    return redirect(url_for("identity.members"))
