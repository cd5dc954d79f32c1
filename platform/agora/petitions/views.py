"""Petition pages. Public: the list, a petition with its progress against the next threshold,
the open data export. Signed-in participants open and sign petitions; staff record what the
mayor and the council did. A commune whose rules give no right of interpellation has none of
these pages. Views stay thin: rules live in :mod:`agora.petitions.services`."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from agora.db import PARIS, paris_today
from agora.documents.tables import csv_response
from agora.errors import Invalid
from agora.extensions import db
from agora.identity.access import offered_only_if
from agora.identity.acting import acting_person, who
from agora.petitions import services
from agora.petitions.forms import (
    AnswerForm,
    CouncilForm,
    MeetingForm,
    PetitionForm,
    SignForm,
    sign_form,
    staff_forms,
    staff_prefix,
)
from agora.petitions.models import Petition
from agora.plugins.contracts import InterpellationRules
from agora.shared.forms import Form, ask_confirmation, notify, render_invalid
from agora.shared.people import Person
from agora.tenancy.context import current_tenant, get_owned_or_404, request_tenant, tenant_hooks

bp = Blueprint("petitions", __name__, template_folder="templates")


def _rules() -> InterpellationRules | None:
    """The commune's interpellation rules in force (cached for the request)."""
    if "petition_rules" not in g:
        g.petition_rules = tenant_hooks().interpellation_rules()
    rules: InterpellationRules | None = g.petition_rules
    return rules


def _commune_has_petitions() -> None:
    if _rules() is None:
        abort(
            404,
            description=_(
                "This commune has no petitions: its rules give no right of interpellation."
            ),
        )


offered_only_if(bp, _commune_has_petitions)


@bp.app_template_global()
def has_petitions() -> bool:
    """Whether this commune's rules give a right of interpellation (the menu links to
    petitions only then)."""
    if request_tenant() is None:
        return False
    try:
        return _rules() is not None
    except HTTPException:  # a commune without configuration: nothing to link to
        return False


# --- public ---------------------------------------------------------------------------------


@bp.get("/petitions")
def index() -> str:
    rows = services.petitions_of(db.session, current_tenant())
    return render_template(
        "petitions/index.html",
        rules=_rules(),
        petitions=rows,
        statuses={p.id: services.status_of(p) for p in rows},
        next_levels={p.id: services.next_level(p) for p in rows},
    )


@bp.get("/petitions/new")
def new_petition() -> str:
    return render_template("petitions/new.html", rules=_rules(), form=PetitionForm())


