"""Answers and the pool: the public form a resident reaches with the code of their letter,
the agents' entry of paper answers, the staff list, the steps (invitations sent, responses
collected, pool closed) and the quotas relaxed when the pool cannot meet them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange

from agora.draws import feasibility, record, responses
from agora.draws.models import Draw, DrawStatus, Invitation, SubDraw
from agora.draws.views import bp
from agora.errors import Invalid
from agora.extensions import db, limiter
from agora.identity.acting import who
from agora.plugins.contracts import QuotaCriterion
from agora.shared.forms import (
    PLACEHOLDER,
    Form,
    NumberInput,
    ask_confirmation,
    checkbox_field,
    notify,
    page_number,
    radio_field,
    select_field,
    text_field,
    textarea_field,
)
from agora.shared.protection import personal
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_hooks


class CodeForm(Form):
    code = text_field(
        _l("Code printed on your letter"),
        required=_l("Type the code printed on your letter."),
        max_length=40,
        hint=_l("Ten letters and digits; spaces and dashes do not matter."),
    )


class AnswerForm(Form):
    """The answer; one radio question per quota criterion (``profile_<feature>``)."""

    available = radio_field(
        _l("Can you take part in the assembly's working days?"),
        [("yes", _l("Yes")), ("no", _l("No"))],
        required=_l("Say whether you can take part."),
    )
    consent = checkbox_field(
        _l("I agree to my answers being used for this draw, as the notice above says."),
        hint=_l("Without it, you are not in the draw and nothing personal is kept."),
    )
    name = text_field(
        _l("Your first name and name"), required=False, hint=_l("To tell you if you are drawn.")
    )
    email = text_field(_l("E-mail address"), required=False, max_length=200)
    phone = text_field(_l("Phone number"), required=False, max_length=40)

    def profile_fields(self) -> list[Any]:
        return [field for field in self if field.name.startswith("profile_")]


def answer_form(criteria: list[QuotaCriterion], *, paper: bool) -> AnswerForm:
    class Bound(AnswerForm):
        pass

    if paper:
        Bound.code = CodeForm.code
    for criterion in criteria:
        setattr(
            Bound,
            f"profile_{criterion.feature}",
            radio_field(
                criterion.label,
                [(v.value, v.label) for v in criterion.values],
                required=_l("Answer this question."),
            ),
        )
    return Bound()


def _save(form: AnswerForm, invitation: Invitation, *, channel: str) -> None:
    tenant, hooks = current_tenant(), tenant_hooks()
    draw = get_owned_or_404(Draw, invitation.draw_id)
    features: Mapping[str, str] = {
        field.name.removeprefix("profile_"): field.data or "" for field in form.profile_fields()
    }
    responses.record_response(
        db.session,
        tenant,
        hooks,
        draw,
        invitation,
        features=features,
        available=form.available.data == "yes",
        consent=bool(form.consent.data),
        contact={
            "name": form.name.data or "",
            "email": form.email.data or "",
            "phone": form.phone.data or "",
        },
        channel=channel,
        actor=who() if channel == "paper" else "resident",
    )


def _invitation_or_404(code: str) -> Invitation:
    invitation = responses.invitation_by_code(db.session, current_tenant(), code)
    if invitation is None:
        abort(404)
    return invitation


@bp.route("/repondre", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def answer_with_code() -> Any:
    """A resident types the code of their letter."""
    form = CodeForm()
    if form.validate_on_submit():
        code = responses.normalise_code(form.code.data)
        if responses.invitation_by_code(db.session, current_tenant(), code) is not None:
            return redirect(url_for("draws.respond", code=code))
        form.refuse("code", _("Unknown code: check it on your letter."))
        return render_template("draws/code.html", form=form), 404
    return render_template("draws/code.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/r/<code>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@personal
def respond(code: str) -> Any:
    """The answer form of one invitation, reached with its code (the letter's QR code)."""
    invitation = _invitation_or_404(code)
    part = get_owned_or_404(SubDraw, invitation.sub_draw_id)
    draw = get_owned_or_404(Draw, invitation.draw_id)
    form = answer_form(responses.criteria_for(tenant_hooks(), part), paper=False)
    context = {
        "draw": draw,
        "invitation": invitation,
        "notice": responses.NOTICE,
        "state": responses.answers_state(draw),
    }
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("draws/respond.html", form=form, **context), status
    try:
        _save(form, invitation, channel="online")
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return render_template("draws/respond.html", form=form, **context), refusal.status
    db.session.commit()
    notify(_("Thank you: your answer is recorded. You can change it until the answers close."))
    return redirect(url_for("draws.respond", code=invitation.code))


@bp.route("/admin/draws/<int:draw_id>/responses", methods=["GET", "POST"])
def responses_page(draw_id: int) -> Any:
    """The answers so far, and the entry of a paper answer."""
    draw = get_owned_or_404(Draw, draw_id)
    hooks = tenant_hooks()
    criteria = hooks.quota_criteria()
    form = answer_form(criteria, paper=True)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            invitation = responses.invitation_by_code(db.session, current_tenant(), form.code.data)
            if invitation is None or invitation.draw_id != draw.id:
                form.refuse("code", _("Unknown code: check it on the paper answer."))
            else:
                try:
                    _save(form, invitation, channel="paper")
                except Invalid as refusal:
                    db.session.rollback()
                    form.refuse(None, refusal.message)
                    status = refusal.status
                else:
                    db.session.commit()
                    notify(_("The paper answer is recorded."))
                    return redirect(url_for("draws.responses_page", draw_id=draw.id))
    answers = db.paginate(
        responses.responses_query(draw),
        page=page_number(),
        per_page=current_app.config["AGORA_PAGE_SIZE"],
        error_out=True,
    )
    return render_template(
        "draws/responses.html",
        draw=draw,
        form=form,
        events=answers,
        counts=responses.counts(db.session, draw),
        criteria={c.feature: {v.value: v.label for v in c.values} for c in criteria},
        accepting=draw.status in responses.OPEN,
    ), status


_STEPS = {
    "send": (
        responses.send_invitations,
        _l("Mark the invitations as sent?"),
        [
            _l("The letters are posted and the visits start: answers open."),
            _l("The volunteers' lists join the pool."),
        ],
        _l("The invitations are sent: answers are open."),
    ),
    "collect": (
        responses.collect,
        _l("End the invitations' phase?"),
        [_l("No more visits: answers are still accepted until the pool closes.")],
        _l("Answers are being collected."),
    ),
    "close": (
        responses.close_pool,
        _l("Close the pool?"),
        [_l("No answer will be accepted any more."), _l("Stage 2 draws from this pool.")],
        _l("The pool is closed."),
    ),
}


@bp.post("/admin/draws/<int:draw_id>/answers/<step>")
def answers_step(draw_id: int, step: str) -> Any:
    draw = get_owned_or_404(Draw, draw_id)
    if step not in _STEPS:
        abort(404)
    service, title, consequences, done = _STEPS[step]
    if (
        page := ask_confirmation(
            title=str(title),
            consequences=[str(c) for c in consequences],
            cancel_url=url_for("draws.draw_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    service(db.session, current_tenant(), draw, actor=who())
    db.session.commit()
    notify(str(done))
    return redirect(url_for("draws.draw_page", draw_id=draw.id))


class RelaxForm(Form):
    quota = select_field(_l("Quota"), [PLACEHOLDER], required=_l("Choose the quota."))
    minimum = IntegerField(
        _l("New minimum"),
        validators=[NumberRange(min=0, max=100_000, message=_l("Enter a whole number."))],
        widget=NumberInput(),
    )
    maximum = IntegerField(
        _l("New maximum"),
        validators=[NumberRange(min=0, max=100_000, message=_l("Enter a whole number."))],
        widget=NumberInput(),
    )
    reason = textarea_field(
        _l("Reason, as it will be published"), required=_l("Give the reason for this deviation.")
    )


def _feasibility_page(draw: Draw, form: RelaxForm, status: int = 200) -> Any:
    hooks = tenant_hooks()
    problems = feasibility.problems(db.session, hooks, draw)
    labels = feasibility.quota_labels(hooks)
    form.quota.choices = [
        PLACEHOLDER,
        *[
            (
                f"{p.sub_draw_id}:{p.feature}:{p.value}",
                " — ".join(labels.get((p.feature, p.value), (p.feature, p.value))),
            )
            for p in problems
            if p.feature
        ],
    ]
    return render_template(
        "draws/feasibility.html",
        draw=draw,
        form=form,
        problems=problems,
        deviations=record.deviations(db.session, draw),
    ), status


@bp.route("/admin/draws/<int:draw_id>/feasibility", methods=["GET", "POST"])
def feasibility_page(draw_id: int) -> Any:
    """What the closed pool cannot meet, and the relaxation of a quota."""
    draw = get_owned_or_404(Draw, draw_id)
    form = RelaxForm()
    if draw.status != DrawStatus.POOL_CLOSED:
        abort(404)
    if request.method == "GET":
        return _feasibility_page(draw, form)
    _feasibility_page(draw, form)  # fills the quota's choices
    if not form.validate_on_submit():
        return _feasibility_page(draw, form, 422)
    sub_draw_id, feature, value = form.quota.data.split(":", 2)
    part = get_owned_or_404(SubDraw, int(sub_draw_id))
    if part.draw_id != draw.id:
        abort(404)
    if (
        page := ask_confirmation(
            title=_("Relax this quota?"),
            consequences=[
                _("The change and its reason are published as a deviation from the method."),
                _("It cannot be undone."),
            ],
            cancel_url=url_for("draws.feasibility_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    try:
        feasibility.relax_bound(
            db.session,
            current_tenant(),
            tenant_hooks(),
            draw,
            part,
            feature=feature,
            value=value,
            minimum=int(form.minimum.data),
            maximum=int(form.maximum.data),
            reason=form.reason.data or "",
            actor=who(),
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _feasibility_page(draw, form, refusal.status)
    db.session.commit()
    notify(_("The quota is relaxed; the deviation is published."))
    return redirect(url_for("draws.feasibility_page", draw_id=draw.id))


@bp.app_template_global()
def draw_answers(draw: Draw) -> dict[str, Any]:
    """For the staff draw page: the invitations by status and the pool's size."""
    return responses.counts(db.session, draw)


@bp.app_template_global()
def draw_deviations(draw: Draw) -> list[Any]:
    """For the public method page: the deviations from the published method."""
    return record.deviations(db.session, draw)
