"""A draw with a published method and one imported register of one row, written straight
to the tables: the pages and permissions of a draw tested before the demonstration has one
(issue #13)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from agora.assembly.models import Body
from agora.db import paris_today, utcnow
from agora.draws.models import Draw, Invitation, Register, RegisterRow, RegisterStatus, SubDraw
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant


def published_draw(
    app: Flask,
    slug: str,
    *,
    body_key: str,
    source: str,
    seats: int,
    minimum_age: int,
    title: str,
    filename: str,
    witnesses: str = "",
    stratum: str = "",
) -> None:
    """Give commune ``slug`` such a draw for its body ``body_key``, unless it has a draw."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            if db.session.execute(select(Draw.id).limit(1)).scalar() is not None:
                return
            body = db.session.execute(
                select(Body).where(Body.key == body_key).limit(1)
            ).scalar_one()
            draw = Draw(
                tenant_id=tenant.id,
                edition_id=body.edition_id,
                body_id=body.id,
                title=title,
                status="method_published",
                minimum_age=minimum_age,
                reference_date=paris_today(),
                witnesses=witnesses,
                method_published_at=utcnow(),
            )
            db.session.add(draw)
            db.session.flush()
            part = SubDraw(tenant_id=tenant.id, draw_id=draw.id, source=source, seats=seats)
            db.session.add(part)
            db.session.flush()
            register = Register(
                tenant_id=tenant.id,
                draw_id=draw.id,
                sub_draw_id=part.id,
                source=source,
                filename=filename,
                size_bytes=120,
                sha256="0" * 64,
                status=RegisterStatus.IMPORTED,
                lines_read=1,
                row_count=1,
            )
            db.session.add(register)
            db.session.flush()
            db.session.add(
                RegisterRow(
                    tenant_id=tenant.id,
                    register_id=register.id,
                    person_hash="1" * 64,
                    line=2,
                    household_hash="2" * 64,
                    stratum=stratum,
                )
            )
        db.session.commit()


def invite_one(app: Flask, slug: str) -> None:
    """Give the draw of commune ``slug`` one invitation (its register's row), as stage 1
    leaves them."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            row, register = db.session.execute(
                select(RegisterRow, Register).join(
                    Register,
                    (Register.tenant_id == RegisterRow.tenant_id)
                    & (Register.id == RegisterRow.register_id),
                )
            ).one()
            db.session.add(
                Invitation(
                    tenant_id=tenant.id,
                    draw_id=register.draw_id,
                    sub_draw_id=register.sub_draw_id,
                    register_id=register.id,
                    person_hash=row.person_hash,
                    household_hash=row.household_hash,
                    stratum=row.stratum,
                    position=1,
                    code="ABCDEFGH23",
                )
            )
        db.session.commit()
