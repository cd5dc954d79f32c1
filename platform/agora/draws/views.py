"""A draw's staff pages: the list, the design of a draw and its method, the registers'
upload and import (with its progress), and the steps of the lifecycle; and the public page
of a draw's method once published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from agora.assembly.models import Body
from agora.draws import columns, nested, services
from agora.draws.forms import (
    MethodForm,
    RegisterForm,
    VolunteersForm,
    columns_form,
    method_form,
)
from agora.draws.models import Draw, DrawStatus, Register, RegisterStatus, SubDraw
from agora.errors import Invalid
from agora.extensions import db
from agora.identity.acting import who
from agora.jobs import enqueue
from agora.shared.forms import PLACEHOLDER, ask_confirmation, notify, render_invalid
from agora.shared.protection import accepts_files
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_config, tenant_hooks

bp = Blueprint("draws", __name__, template_folder="templates")


def _plan(form: MethodForm) -> list[services.SubDrawPlan]:
    return [
        services.SubDrawPlan(source, int(field.data))  # type: ignore[attr-defined]
        for source, field in form.source_fields()
        if field.data  # type: ignore[attr-defined]
    ]


@bp.app_template_global()
def stratum_name(stratum: str) -> str:
    """A register's stratum as the commune names it in its quota criteria."""
    names = services.stratum_names(tenant_hooks().quota_criteria())
    return services.stratum_label(names, stratum)


@bp.get("/admin/draws")
def index() -> str:
    tenant = current_tenant()
    draws = services.draws_of(db.session, tenant)
    return render_template(
        "draws/index.html",
        draws=draws,
        owners={draw.id: services.owner_title(db.session, draw) for draw in draws},
    )


@bp.route("/admin/draws/new", methods=["GET", "POST"])
def new_draw() -> Any:
    tenant, hooks = current_tenant(), tenant_hooks()
    sources = {**hooks.draw_sources(), **nested.any_members_sources(db.session, tenant.id)}
    settings = tenant_config().draws
    form = method_form(
        sources,
        new=True,
        algorithm="leximin",
        minimum_age=int(settings.get("minimum_age", 0)),
        recent_editions=int(settings.get("exclude_members_of_last_editions", 0)),
    )
    form.body.choices = [PLACEHOLDER, *services.bodies_to_draw(db.session, tenant)]
    if request.method == "GET":
        return render_template("draws/new.html", form=form, sources=sources)
    if not form.validate_on_submit():
        return render_invalid("draws/new.html", form, sources=sources)
    body = get_owned_or_404(Body, int(form.body.data))
    try:
        draw = services.design_draw(
            db.session,
            tenant,
            hooks,
            actor=who(),
            body=body,
            title=form.title.data,
            plan=_plan(form),
            algorithm=form.algorithm.data,
            witnesses=form.witnesses.data or "",
            minimum_age=int(form.minimum_age.data or 0),
            recent_editions=int(form.recent_editions.data or 0),
            excluded_ids=(form.exclusions.data or "").splitlines(),
        )
    except Invalid as refusal:
        form.refuse(None, refusal.message)
        return render_invalid("draws/new.html", form, sources=sources)
    db.session.commit()
    notify(_("The draw is designed. Upload its registers, then publish its method."))
    return redirect(url_for("draws.draw_page", draw_id=draw.id))


def _draw_page(draw: Draw, register_form: RegisterForm | None = None, status: int = 200) -> Any:
    parts = services.sub_draws(db.session, draw)
    form = register_form or RegisterForm()
    sources = services.draw_sources(db.session, tenant_hooks(), draw)
    # A nested sub-draw's register is its members who volunteer, never a file.
    form.sub_draw.choices = [
        PLACEHOLDER,
        *[
            (str(p.id), sources[p.source].label if p.source in sources else p.source)
            for p in parts
            if not isinstance(sources.get(p.source), nested.MembersSource)
        ],
    ]
    body = get_owned_or_404(Body, draw.body_id)
    return (
        render_template(
            "draws/draw.html",
            draw=draw,
            body=body,
            owner=services.owner_title(db.session, draw),
            parts=parts,
            sources=sources,
            latest=services.current_registers(db.session, draw),
            registers=services.registers(db.session, draw),
            form=form,
            registers_open=draw.status in services.REGISTERS_OPEN,
            nested_parts={
                name for name, source in sources.items() if isinstance(source, nested.MembersSource)
            },
            lifecycle=services.LIFECYCLE,
        ),
        status,
    )


@bp.get("/admin/draws/<int:draw_id>")
def draw_page(draw_id: int) -> Any:
    return _draw_page(get_owned_or_404(Draw, draw_id))


