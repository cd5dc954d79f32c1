"""Stage 1's staff pages: the commitment's form, the drawing of the invitations (a job, with
its progress) and the reveal. Importing this module also registers the ``draws.stage1`` job."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from agora.draws import services, stage1
from agora.draws.models import Draw, DrawStatus
from agora.draws.views import bp
from agora.errors import Invalid
from agora.extensions import db
from agora.identity.acting import who
from agora.jobs import enqueue
from agora.shared.formats import number
from agora.shared.forms import (
    Form,
    NumberInput,
    ask_confirmation,
    notify,
    radio_field,
    text_field,
)
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_hooks
from agora_sortition.audit import canonical


class CommitForm(Form):
    invitations = IntegerField(
        _l("Number of invitations"),
        validators=[
            Optional(strip_whitespace=True),
            NumberRange(min=0, max=10_000_000, message=_l("Enter a whole number.")),
        ],
        widget=NumberInput(),
        description=_l("One per household, shared between the sources in proportion to seats."),
    )
    spread = radio_field(
        _l("How the invitations are spread"),
        [
            ("stratified", _l("In proportion to the households of each stratum")),
            ("uniform", _l("Uniformly over the whole register")),
        ],
        required=_l("Choose how the invitations are spread."),
    )
    randomness = radio_field(
        _l("Public randomness"),
        [
            ("drand", _l("A future round of drand, the public random beacon")),
            ("seed", _l("A seed sealed before the witnesses")),
        ],
        required=_l("Choose the randomness."),
    )
    seed_sha256 = text_field(
        _l("SHA-256 fingerprint of the sealed seed"),
        required=False,
        max_length=80,
        hint=_l(
            "Only with a sealed seed: the 64 hexadecimal characters of its SHA-256, which the "
            "witnesses (a bailiff…) computed and keep with the seed."
        ),
    )


class SeedForm(Form):
    seed = text_field(
        _l("The sealed seed"),
        required=_l("Type the seed the witnesses hold."),
        hint=_l("As the witnesses hold it: its SHA-256 must be the committed fingerprint."),
    )


def _commit_page(draw: Draw, form: CommitForm) -> str:
    parts = stage1.inviting_registers(db.session, tenant_hooks(), draw)
    return render_template(
        "draws/stage1_commit.html",
        draw=draw,
        form=form,
        parts=parts,
        households={
            part.source: stage1.households_by_stratum(db.session, part.register) for part in parts
        },
        sources=services.draw_sources(db.session, tenant_hooks(), draw),
    )


@bp.app_template_global()
def stage1_invited(draw: Draw) -> dict[str, dict[str, int]]:
    """For the draw's pages: the households invited per source and stratum."""
    return stage1.invited_per_stratum(db.session, draw)


@bp.app_template_global()
def stage1_canonical(value: Any) -> str:
    """The canonical JSON a fingerprint is taken over, as published."""
    return canonical(value).decode()


@bp.route("/admin/draws/<int:draw_id>/commit", methods=["GET", "POST"])
def commit_stage1(draw_id: int) -> Any:
    tenant, hooks = current_tenant(), tenant_hooks()
    draw = get_owned_or_404(Draw, draw_id)
    form = CommitForm()
    if request.method == "GET":
        return _commit_page(draw, form)
    if not form.validate_on_submit():
        return _commit_page(draw, form), 422
    try:
        stage1.commit(
            db.session,
            tenant,
            hooks,
            draw,
            actor=who(),
            invitations=int(form.invitations.data or 0),
            stratified=form.spread.data == "stratified",
            seed_sha256=(form.seed_sha256.data or "") if form.randomness.data == "seed" else None,
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _commit_page(draw, form), 422
    # Asked once the input is accepted, so that the question shows the allocation.
    if (
        page := ask_confirmation(
            title=_("Publish the commitment of stage 1?"),
            consequences=[
                ngettext(
                    "%(count)s invitation, one per household, allocated over %(strata)d strata.",
                    "%(count)s invitations, one per household, allocated over %(strata)d strata.",
                    draw.invitations_wanted,
                    count=number(draw.invitations_wanted),  # 1 200, as French writes it
                    strata=sum(len(strata) for strata in draw.allocation.values()),
                ),
                _("The registers, the number of invitations and their allocation are sealed."),
                _("The randomness is fixed before anyone knows it: nothing can change after."),
            ],
            cancel_url=url_for("draws.draw_page", draw_id=draw.id),
        )
    ) is not None:
        db.session.rollback()
        return page
    db.session.commit()
    notify(_("The commitment of stage 1 is published."))
    return redirect(url_for("draws.draw_page", draw_id=draw.id))


def _stage1_page(draw: Draw, form: SeedForm, status: int = 200) -> Any:
    return (
        render_template(
            "draws/stage1.html",
            draw=draw,
            form=form,
            running=draw.status == DrawStatus.COMMITTED and "started_at" in draw.reveal,
            rows=sum(part["rows"] for part in draw.commitment.get("sub_draws", [])),
            sources=services.draw_sources(db.session, tenant_hooks(), draw),
        ),
        status,
    )


@bp.get("/admin/draws/<int:draw_id>/stage1")
def stage1_page(draw_id: int) -> Any:
    return _stage1_page(get_owned_or_404(Draw, draw_id), SeedForm())


@bp.post("/admin/draws/<int:draw_id>/stage1")
def run_stage1(draw_id: int) -> Any:
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    form = SeedForm()
    seed = request.form.get("seed", "")
    try:
        stage1.check_ready(db.session, tenant, draw, actor=who(), seed=seed)
    except Invalid as refusal:
        form.refuse("seed", refusal.message)
        return _stage1_page(draw, form, 422)
    if (
        page := ask_confirmation(
            title=_("Draw the invitations of stage 1?"),
            consequences=[
                _("The households are drawn by the committed rule and randomness."),
                _("The draw is done once: it cannot be drawn again."),
            ],
            cancel_url=url_for("draws.draw_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    stage1.start(db.session, tenant, draw, actor=who(), seed=seed)
    db.session.commit()
    # The seed travels with the job: it is published at the reveal anyway.
    enqueue("draws.stage1", tenant_id=tenant.id, draw_id=draw.id, actor=who(), seed=seed)
    return redirect(url_for("draws.stage1_page", draw_id=draw.id))


@bp.post("/admin/draws/<int:draw_id>/reveal")
def reveal_stage1(draw_id: int) -> Any:
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    if (
        page := ask_confirmation(
            title=_("Reveal stage 1?"),
            consequences=[
                _(
                    "The randomness, the allocation and the result's fingerprint appear on the "
                    "draw's public page, with how to check them."
                ),
            ],
            cancel_url=url_for("draws.draw_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    stage1.reveal(db.session, tenant, draw, actor=who())
    db.session.commit()
    notify(_("Stage 1 is revealed on the draw's public page."))
    return redirect(url_for("draws.draw_page", draw_id=draw.id))
