"""The letters of a draw, in a view for a few hundred or as a batch for the print shop.

A batch (the ``draws.print_letters`` job) prints the letters in parts of
:data:`LETTERS_PER_PART`, each a PDF file written whole (to a temporary name, then renamed)
before the invitations it holds are marked with its number, in the same transaction that
locks the draw. A worker killed midway leaves its part unmarked: the job run again prints
that part again under the same number, replacing any file it left, and goes on. Each
invitation's letter is then in exactly one part: none missing, none printed twice.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.draws import letters, responses
from agora.draws.models import Draw, Invitation
from agora.errors import Conflict
from agora.tenancy.addresses import page_address
from agora.tenancy.config import TenantConfig
from agora.tenancy.models import Tenant

LETTERS_PER_PART = 250


def letter_text(tenant: Tenant, config: TenantConfig) -> letters.LetterText:
    # Printed in the commune's language, whoever prints them.
    with force_locale(tenant.locale):
        return letters.LetterText(
            commune=tenant.name,
            colour=config.theme_colour or "#1d70b8",
            title=_("You are invited to the citizens' assembly"),
            paragraphs=(
                _(
                    "Your household was drawn by lot among the residents of %(commune)s to "
                    "take part in the citizens' assembly: residents who deliberate together "
                    "and propose decisions to the municipal council.",
                    commune=tenant.name,
                ),
                _(
                    "If you would like to take part, answer with the code below, online or "
                    "by scanning the QR code. A few questions help draw an assembly that "
                    "resembles the population. You can also answer on paper at the town hall."
                ),
                _("Taking part is voluntary; the working days are compensated."),
            ),
            code_label=_("Your personal code"),
            answer_label=_("Answer at"),
            notice_title=_("Your personal data"),
        )


def letters_of(
    session: DbSession,
    tenant: Tenant,
    draw: Draw,
    *,
    unprinted: bool = False,
    limit: int | None = None,
) -> list[tuple[int, letters.Letter]]:
    """The draw's letters in the order of the draw, each with its invitation's id (only
    those no part of a batch holds yet, when ``unprinted``)."""
    query = (
        select(Invitation.id, Invitation.code, Invitation.contact)
        .where(
            Invitation.tenant_id == draw.tenant_id,
            Invitation.draw_id == draw.id,
            Invitation.channel.in_(responses.INVITING),
        )
        .order_by(Invitation.position)
        .limit(limit)
    )
    if unprinted:
        query = query.where(Invitation.letter_part.is_(None))
    return [
        (
            invitation_id,
            letters.Letter(
                letters.address_lines(dict(contact or {})),
                code,
                page_address(tenant, "draws.respond", code=code),
            ),
        )
        for invitation_id, code, contact in session.execute(query)
    ]


def batch_dir(upload_dir: str, tenant: Tenant, draw_id: int) -> Path:
    """Where a draw's batch of letters is printed, one ``part-NNNN.pdf`` per part."""
    return Path(upload_dir) / str(tenant.id) / "letters" / str(draw_id)


def part_path(directory: Path, part: int) -> Path:
    return directory / f"part-{part:04d}.pdf"


@dataclass(frozen=True)
class Part:
    """A printed part of the batch: its number, how many letters, its file's size."""

    number: int
    letters: int
    size: int


@dataclass(frozen=True)
class Batch:
    """A draw's letters as a batch: how many there are, how many a part holds, the parts'
    files, when the batch was asked for."""

    letters: int
    printed: int
    parts: list[Part]
    requested_at: datetime | None

    @property
    def waiting(self) -> int:
        """Letters no part holds yet."""
        return self.letters - self.printed

    @property
    def running(self) -> bool:
        """Asked for, and letters are still waiting for their part."""
        return self.requested_at is not None and self.waiting > 0


def batch(session: DbSession, tenant: Tenant, draw: Draw, directory: Path) -> Batch:
    """The draw's batch of letters as it stands (``directory``: :func:`batch_dir`)."""
    counts = session.execute(
        select(Invitation.letter_part, func.count())
        .where(
            Invitation.tenant_id == tenant.id,
            Invitation.draw_id == draw.id,
            Invitation.channel.in_(responses.INVITING),
        )
        .group_by(Invitation.letter_part)
        .order_by(Invitation.letter_part)
    ).all()
    parts = [
        Part(number, letters, path.stat().st_size)
        for number, letters in counts
        if number is not None and (path := part_path(directory, number)).exists()
    ]
    return Batch(
        letters=sum(letters for _, letters in counts),
        printed=sum(letters for number, letters in counts if number is not None),
        parts=parts,
        requested_at=draw.letters_requested_at,
    )


def request_batch(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> int:
    """Ask for the letters no part holds yet to be printed as a batch (the job
    ``draws.print_letters`` prints them); how many. Audited."""
    waiting = session.scalar(
        select(func.count()).where(
            Invitation.tenant_id == tenant.id,
            Invitation.draw_id == draw.id,
            Invitation.channel.in_(responses.INVITING),
            Invitation.letter_part.is_(None),
        )
    )
    if not waiting:
        raise Conflict(_("Every letter of the draw is already in a part of the batch."))
    draw.letters_requested_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.letters_requested",
        object_type="draw",
        object_id=draw.id,
        details={"letters": int(waiting)},
    )
    session.flush()
    return int(waiting)


def batch_files(directory: Path) -> list[Path]:
    """The files of a draw's batch (its parts, and a part being written)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.is_file())


def delete_batch(directory: Path) -> None:
    """Delete a draw's printed parts: they hold every invited household's name and address."""
    shutil.rmtree(directory, ignore_errors=True)


def parts_printed(session: DbSession, tenant: Tenant, draw_id: int) -> int:
    """How many parts of the draw's batch are printed (and recorded)."""
    last = session.scalar(
        select(func.max(Invitation.letter_part)).where(
            Invitation.tenant_id == tenant.id, Invitation.draw_id == draw_id
        )
    )
    return last or 0


def print_next_part(
    session: DbSession, tenant: Tenant, config: TenantConfig, draw_id: int, directory: Path
) -> int | None:
    """Print the next part of the batch and record it (committed); its number, or ``None``
    when every letter is in a part."""
    # One part at a time per draw, whichever worker prints it: the draw's row stays locked
    # until the part's invitations are marked.
    draw = session.execute(
        select(Draw).where(Draw.tenant_id == tenant.id, Draw.id == draw_id).with_for_update()
    ).scalar_one()
    batch = letters_of(session, tenant, draw, unprinted=True, limit=LETTERS_PER_PART)
    if not batch:
        session.commit()
        return None
    part = parts_printed(session, tenant, draw.id) + 1
    directory.mkdir(parents=True, exist_ok=True)
    path = part_path(directory, part)
    pending = path.with_suffix(".pdf.tmp")
    content = letters.letters_pdf(letter_text(tenant, config), [letter for _, letter in batch])
    with pending.open("wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(pending, path)
    session.execute(
        update(Invitation)
        .where(
            Invitation.tenant_id == tenant.id,
            Invitation.draw_id == draw.id,
            Invitation.id.in_([invitation_id for invitation_id, _ in batch]),
        )
        .values(letter_part=part)
    )
    session.commit()
    return part
