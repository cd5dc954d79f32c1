"""Stage 2's staff pages: the lottery (a job, with its progress), the reveal of the panel and
its reserve, confirmations, withdrawals and their replacements, the committee's confirmation
of a quota gap, and the seating. Importing this module registers the ``draws.stage2`` job."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session
from wtforms import IntegerField
from wtforms.validators import NumberRange

from agora.db import utcnow
from agora.draws import feasibility, selection
from agora.draws.models import Draw, DrawStatus, Pick, PickRole
from agora.draws.views import bp
from agora.errors import DomainError
from agora.extensions import db
from agora.identity.acting import who
from agora.jobs import enqueue, job
from agora.plugins.manager import get_registry
from agora.shared.forms import Form, NumberInput, ask_confirmation, notify, textarea_field
from agora.tenancy.config import TenantConfig
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_hooks
from agora.tenancy.isolation import bind_tenant, bound_tenant_id
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config

#: While the lottery's job runs, ``draw.record`` holds only this entry (its progress).
JOB = "job"


class RevealForm(Form):
    reserve = IntegerField(
        _l("Reserve"),
        validators=[NumberRange(min=0, max=100_000, message=_l("Enter a whole number."))],
        widget=NumberInput(),
        description=_l("People kept in order after the panel, to replace those who withdraw."),
    )


class WithdrawForm(Form):
    reason = textarea_field(
        _l("Reason"),
        required=_l("Give the reason for the withdrawal."),
        hint=_l("Declined the invitation, moved away, no longer available…"),
    )


def _write_progress(tenant_id: int, draw_id: int, state: dict[str, Any]) -> None:
    """The job's progress, in a transaction of its own so that the page sees it."""
    with Session(db.engine) as side:
        bind_tenant(side, tenant_id)
        side.execute(
            update(Draw)
            .where(Draw.tenant_id == tenant_id, Draw.id == draw_id)
            .values(record={JOB: state})
        )
        side.commit()


