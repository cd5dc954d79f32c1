"""The invitations on paper and at the door: the letters' PDF for the print shop, the
door-to-door rounds, their visit sheets, and the page on which a pair records the outcome of
each visit from a phone."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from agora.documents.tables import attachment
from agora.draws import letters, printing, responses, services, stage1, visits
from agora.draws.models import (
    Draw,
    Invitation,
    InvitationStatus,
    SubDraw,
    VisitRound,
)
from agora.draws.responses_views import answer_form
from agora.draws.views import bp, stratum_name
from agora.errors import Conflict, Invalid
from agora.extensions import db
from agora.identity.acting import current_account, who
from agora.jobs import enqueue
from agora.shared.forms import (
    Form,
    checkboxes_field,
    date_field,
    notify,
    text_field,
)
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_config, tenant_hooks

#: Above this many letters, the page offers the batch alone: one PDF would be printed
#: within the request (about 150 letters a second), past the server's time limit.
ONE_PDF_LIMIT = 2000


def _attachment(content: bytes, name: str) -> Response:
    return attachment(content, name, "application/pdf")


@bp.get("/admin/draws/<int:draw_id>/letters.pdf")
def letters_pdf(draw_id: int) -> Response:
    """Every letter of the draw, in the order of the draw, for the print shop."""
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    batch = printing.letters_of(db.session, tenant, draw, limit=ONE_PDF_LIMIT + 1)
    if not batch:
        abort(404)
    if len(batch) > ONE_PDF_LIMIT:
        raise Conflict(
            _(
                "More than %(limit)s letters: print them as a batch, from the letters' page.",
                limit=format_decimal(ONE_PDF_LIMIT),
            )
        )
    content = letters.letters_pdf(
        printing.letter_text(tenant, tenant_config()), [letter for _, letter in batch]
    )
    return _attachment(content, f"lettres-tirage-{draw.id}.pdf")


def _batch_dir(draw: Draw) -> Path:
    return printing.batch_dir(current_app.config["AGORA_UPLOAD_DIR"], current_tenant(), draw.id)


@bp.get("/admin/draws/<int:draw_id>/letters")
def letters_page(draw_id: int) -> Any:
    """The letters for the print shop: one PDF for a few hundred, or a batch in parts of
    250 printed by a job, with its progress."""
    draw = get_owned_or_404(Draw, draw_id)
    batch = printing.batch(db.session, current_tenant(), draw, _batch_dir(draw))
    if not batch.letters:
        abort(404)
    return render_template(
        "draws/letters.html",
        draw=draw,
        batch=batch,
        one_pdf_limit=ONE_PDF_LIMIT,
        per_part=printing.LETTERS_PER_PART,
        # A size is not split across two lines.
        megabytes=lambda size: services.megabytes(size).replace(" ", "\u00a0"),
    )


@bp.post("/admin/draws/<int:draw_id>/letters")
def request_letters(draw_id: int) -> Any:
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    waiting = printing.request_batch(db.session, tenant, draw, actor=who())
    db.session.commit()
    handle = enqueue("draws.print_letters", tenant_id=tenant.id, draw_id=draw.id)
    if handle.queued:
        message = ngettext(
            "The printing of %(count)s letter has begun; its part appears below when ready.",
            "The printing of %(count)s letters has begun; the parts appear below when ready.",
            waiting,
            count=format_decimal(waiting),  # 1 200, as French writes it
        )
    else:  # printed within the request (jobs run inline, as on a workstation)
        message = ngettext(
            "%(count)s letter is printed: its part is below.",
            "%(count)s letters are printed: their parts are below.",
            waiting,
            count=format_decimal(waiting),
        )
    notify(message)
    return redirect(url_for("draws.letters_page", draw_id=draw.id))


@bp.get("/admin/draws/<int:draw_id>/letters/part-<int:part>.pdf")
def letters_part(draw_id: int, part: int) -> Response:
    draw = get_owned_or_404(Draw, draw_id)
    path = printing.part_path(_batch_dir(draw), part)
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"lettres-tirage-{draw.id}-lot-{part:04d}.pdf",
    )


@bp.get("/admin/draws/<int:draw_id>/letters.zip")
def letters_zip(draw_id: int) -> Response:
    """Every printed part in one ZIP file (stored, not compressed: PDFs are already)."""
    draw = get_owned_or_404(Draw, draw_id)
    parts = sorted(_batch_dir(draw).glob("part-*.pdf"))  # not a part being written
    if not parts:
        abort(404)
    archive = tempfile.SpooledTemporaryFile(max_size=16 * 2**20)  # noqa: SIM115 (sent, then closed)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for part in parts:
            zipped.write(part, f"lettres-tirage-{draw.id}-lot-{part.name.removeprefix('part-')}")
    archive.seek(0)
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"lettres-tirage-{draw.id}.zip",
    )


class RoundForm(Form):
    name = text_field(_l("Name of the round"), hint=_l("For instance: Couronneries, Saturday"))
    day = date_field(_l("Day of the visits"), required=False)
    pair = checkboxes_field(
        _l("The pair"),
        [],
        required=_l("Choose the pair."),
        hint=_l("An elected member and an agent."),
    )
    strata = checkboxes_field(_l("Addresses of"), [], required=_l("Choose the addresses."))


def _rounds_page(draw: Draw, form: RoundForm, status: int = 200) -> Any:
    form.pair.choices = [
        (str(i), label) for i, label in visits.pair_candidates(db.session, current_tenant())
    ]
    strata = sorted(stage1.invited_per_stratum(db.session, draw).get("address_file", {}))
    form.strata.choices = [(s, stratum_name(s)) for s in strata]
    return (
        render_template(
            "draws/visits.html",
            draw=draw,
            form=form,
            rounds=[(v, visits.addresses(db.session, v)) for v in visits.rounds(db.session, draw)],
        ),
        status,
    )


@bp.route("/admin/draws/<int:draw_id>/visits", methods=["GET", "POST"])
def rounds_page(draw_id: int) -> Any:
    draw = get_owned_or_404(Draw, draw_id)
    form = RoundForm()
    if request.method == "GET":
        return _rounds_page(draw, form)
    _rounds_page(draw, form)  # fills the choices before validating
    if not form.validate_on_submit():
        return _rounds_page(draw, form, 422)
    try:
        visits.create_round(
            db.session,
            current_tenant(),
            draw,
            name=form.name.data or "",
            day=form.day.data,
            account_ids=[int(i) for i in form.pair.data],
            strata=list(form.strata.data),
            actor=who(),
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _rounds_page(draw, form, refusal.status)
    db.session.commit()
    notify(_("The round is planned: its pair sees its addresses on its phone."))
    return redirect(url_for("draws.rounds_page", draw_id=draw.id))


def _round_or_404(round_id: int) -> VisitRound:
    visit = get_owned_or_404(VisitRound, round_id)
    account = current_account()
    if not visits.may_visit(visit, account.id if account else None, g.roles):
        abort(404)  # as if it did not exist: a pair sees its own round only
    return visit


@bp.get("/visites/<int:round_id>")
def visit_round(round_id: int) -> str:
    visit = _round_or_404(round_id)
    draw = get_owned_or_404(Draw, visit.draw_id)
    return render_template(
        "draws/visit_round.html",
        visit=visit,
        draw=draw,
        addresses=visits.addresses(db.session, visit),
        notice=responses.NOTICE,
        open=draw.status in responses.OPEN,
    )


@bp.route("/visites/<int:round_id>/<int:invitation_id>", methods=["GET", "POST"])
def visit_outcome(round_id: int, invitation_id: int) -> Any:
    """The outcome of one visit: nobody home, a refusal, or an answer with its profile."""
    visit = _round_or_404(round_id)
    invitation = get_owned_or_404(Invitation, invitation_id)
    if invitation.visit_round_id != visit.id:
        abort(404)
    draw = get_owned_or_404(Draw, visit.draw_id)
    hooks = tenant_hooks()
    part = get_owned_or_404(SubDraw, invitation.sub_draw_id)
    form = answer_form(responses.criteria_for(hooks, part), paper=False)
    context = {"visit": visit, "invitation": invitation, "notice": responses.NOTICE}
    if request.method == "GET":
        return render_template("draws/visit_outcome.html", form=form, **context)
    outcome = request.form.get("outcome", "")
    if outcome in ("not_reached", "refused"):
        responses.record_outcome(
            db.session, current_tenant(), draw, invitation, InvitationStatus(outcome), actor=who()
        )
    else:
        if not form.validate_on_submit():
            return render_template("draws/visit_outcome.html", form=form, **context), 422
        try:
            responses.record_response(
                db.session,
                current_tenant(),
                hooks,
                draw,
                invitation,
                features={
                    f.name.removeprefix("profile_"): f.data or "" for f in form.profile_fields()
                },
                available=form.available.data == "yes",
                consent=bool(form.consent.data),
                contact={
                    "name": form.name.data or "",
                    "email": form.email.data or "",
                    "phone": form.phone.data or "",
                },
                channel="visit",
                actor=who(),
            )
        except Invalid as refusal:
            db.session.rollback()
            form.refuse(None, refusal.message)
            return render_template("draws/visit_outcome.html", form=form, **context), 422
    db.session.commit()
    notify(_("The visit is recorded."))
    return redirect(url_for("draws.visit_round", round_id=visit.id))


@bp.get("/visites/<int:round_id>/feuille.pdf")
def visit_sheet(round_id: int) -> Response:
    visit = _round_or_404(round_id)
    rows = [
        (" ".join(letters.address_lines(contact)[1:]), invitation.code)
        for invitation, contact in visits.addresses(db.session, visit)
    ]
    columns = [_("Address"), _("Code"), _("Nobody"), _("Refused"), _("Interested")]
    content = letters.visit_sheet_pdf(
        _("Round “%(name)s”", name=visit.name), columns, [(*row, "", "", "") for row in rows]
    )
    return _attachment(content, f"feuille-de-visite-{visit.id}.pdf")


@bp.get("/visites")
def my_rounds() -> str:
    """The door-to-door rounds of the signed-in pair member."""
    account = current_account()
    mine = visits.visits_of(db.session, current_tenant(), account.id) if account else []
    return render_template("draws/my_rounds.html", rounds=mine)
