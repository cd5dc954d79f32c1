"""Domain errors of the sortition engine.

Every error carries a stable ``code`` and a ``params`` mapping of JSON-compatible values, so
that a user interface can render a translated message; ``str(error)`` is the English message.
``key`` names the message more precisely than ``code`` (e.g. ``malformed_input`` raised with the
key ``utf16_without_bom``); ``agora_sortition.messages.render`` gives it in French or English.
The engine never returns a partial result: it raises one of these instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SortitionError(Exception):
    """Base class of every error raised on purpose by ``agora_sortition``."""

    code = "sortition_error"

    def __init__(self, message: str, *, key: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.key = key or self.code
        self.params: Mapping[str, Any] = params

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form: ``{"code", "key", "message", "params"}``."""
        return {
            "code": self.code,
            "key": self.key,
            "message": self.message,
            "params": dict(self.params),
        }


class MalformedInput(SortitionError):
    """An input file or value is unusable; ``params`` names file, line and column when known."""

    code = "malformed_input"

    def __init__(
        self,
        problem: str,
        *,
        key: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        **params: Any,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                file and f"file {file}",
                line is not None and f"line {line}",
                column is not None and f"column {column!r}",
            )
            if part
        )
        super().__init__(
            f"{where}: {problem}" if where else problem,
            key=key,
            problem=problem,
            file=file,
            line=line,
            column=column,
            **params,
        )


class InfeasibleQuotas(SortitionError):
    """No panel of the requested size meets the quotas.

    ``params["conflicts"]`` is a minimal set of quota bounds that cannot hold together (each as
    ``{"feature", "value", "bound": "min"|"max", "limit"}``); ``params["relaxation"]`` is a
    smallest change of quota bounds (least total number of seats moved) that makes the draw
    feasible, as ``{"feature", "value", "min", "max", "new_min", "new_max"}``.
    """

    code = "infeasible_quotas"

    def __init__(
        self,
        conflicts: list[dict[str, Any]],
        relaxation: list[dict[str, Any]],
        *,
        reason: str | None = None,
        key: str | None = None,
        **params: Any,
    ) -> None:
        named = "; ".join(
            f"{c['feature']}={c['value']} {c['bound']} {c['limit']}" for c in conflicts
        )
        relaxed = "; ".join(
            f"{r['feature']}={r['value']} [{r['min']},{r['max']}] -> "
            f"[{r['new_min']},{r['new_max']}]"
            for r in relaxation
        )
        message = "infeasible quotas"
        if reason:
            message += f": {reason}"
        if named:
            message += f"; conflicting quotas: {named}"
        if relaxed:
            message += f"; smallest relaxation: {relaxed}"
        super().__init__(
            message,
            key=key,
            conflicts=conflicts,
            relaxation=relaxation,
            reason=reason,
            named=named,
            relaxed=relaxed,
            **params,
        )
        self.conflicts = conflicts
        self.relaxation = relaxation


class NoFittingReplacement(SortitionError):
    """No candidate can replace a withdrawn member without breaking a quota.

    ``params["breaking"]`` lists the quotas that every candidate would break (with the count the
    panel would reach); ``params["closest"]`` the candidates breaking the fewest seats.
    """

    code = "no_fitting_replacement"

    def __init__(self, withdrawn: str, breaking: list[dict[str, Any]], closest: list[str]) -> None:
        named = "; ".join(
            f"{b['feature']}={b['value']} {b['bound']} {b['limit']} (would be {b['count']})"
            for b in breaking
        )
        super().__init__(
            f"no candidate can replace {withdrawn!r} within the quotas; breaking quota: {named}",
            withdrawn=withdrawn,
            breaking=breaking,
            closest=closest,
            named=named,
        )


class VerificationFailed(SortitionError):
    """An audit record does not match what it claims; ``params["check"]`` names the check."""

    code = "verification_failed"

    def __init__(self, check: str, detail: str, *, key: str | None = None, **params: Any) -> None:
        super().__init__(
            f"verification failed [{check}]: {detail}",
            key=key,
            check=check,
            detail=detail,
            **params,
        )


class SolverFailure(SortitionError):
    """The LP/MIP solver stopped without a usable optimum (should not happen on valid input)."""

    code = "solver_failure"

    def __init__(self, what: str, status: str) -> None:
        super().__init__(f"solver failed on {what}: {status}", what=what, status=status)


class LegacyMethodStuck(SortitionError):
    """The legacy greedy method got stuck on every attempt, although the quotas are feasible
    (a panel meeting them exists: ``leximin`` or ``maximin`` find it)."""

    code = "legacy_method_stuck"

    def __init__(self, attempts: int) -> None:
        super().__init__(
            f"the legacy greedy method got stuck {attempts} times in a row: the quotas are "
            "feasible (a panel meeting them exists), but this method picks people one at a time "
            "and, on tight quotas, nearly always ends in a dead end; use leximin or maximin",
            attempts=attempts,
        )