@job("draws.stage2")
def stage2_job(draw_id: int, actor: str) -> str:
    """Compute and commit the lottery of ``draw_id``; a refusal is kept for its page."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    draw = db.session.get(Draw, (tenant.id, draw_id)) if tenant is not None else None
    if tenant is None or draw is None:
        raise LookupError(f"no draw {draw_id} in the job's commune")
    if draw.status != DrawStatus.POOL_CLOSED:
        return draw.status.value
    version = current_config(db.session, tenant)
    assert version is not None
    hooks = get_registry().view(TenantConfig(version.document))
    state = dict(draw.record.get(JOB) or {})
    sqlite = db.engine.dialect.name != "postgresql"  # one writer at a time there

    def progress(done: int, total: int) -> None:
        if not sqlite:
            _write_progress(tenant.id, draw_id, {**state, "done": done, "of": total})

    try:
        selection.run_lottery(db.session, tenant, hooks, draw, actor=actor, progress=progress)
    except DomainError as refusal:
        db.session.rollback()
        _write_progress(tenant.id, draw_id, {**state, "error": refusal.message})
        return "refused"
    return draw.status.value


def _lottery_page(draw: Draw, status: int = 200) -> Any:
    state = draw.record.get(JOB) or {}
    return (
        render_template(
            "draws/lottery.html",
            draw=draw,
            state=state,
            running=draw.status == DrawStatus.POOL_CLOSED
            and bool(state)
            and not state.get("error"),
            form=RevealForm(),
            named=selection.named_round(draw)
            if draw.status == DrawStatus.LOTTERY_COMMITTED
            else None,
        ),
        status,
    )


@bp.get("/admin/draws/<int:draw_id>/lottery")
def lottery_page(draw_id: int) -> Any:
    return _lottery_page(get_owned_or_404(Draw, draw_id))


@bp.post("/admin/draws/<int:draw_id>/lottery")
def run_lottery(draw_id: int) -> Any:
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    if draw.status != DrawStatus.POOL_CLOSED:
        # Refused by the lifecycle, in its own words (a second lottery, no closed pool yet).
        selection.run_lottery(db.session, tenant, tenant_hooks(), draw, actor=who())
    if feasibility.problems(db.session, tenant_hooks(), draw):
        notify(_("The pool cannot meet the quotas: relax a quota first."))
        return redirect(url_for("draws.feasibility_page", draw_id=draw.id))
    if (
        page := ask_confirmation(
            title=_("Compute and commit the lottery?"),
            consequences=[
                _("The fairest lottery over panels meeting the quotas is computed and sealed."),
                _("A future drand round is named: its randomness will pick the panel."),
                _("The pool and the quotas can no longer change."),
            ],
            cancel_url=url_for("draws.draw_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    draw.record = {JOB: {"started_at": utcnow().isoformat()}}
    db.session.commit()
    enqueue("draws.stage2", tenant_id=tenant.id, draw_id=draw.id, actor=who())
    return redirect(url_for("draws.lottery_page", draw_id=draw.id))


@bp.post("/admin/draws/<int:draw_id>/panel")
def reveal_panel(draw_id: int) -> Any:
    draw = get_owned_or_404(Draw, draw_id)
    form = RevealForm()
    if not form.validate_on_submit():
        return _lottery_page(draw, 422)
    if (
        page := ask_confirmation(
            title=_("Draw the panel?"),
            consequences=[
                _("The committed round's randomness picks the panel and orders the reserve."),
                _("It is done once and published."),
            ],
            cancel_url=url_for("draws.lottery_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    selection.reveal_lottery(
        db.session, current_tenant(), draw, reserve=int(form.reserve.data), actor=who()
    )
    db.session.commit()
    notify(_("The panel is drawn: ask each person to confirm."))
    return redirect(url_for("draws.panel_page", draw_id=draw.id))


@bp.get("/admin/draws/<int:draw_id>/panel")
def panel_page(draw_id: int) -> Any:
    draw = get_owned_or_404(Draw, draw_id)
    chosen = selection.picks(db.session, draw)
    criteria = tenant_hooks().quota_criteria()
    return render_template(
        "draws/panel.html",
        draw=draw,
        panel=[(p, r) for p, r in chosen if p.role == PickRole.PANEL],
        reserve=[(p, r) for p, r in chosen if p.role == PickRole.RESERVE],
        criteria={c.feature: {v.value: v.label for v in c.values} for c in criteria},
        labels=feasibility.quota_labels(tenant_hooks()),
    )


def _pick(draw_id: int, pick_id: int) -> tuple[Draw, Pick]:
    draw = get_owned_or_404(Draw, draw_id)
    pick = get_owned_or_404(Pick, pick_id)
    if pick.draw_id != draw.id:
        abort(404)
    return draw, pick


@bp.post("/admin/draws/<int:draw_id>/picks/<int:pick_id>/confirm")
def confirm_pick(draw_id: int, pick_id: int) -> Any:
    draw, pick = _pick(draw_id, pick_id)
    selection.confirm(db.session, current_tenant(), draw, pick, actor=who())
    db.session.commit()
    notify(_("The person's acceptance is recorded."))
    return redirect(url_for("draws.panel_page", draw_id=draw.id))


@bp.route("/admin/draws/<int:draw_id>/picks/<int:pick_id>/withdraw", methods=["GET", "POST"])
def withdraw_pick(draw_id: int, pick_id: int) -> Any:
    draw, pick = _pick(draw_id, pick_id)
    form = WithdrawForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("draws/withdraw.html", draw=draw, pick=pick, form=form), status
    if (
        page := ask_confirmation(
            title=_("Replace this member?"),
            consequences=[
                _("The first person of the reserve who keeps every quota takes the seat."),
                _("The replacement is published with the draw's record."),
            ],
            cancel_url=url_for("draws.panel_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    new = selection.withdraw(
        db.session,
        current_tenant(),
        tenant_hooks(),
        draw,
        pick,
        reason=form.reason.data or "",
        actor=who(),
    )
    db.session.commit()
    notify(
        _("Replaced: the methodology committee must confirm the quota gap.")
        if new.quota_gap
        else _("Replaced by the first person of the reserve who keeps every quota.")
    )
    return redirect(url_for("draws.panel_page", draw_id=draw.id))


@bp.post("/admin/draws/<int:draw_id>/picks/<int:pick_id>/gap")
def confirm_gap(draw_id: int, pick_id: int) -> Any:
    draw, pick = _pick(draw_id, pick_id)
    if (
        page := ask_confirmation(
            title=_("Confirm this replacement outside the quotas?"),
            consequences=[_("The quota gap is published as a deviation from the method.")],
            cancel_url=url_for("draws.panel_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    selection.confirm_gap(db.session, current_tenant(), draw, pick, actor=who())
    db.session.commit()
    notify(_("The methodology committee confirmed the replacement."))
    return redirect(url_for("draws.panel_page", draw_id=draw.id))


@bp.post("/admin/draws/<int:draw_id>/seat")
def seat(draw_id: int) -> Any:
    draw = get_owned_or_404(Draw, draw_id)
    if (
        page := ask_confirmation(
            title=_("Seat the panel in the body?"),
            consequences=[
                _("Every confirmed person becomes a member, drawn by lot from their source."),
                _(
                    "The draw closes: the personal data of the others is deleted after the "
                    "retention period."
                ),
            ],
            cancel_url=url_for("draws.panel_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    members = selection.seat(db.session, current_tenant(), draw, actor=who())
    db.session.commit()
    notify(
        _(
            "%(num)s members are seated: install the body once its other seats are filled.",
            num=len(members),
        )
    )
    return redirect(url_for("draws.panel_page", draw_id=draw.id))
