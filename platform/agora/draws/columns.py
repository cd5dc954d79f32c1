"""The column mapping of a register whose source reads the columns chosen for each file
(a generic CSV, ``ColumnMappedSource``): after its upload the file waits, its header read;
the person who uploaded it says which column holds what; then it is imported as any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from agora.audit import services as audit
from agora.db import DbSession
from agora.draws import services
from agora.draws.models import Register, RegisterStatus
from agora.errors import Conflict, Invalid
from agora.plugins.contracts import ColumnMappedSource, RegisterFormatError
from agora.plugins.manager import TenantHooks
from agora.tenancy.models import Tenant


class ColumnRefused(Invalid):
    """A column chosen for ``role`` that cannot be (shown next to that role's field)."""

    def __init__(self, message: str, role: str) -> None:
        super().__init__(message)
        self.role = role


@dataclass(frozen=True)
class Role:
    """What a column may hold, as the mapping screen asks it."""

    key: str
    label: str
    required: bool = False
    several: bool = False


def mapped_source(hooks: TenantHooks, register: Register) -> ColumnMappedSource | None:
    """The register's source when it reads chosen columns, else ``None``."""
    source = hooks.draw_sources().get(register.source)
    return source if isinstance(source, ColumnMappedSource) else None


def roles(hooks: TenantHooks, register: Register) -> list[Role]:
    """The roles a column may take for ``register``: the person, the household, the stratum,
    the date of birth, each quota criterion that applies to its source, what letters need."""
    criteria = [c for c in hooks.quota_criteria() if c.applies_to(register.source)]
    return [
        Role("person", _("The person's identifier"), required=True),
        Role("household", _("The household (the address)"), required=True, several=True),
        Role("stratum", _("The stratum (neighbourhood, polling station)")),
        Role("birth_date", _("The date of birth")),
        *[Role(c.feature, c.label) for c in criteria],
        Role("attributes", _("What the letters need (name, address)"), several=True),
    ]


def await_mapping(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, register: Register, path: Path
) -> Register:
    """Read the uploaded file's header: the register then waits for its columns, or is
    refused (an empty file, another separator, a column named twice) with nothing kept."""
    source = mapped_source(hooks, register)
    assert source is not None
    try:
        source.headers(path)
    except RegisterFormatError as error:
        return services.fail_register(
            session, tenant, register, services.format_error(register.filename, error), path
        )
    register.status = RegisterStatus.MAPPING
    session.flush()
    return register


def headers(hooks: TenantHooks, register: Register, path: Path) -> list[str]:
    source = mapped_source(hooks, register)
    assert source is not None
    return source.headers(path)


def proposed(hooks: TenantHooks, register: Register, names: Sequence[str]) -> dict[str, list[str]]:
    """The columns the commune's settings propose, where the file has them."""
    source = mapped_source(hooks, register)
    assert source is not None
    found = set(names)
    configured = source.columns
    proposal: dict[str, list[str]] = {}
    for role in roles(hooks, register):
        if role.key == "household":
            chosen = [c.strip() for c in configured.get("household", "").split(",")]
        elif role.key == "attributes":
            chosen = list(getattr(source, "attribute_columns", ()))
        else:
            chosen = [configured[role.key]] if role.key in configured else []
        chosen = [c for c in chosen if c in found]
        if chosen:
            proposal[role.key] = chosen
    return proposal


def choose_columns(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    register: Register,
    path: Path,
    *,
    actor: str,
    columns: Mapping[str, Sequence[str]],
) -> Register:
    """Keep the columns chosen for ``register`` (checked against its header) and mark it
    for import. Refused, with nothing kept, when the person's or the household's column is
    missing, a role holding one column gets several, or a column is not in the file."""
    if register.status != RegisterStatus.MAPPING:
        raise Conflict(_("The columns of this register are already chosen."))
    names = set(headers(hooks, register, path))
    allowed = {role.key: role for role in roles(hooks, register)}
    mapping: dict[str, list[str]] = {}
    for key, chosen in columns.items():
        picked = [name for name in chosen if name]
        if key not in allowed or not picked:
            continue
        unknown = [name for name in picked if name not in names]
        if unknown:
            raise ColumnRefused(_("The file has no column “%(column)s”.", column=unknown[0]), key)
        if len(picked) > 1 and not allowed[key].several:
            raise ColumnRefused(_("Choose one column."), key)
        mapping[key] = picked
    for role in allowed.values():
        if role.required and role.key not in mapping:
            raise ColumnRefused(_("Choose the column of this role."), role.key)
    register.column_mapping = mapping
    register.status = RegisterStatus.IMPORTING
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.register_mapped",
        object_type="draw",
        object_id=register.draw_id,
        details={"register": register.id, "columns": mapping},
    )
    session.flush()
    return register