@bp.route("/admin/draws/<int:draw_id>/method", methods=["GET", "POST"])
def change_method(draw_id: int) -> Any:
    tenant, hooks = current_tenant(), tenant_hooks()
    draw = get_owned_or_404(Draw, draw_id)
    sources = services.draw_sources(db.session, hooks, draw)
    seats = {part.source: part.seats for part in services.sub_draws(db.session, draw)}
    form = method_form(
        sources,
        new=False,
        algorithm=draw.algorithm,
        minimum_age=draw.minimum_age,
        recent_editions=draw.recent_editions_excluded,
        witnesses=draw.witnesses,
        **{f"seats_{name}": seats.get(name) for name in sources},
    )
    if request.method == "GET":
        return render_template("draws/method_form.html", form=form, draw=draw, sources=sources)
    if not form.validate_on_submit():
        return render_invalid("draws/method_form.html", form, draw=draw, sources=sources)
    exclusions = (form.exclusions.data or "").splitlines()
    services.change_method(
        db.session,
        tenant,
        hooks,
        draw,
        actor=who(),
        plan=_plan(form),
        algorithm=form.algorithm.data,
        witnesses=form.witnesses.data or "",
        minimum_age=int(form.minimum_age.data or 0),
        recent_editions=int(form.recent_editions.data or 0),
        excluded_ids=exclusions if any(line.strip() for line in exclusions) else None,
    )
    db.session.commit()
    notify(_("The method of the draw is changed."))
    return redirect(url_for("draws.draw_page", draw_id=draw.id))


@bp.post("/admin/draws/<int:draw_id>/registers")
@accepts_files("AGORA_MAX_REGISTER_BYTES")
def upload_register(draw_id: int) -> Any:
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    # Werkzeug refuses (413) a request far over the limit before reading it; a file just
    # over it is measured while it is written to disk.
    limit = int(current_app.config["AGORA_MAX_REGISTER_BYTES"])
    form = RegisterForm()
    form.sub_draw.choices = [
        PLACEHOLDER,
        *[(str(p.id), p.source) for p in services.sub_draws(db.session, draw)],
    ]
    if not form.validate_on_submit():
        return _draw_page(draw, form, 422)
    sub_draw = get_owned_or_404(SubDraw, int(form.sub_draw.data))
    if sub_draw.draw_id != draw.id:
        abort(404)
    upload = form.register.data
    register = services.receive_register(
        db.session,
        tenant,
        draw,
        sub_draw,
        actor=who(),
        stream=upload.stream,
        filename=upload.filename or "",
        folder=current_app.config["AGORA_UPLOAD_DIR"],
        max_bytes=limit,
    )
    hooks = tenant_hooks()
    if columns.mapped_source(hooks, register) is not None:
        columns.await_mapping(db.session, tenant, hooks, register, _upload(register))
        db.session.commit()
        if register.status == RegisterStatus.MAPPING:
            return redirect(
                url_for("draws.register_columns", draw_id=draw.id, register_id=register.id)
            )
        return redirect(url_for("draws.register_page", draw_id=draw.id, register_id=register.id))
    register.status = RegisterStatus.IMPORTING
    db.session.commit()
    enqueue("draws.import_register", tenant_id=tenant.id, register_id=register.id)
    return redirect(url_for("draws.register_page", draw_id=draw.id, register_id=register.id))


def _upload(register: Register) -> Path:
    folder = current_app.config["AGORA_UPLOAD_DIR"]
    return services.upload_path(folder, current_tenant(), register.id)


@bp.route("/admin/draws/<int:draw_id>/registers/<int:register_id>/columns", methods=["GET", "POST"])
def register_columns(draw_id: int, register_id: int) -> Any:
    """Which column of the file holds what, for a source that reads chosen columns."""
    tenant, hooks = current_tenant(), tenant_hooks()
    draw = get_owned_or_404(Draw, draw_id)
    register = get_owned_or_404(Register, register_id)
    if register.draw_id != draw.id or columns.mapped_source(hooks, register) is None:
        abort(404)
    here = url_for("draws.register_page", draw_id=draw.id, register_id=register.id)
    if register.status != RegisterStatus.MAPPING:
        return redirect(here)
    path = _upload(register)
    if not path.is_file():
        services.fail_register(
            db.session,
            tenant,
            register,
            _(
                "File “%(file)s”: it is no longer on the server; upload it again.",
                file=register.filename,
            ),
            path,
        )
        db.session.commit()
        return redirect(here)
    names = columns.headers(hooks, register, path)
    roles = columns.roles(hooks, register)
    form = columns_form(roles, names, columns.proposed(hooks, register, names))
    context = {"draw": draw, "register": register, "names": names}
    if request.method == "GET":
        return render_template("draws/register_columns.html", form=form, **context)
    if not form.validate_on_submit():
        return render_invalid("draws/register_columns.html", form, **context)
    try:
        columns.choose_columns(
            db.session, tenant, hooks, register, path, actor=who(), columns=form.chosen()
        )
    except columns.ColumnRefused as refusal:
        db.session.rollback()
        form.refuse(f"col_{refusal.role}", refusal.message)
        return render_invalid("draws/register_columns.html", form, **context)
    db.session.commit()
    enqueue("draws.import_register", tenant_id=tenant.id, register_id=register.id)
    notify(_("The columns are chosen: the register is being read."))
    return redirect(here)


