"""Domain errors of the sortition engine.

Every error carries a stable ``code`` and a ``params`` mapping of JSON-compatible values, so
that a user interface can render a translated message; ``str(error)`` is the English message.
The engine never returns a partial result: it raises one of these instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SortitionError(Exception):
    """Base class of every error raised on purpose by ``agora_sortition``."""

    code = "sortition_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params: Mapping[str, Any] = params

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form: ``{"code", "message", "params"}``."""
        return {"code": self.code, "message": self.message, "params": dict(self.params)}


class MalformedInput(SortitionError):
    """An input file or value is unusable; ``params`` names file, line and column when known."""

    code = "malformed_input"

    def __init__(
        self,
        problem: str,
        *,
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
        super().__init__(message, conflicts=conflicts, relaxation=relaxation, reason=reason)
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
        )


class VerificationFailed(SortitionError):
    """An audit record does not match what it claims; ``params["check"]`` names the check."""

    code = "verification_failed"

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"verification failed [{check}]: {detail}", check=check, detail=detail)


class SolverFailure(SortitionError):
    """The LP/MIP solver stopped without a usable optimum (should not happen on valid input)."""

    code = "solver_failure"

    def __init__(self, what: str, status: str) -> None:
        super().__init__(f"solver failed on {what}: {status}", what=what, status=status)