@bp.post("/petitions")
def open_petition() -> Response | tuple[str, int]:
    tenant, rules = current_tenant(), _rules()
    assert rules is not None  # checked before the request
    form = PetitionForm()
    if not form.validate():
        return render_invalid("petitions/new.html", form, rules=rules)
    author = acting_person(db.session, tenant, create=True)
    if author is None:  # the policy already requires a signed-in account
        abort(403)
    try:
        petition = services.open_petition(
            db.session, tenant, rules, author, form.title.data, form.text.data, who()
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return render_invalid("petitions/new.html", form, rules=rules)
    db.session.commit()
    notify(_("Your petition is open: it now collects signatures."))
    return redirect(url_for("petitions.petition_page", petition_id=petition.id))


@bp.get("/petitions/<int:petition_id>")
def petition_page(petition_id: int) -> str:
    return _petition_page(get_owned_or_404(Petition, petition_id))


def _petition_page(petition: Petition, form: SignForm | None = None) -> str:
    """The petition's page; with ``form``, the signature form as it was sent (refused)."""
    person = acting_person(db.session, current_tenant())
    rules = services.rules_of(petition)
    return render_template(
        "petitions/petition.html",
        form=form or sign_form(rules, current_tenant().name, formdata=None),
        petition=petition,
        rules=rules,
        status=services.status_of(petition),
        signable=services.is_open_for_signature(petition),
        answered_before_close=services.answered_before_close(petition),
        signed=services.has_signed(db.session, petition, person),
        progress=services.progress_of(petition),
        next_level=services.next_level(petition),
        author=db.session.get(Person, (petition.tenant_id, petition.author_id)),
    )


@bp.post("/petitions/<int:petition_id>/sign")
def sign(petition_id: int) -> Response | tuple[str, int]:
    petition = get_owned_or_404(Petition, petition_id)
    tenant = current_tenant()
    form = sign_form(services.rules_of(petition), tenant.name)
    if not form.validate():
        return _petition_page(petition, form), 422
    person = acting_person(db.session, tenant, create=True)
    if person is None:  # the policy already requires a signed-in account
        abort(403)
    services.sign(
        db.session,
        tenant,
        petition,
        person,
        lives_here=bool("lives_here" in form and form["lives_here"].data),
        old_enough=bool("old_enough" in form and form["old_enough"].data),
    )
    db.session.commit()
    notify(_("Your signature is recorded."))
    return redirect(url_for("petitions.petition_page", petition_id=petition.id) + "#signed")


@bp.get("/petitions.csv")
def petitions_csv() -> Response:
    """Open data: one line per petition and threshold level, with the date it was crossed."""
    rows = []
    for petition in services.petitions_of(db.session, current_tenant()):
        status = services.status_of(petition).value
        for row in services.progress_of(petition):
            rows.append(
                [
                    petition.id,
                    petition.title,
                    status,
                    petition.opened_at.astimezone(PARIS).date().isoformat(),
                    petition.closes_at.astimezone(PARIS).date().isoformat(),
                    petition.signature_count,
                    row.level.key,
                    row.level.signatures,
                    row.level.effect,
                    row.reached_at.astimezone(PARIS).date().isoformat() if row.reached_at else "",
                    row.signatures_then if row.signatures_then is not None else "",
                ]
            )
    return csv_response(
        "petitions.csv",
        [
            "petition",
            "titre",
            "statut",
            "ouverte_le",
            "close_le",
            "signatures",
            "seuil",
            "signatures_requises",
            "effet",
            "atteint_le",
            "signatures_au_seuil",
        ],
        rows,
    )


# --- staff ----------------------------------------------------------------------------------


@bp.get("/admin/petitions")
def admin_page() -> str:
    return _admin_page()


def _admin_page(petition: Petition | None = None, **refused: Form) -> str:
    """The staff page; with ``petition``, its ``refused`` form as it was sent, its errors
    next to its fields and in the page's error summary."""
    rows = services.petitions_of(db.session, current_tenant())
    forms = {
        p.id: staff_forms(p, **(refused if petition is not None and p.id == petition.id else {}))
        for p in rows
    }
    return render_template(
        "petitions/admin.html",
        petitions=rows,
        forms=forms,
        form=next(iter(refused.values()), None),
        statuses={p.id: services.status_of(p) for p in rows},
        effects={p.id: services.reached_effects(p) for p in rows},
        opened_on={p.id: services.opened_on(p) for p in rows},
        today=paris_today(),
    )


def _back(petition: Petition) -> Response:
    return redirect(url_for("petitions.admin_page") + f"#petition-{petition.id}")


@bp.post("/admin/petitions/<int:petition_id>/meeting")
def record_meeting(petition_id: int) -> Response | tuple[str, int]:
    petition = get_owned_or_404(Petition, petition_id)
    form = MeetingForm(prefix=staff_prefix(petition))
    if not form.validate():
        return _admin_page(petition, meeting=form), 422
    try:
        services.record_meeting(db.session, current_tenant(), petition, form.held_on.data, who())
    except Invalid as refusal:
        db.session.rollback()
        form.refuse("held_on", refusal.message)
        return _admin_page(petition, meeting=form), 422
    db.session.commit()
    notify(_("The meeting is recorded."))
    return _back(petition)


@bp.post("/admin/petitions/<int:petition_id>/council")
def schedule_council(petition_id: int) -> Response | tuple[str, int]:
    petition = get_owned_or_404(Petition, petition_id)
    form = CouncilForm(prefix=staff_prefix(petition))
    if not form.validate():
        return _admin_page(petition, council=form), 422
    try:
        services.schedule_council(
            db.session, current_tenant(), petition, form.session_on.data, who()
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse("session_on", refusal.message)
        return _admin_page(petition, council=form), 422
    db.session.commit()
    notify(_("The council session is recorded."))
    return _back(petition)


@bp.post("/admin/petitions/<int:petition_id>/decision")
def record_decision(petition_id: int) -> Response | str | tuple[str, int]:
    petition = get_owned_or_404(Petition, petition_id)
    form = AnswerForm(prefix=staff_prefix(petition))
    if not form.validate():
        return _admin_page(petition, answer=form), 422
    # Checked in full first (a refusal comes back next to its field, 422), then confirmed:
    # the answer is public and closes the signatures for good.
    try:
        services.record_decision(
            db.session, current_tenant(), petition, form.decided_on.data, form.answer.data, who()
        )
    except Invalid as refusal:  # the answer itself is checked by the form: the date
        db.session.rollback()
        form.refuse("decided_on", refusal.message)
        return _admin_page(petition, answer=form), 422
    if (
        page := ask_confirmation(
            title=_("Record the answer to « %(title)s »?", title=petition.title),
            consequences=[
                _("The answer is published on the petition's page."),
                _("The petition can no longer be signed."),
                _("Its author and every signer are notified."),
            ],
            cancel_url=url_for("petitions.admin_page") + f"#petition-{petition.id}",
            confirm_text=_("Record the answer"),
        )
    ) is not None:
        db.session.rollback()  # nothing is written before the person confirms
        return page
    db.session.commit()
    notify(_("The answer is recorded and shown on the petition's page."))
    return _back(petition)
