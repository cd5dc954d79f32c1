"""Agora's sortition engine: stage-1 invitations, LEXIMIN-fair stage-2 selection, transparent
verifiable lottery, replacements. Pure Python on NumPy and HiGHS; no web framework, no database
and nothing from the platform (``agora``): the distribution ``agora-sortition`` installs and runs
alone (``python -m agora_sortition``, or ``agora-sortition``).

Heavy modules (NumPy, HiGHS) load on first use, so that ``python -m agora_sortition verify``
and the data-model helpers work with the standard library alone.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    InfeasibleQuotas,
    LegacyMethodStuck,
    MalformedInput,
    NoFittingReplacement,
    SolverFailure,
    SortitionError,
    VerificationFailed,
)
from .pool import Pool, Quota, QuotaSet, read_pool, read_quotas, write_pool, write_quotas
from .tables import Table, TableFormat, read_table, sniff
from .version import ENGINE_VERSION

if TYPE_CHECKING:  # explicit re-exports of the lazily loaded names below
    from .engine import (
        ALGORITHMS as ALGORITHMS,
    )
    from .engine import (
        Selection as Selection,
    )
    from .engine import (
        build_lottery as build_lottery,
    )
    from .engine import (
        select as select,
    )
    from .feasibility import (
        check_feasibility as check_feasibility,
    )
    from .instance import (
        Instance as Instance,
    )
    from .instance import (
        compile_instance as compile_instance,
    )
    from .invitations import (
        Invitations as Invitations,
    )
    from .invitations import (
        draw_invitations as draw_invitations,
    )
    from .legacy import (
        legacy_panel as legacy_panel,
    )
    from .legacy import (
        legacy_probabilities as legacy_probabilities,
    )
    from .leximin import (
        Distribution as Distribution,
    )
    from .leximin import (
        find_leximin as find_leximin,
    )
    from .leximin import (
        find_maximin as find_maximin,
    )
    from .lottery import (
        Lottery as Lottery,
    )
    from .lottery import (
        round_lottery as round_lottery,
    )
    from .replacement import (
        Replacement as Replacement,
    )
    from .replacement import (
        replace_member as replace_member,
    )

_LAZY = {
    "ALGORITHMS": "engine",
    "Selection": "engine",
    "build_lottery": "engine",
    "select": "engine",
    "check_feasibility": "feasibility",
    "Instance": "instance",
    "compile_instance": "instance",
    "Invitations": "invitations",
    "draw_invitations": "invitations",
    "legacy_panel": "legacy",
    "legacy_probabilities": "legacy",
    "Distribution": "leximin",
    "find_leximin": "leximin",
    "find_maximin": "leximin",
    "Lottery": "lottery",
    "round_lottery": "lottery",
    "Replacement": "replacement",
    "replace_member": "replacement",
}

# The public API: what the platform, its tests and the benchmark may use from the package root
# (the documented submodules ``audit``, ``randomness``, ``invitations``, ``cli``, ``pool``,
# ``tables`` (the file reader: ``sniff``, ``read_table``), ``messages`` (French/English) and
# ``rounding`` are public too; modules and names starting with "_" are not).
__all__ = [
    "ALGORITHMS",
    "ENGINE_VERSION",
    "Distribution",
    "InfeasibleQuotas",
    "Instance",
    "Invitations",
    "LegacyMethodStuck",
    "Lottery",
    "MalformedInput",
    "NoFittingReplacement",
    "Pool",
    "Quota",
    "QuotaSet",
    "Replacement",
    "Selection",
    "SolverFailure",
    "SortitionError",
    "Table",
    "TableFormat",
    "VerificationFailed",
    "build_lottery",
    "check_feasibility",
    "compile_instance",
    "draw_invitations",
    "find_leximin",
    "find_maximin",
    "legacy_panel",
    "legacy_probabilities",
    "read_pool",
    "read_quotas",
    "read_table",
    "replace_member",
    "round_lottery",
    "select",
    "sniff",
    "write_pool",
    "write_quotas",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