@bp.get("/admin/draws/<int:draw_id>/registers/<int:register_id>")
def register_page(draw_id: int, register_id: int) -> Any:
    draw = get_owned_or_404(Draw, draw_id)
    register = get_owned_or_404(Register, register_id)
    if register.draw_id != draw.id:
        abort(404)
    return render_template(
        "draws/register.html",
        draw=draw,
        register=register,
        source=services.draw_sources(db.session, tenant_hooks(), draw).get(register.source),
        running=register.status in (RegisterStatus.UPLOADED, RegisterStatus.IMPORTING),
        mapped=_columns_read(register),
    )


@bp.route("/admin/draws/<int:draw_id>/volunteers/<int:sub_draw_id>", methods=["GET", "POST"])
def members_volunteers(draw_id: int, sub_draw_id: int) -> Any:
    """A nested sub-draw's register: the members of its source's body who volunteer."""
    tenant, hooks = current_tenant(), tenant_hooks()
    draw = get_owned_or_404(Draw, draw_id)
    sub_draw = get_owned_or_404(SubDraw, sub_draw_id)
    source = services.draw_sources(db.session, hooks, draw).get(sub_draw.source)
    if sub_draw.draw_id != draw.id or not isinstance(source, nested.MembersSource):
        abort(404)
    if draw.status not in services.REGISTERS_OPEN:
        return redirect(url_for("draws.draw_page", draw_id=draw.id))
    form = VolunteersForm()
    form.offer(
        nested.drawn_members(db.session, source), services.stratum_names(hooks.quota_criteria())
    )
    context = {"draw": draw, "source": source, "seats": sub_draw.seats}
    if request.method == "GET":
        return render_template("draws/volunteers.html", form=form, **context)
    if not form.validate_on_submit():
        return render_invalid("draws/volunteers.html", form, **context)
    register = services.register_members(
        db.session,
        tenant,
        hooks,
        draw,
        sub_draw,
        volunteers=[int(value) for value in form.volunteers.data],
        folder=current_app.config["AGORA_UPLOAD_DIR"],
        actor=who(),
    )
    db.session.commit()
    notify(
        ngettext(
            "%(num)d member volunteers: the register is stored.",
            "%(num)d members volunteer: the register is stored.",
            register.row_count,
        )
    )
    return redirect(url_for("draws.register_page", draw_id=draw.id, register_id=register.id))


def _columns_read(register: Register) -> list[tuple[str, str]]:
    """The columns a register was read with, by role, when they were chosen for it."""
    if not register.column_mapping:
        return []
    labels = {role.key: role.label for role in columns.roles(tenant_hooks(), register)}
    return [
        (labels.get(role, role), ", ".join(names))
        for role, names in register.column_mapping.items()
    ]


@bp.post("/admin/draws/<int:draw_id>/publish")
def publish_method(draw_id: int) -> Any:
    tenant = current_tenant()
    draw = get_owned_or_404(Draw, draw_id)
    if (
        page := ask_confirmation(
            title=_("Publish the method of the draw?"),
            consequences=[
                _("The method (sources, seats, eligibility, algorithm, witnesses) becomes public."),
                _("It can no longer change."),
            ],
            cancel_url=url_for("draws.draw_page", draw_id=draw.id),
        )
    ) is not None:
        return page
    services.publish_method(db.session, tenant, draw, actor=who())
    db.session.commit()
    notify(_("The method of the draw is published."))
    return redirect(url_for("draws.draw_page", draw_id=draw.id))


@bp.get("/draws/<int:draw_id>")
def method_page(draw_id: int) -> Any:
    """The public page of a draw's method, once published (before, as missing)."""
    draw = get_owned_or_404(Draw, draw_id)
    if draw.status == DrawStatus.DESIGNED:
        abort(404)
    hooks = tenant_hooks()
    return render_template(
        "draws/method.html",
        draw=draw,
        body=get_owned_or_404(Body, draw.body_id),
        owner=services.owner_title(db.session, draw),
        parts=services.sub_draws(db.session, draw),
        sources=services.draw_sources(db.session, hooks, draw),
        quotas=hooks.quota_criteria(),
        latest=services.current_registers(db.session, draw),
    )


# The other steps' routes, on this blueprint.
from agora.draws import (  # noqa: E402, F401
    letters_views,
    record_views,
    responses_views,
    selection_views,
    stage1_views,
)
