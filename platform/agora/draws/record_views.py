"""The public record of a draw, once its method is published (before, as missing): the page,
the export (whole, and each sub-draw's engine record for ``verify``), the spreadsheets of
the funnel and of the representativeness, and the procès-verbal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, abort, render_template
from flask_babel import format_percent
from flask_babel import gettext as _

from agora.documents.tables import attachment, csv_response
from agora.draws import charts, record, retention, services
from agora.draws.models import Draw, SubDraw
from agora.draws.views import bp
from agora.extensions import db
from agora.plugins.contracts import DrawSource
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_config, tenant_hooks


def _public_record(draw_id: int) -> record.PublicRecord:
    draw = get_owned_or_404(Draw, draw_id)
    if not record.is_public(draw):
        abort(404)
    return record.public_record(db.session, draw, tenant_hooks().quota_criteria())


def _sources(public: record.PublicRecord) -> dict[str, DrawSource]:
    return services.draw_sources(db.session, tenant_hooks(), public.draw)


def _percent(value: float | None) -> str:
    return format_percent(value, "#,##0.0 %") if value is not None else "—"


def _funnel_chart(funnel: record.Funnel, label: str) -> Any:
    steps = funnel.total.steps()
    return charts.grouped_bars(
        f"funnel-{funnel.sub_draw_id}",
        _("Response funnel: %(source)s", source=label),
        [label],
        [(str(name), [(n, str(n))]) for name, n in zip(record.step_labels(), steps, strict=True)],
        maximum=max(steps) or 1,
    )


def _share_chart(criterion: record.Representativeness) -> Any:
    series = [_("Census"), _("Pool"), _("Panel")]
    groups = []
    for share in criterion.shares:
        values = [share.census, share.pool, share.panel]
        groups.append(
            (
                share.label,
                [(value or 0.0, _percent(value)) for value in values],
            )
        )
    top = max(
        (v for s in criterion.shares for v in (s.census, s.pool, s.panel) if v is not None),
        default=1.0,
    )
    return charts.grouped_bars(
        f"shares-{criterion.feature}",
        _("%(criterion)s: share in the census, the pool and the panel", criterion=criterion.label),
        series,
        groups,
        maximum=top or 1.0,
    )


@bp.app_template_global("draw_purge_date")
def draw_purge_date(draw: Draw) -> datetime | None:
    """For the staff page: when the draw's personal data of people not selected goes."""
    return retention.purge_date(draw, retention.retention_months(tenant_config().draws))


@bp.get("/draws/<int:draw_id>/record")
def record_page(draw_id: int) -> str:
    public = _public_record(draw_id)
    sources = _sources(public)
    labels = {part.id: record.source_label(sources, part) for part in public.parts}
    return render_template(
        "draws/record.html",
        public=public,
        draw=public.draw,
        labels=labels,
        sources=sources,
        step_labels=record.step_labels(),
        funnel_charts={
            f.sub_draw_id: _funnel_chart(f, labels[f.sub_draw_id]) for f in public.funnels
        },
        share_charts={c.feature: _share_chart(c) for c in public.representativeness},
        percent=_percent,
        verify_command=record.verify_command,
        record_filename=record.record_filename,
    )


@bp.get("/draws/<int:draw_id>/record.json")
def record_export(draw_id: int) -> Response:
    public = _public_record(draw_id)
    data = record.export(db.session, current_tenant(), public, _sources(public))
    return attachment(record.export_bytes(data), f"tirage-{draw_id}.json", "application/json")


@bp.get("/draws/<int:draw_id>/record/<int:sub_draw_id>.json")
def engine_record(draw_id: int, sub_draw_id: int) -> Response:
    """One sub-draw's engine record, as ``python -m agora.sortition verify`` reads it."""
    public = _public_record(draw_id)
    part = get_owned_or_404(SubDraw, sub_draw_id)
    found = record.engine_record(public.draw, part) if part.draw_id == draw_id else None
    if found is None:
        abort(404)
    return attachment(
        record.export_bytes(found), record.record_filename(public.draw, part), "application/json"
    )


@bp.get("/draws/<int:draw_id>/funnel.csv")
def funnel_csv(draw_id: int) -> Response:
    public = _public_record(draw_id)
    header, rows = record.funnel_table(public, _sources(public))
    return csv_response(f"tirage-{draw_id}-entonnoir.csv", header, rows)


@bp.get("/draws/<int:draw_id>/representativeness.csv")
def representativeness_csv(draw_id: int) -> Response:
    header, rows = record.representativeness_table(_public_record(draw_id))
    return csv_response(f"tirage-{draw_id}-representativite.csv", header, rows)


@bp.get("/draws/<int:draw_id>/proces-verbal.pdf")
def proces_verbal(draw_id: int) -> Response:
    public = _public_record(draw_id)
    document = record.proces_verbal(current_tenant(), public, _sources(public))
    return attachment(document, f"tirage-{draw_id}-proces-verbal.pdf", "application/pdf")
