"""Command line: ``python -m agora_sortition select|commit|reveal|verify|replace|invite`` (also
installed as ``agora-sortition``; ``python -m agora.sortition`` runs it where the platform is).

``verify`` imports only standard-library modules of this package, so it runs where neither the
web application nor NumPy nor the solver is installed; a drand beacon's BLS signature is checked
with ``py_ecc`` (a dependency of the project). Where it is missing, or a record on the chained
``default`` chain holds no ``previous_signature`` (revealed before signatures were checked;
``--drand-beacon`` gives the round's beacon instead), ``verify`` prints ``NOT CHECKED`` for the
signature and still exits 0, unless ``--require-signature``. Errors print
as JSON on stderr (``{"code", "message", "params"}``) with exit status 2; a failed verification
exits with 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import SortitionError, VerificationFailed
from .pool import read_pool, read_quotas


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip()) if text else ()


def _write_json(path: str, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_json(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def _inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    quotas = read_quotas(args.features)
    pool = read_pool(
        args.people,
        quotas,
        id_column=args.id_column or None,
        household_columns=_columns(args.households),
    )
    return pool, quotas


def _record(args: argparse.Namespace, random_value: str | None) -> dict[str, Any]:
    from .audit import commit, reveal
    from .engine import build_lottery
    from .instance import compile_instance

    pool, quotas = _inputs(args)
    instance = compile_instance(pool, quotas, args.panel_size, households=bool(args.households))
    _, lottery = build_lottery(instance, args.algorithm, args.lottery_size, seed=args.seed or 0)
    record = commit(
        pool,
        quotas,
        panel_size=args.panel_size,
        households=bool(args.households),
        algorithm=args.algorithm,
        lottery=lottery.panels,
        probabilities=lottery.exact,
        max_deviation=lottery.max_deviation,
        random_source=args.random_source,
        drand=(args.drand_chain, args.drand_round) if args.drand_round is not None else None,
    )
    return reveal(record, random_value) if random_value else record


def _select(args: argparse.Namespace) -> int:
    from .engine import select

    pool, quotas = _inputs(args)
    selection = select(
        pool,
        quotas,
        args.panel_size,
        algorithm=args.algorithm,
        households=bool(args.households),
        seed=args.seed,
        random_value=args.random_value,
        lottery_size=args.lottery_size,
        legacy_runs=args.legacy_runs,
    )
    _write_json(args.json, selection.to_json())
    if args.record:
        if selection.lottery is None:
            raise SystemExit("--record needs a lottery: use leximin or maximin")
        _write_json(args.record, _record(args, selection.random_value))
    return 0


def _commit(args: argparse.Namespace) -> int:
    record = _record(args, None)
    _write_json(args.record, record)
    print(record["commitment_sha256"])
    return 0


def _reveal(args: argparse.Namespace) -> int:
    from .audit import reveal

    beacon = _read_json(args.drand_beacon) if args.drand_beacon else None
    revealed = reveal(
        _read_json(args.record),
        args.random_value,
        beacon=beacon,
        require_signature=args.require_signature,
    )
    _write_json(args.out or args.record, revealed)
    if beacon is not None:
        from .randomness import SignatureNotChecked, bls_backend

        try:
            print(f"drand signature checked ({bls_backend()})")
        except SignatureNotChecked as why:
            print(f"NOT CHECKED: the drand beacon's BLS signature: {why}", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .audit import NOT_CHECKED, verify

    record = _read_json(args.record)
    beacon = _read_json(args.drand_beacon) if args.drand_beacon else None
    pool = quotas = None
    if args.features:
        quotas = read_quotas(args.features)
        if args.people:
            pool = read_pool(
                args.people,
                quotas,
                id_column=args.id_column or None,
                household_columns=_columns(args.households),
            )
    try:
        passed = verify(
            record,
            pool=pool,
            quotas=quotas,
            require_signature=args.require_signature,
            drand_beacon=beacon,
        )
    except VerificationFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    for check in passed:
        print(check if check.startswith(NOT_CHECKED) else f"ok: {check}")
    if not record.get("reveal"):
        print("verified (commitment only, not revealed)")
    elif any(check.startswith(NOT_CHECKED) for check in passed):
        print("verified, except what is NOT CHECKED above (--require-signature refuses that)")
    else:
        print("verified")
    return 0


def _replace(args: argparse.Namespace) -> int:
    from .audit import current_panel, replace

    record = replace(_read_json(args.record), args.withdrawn, allow_drift=args.allow_drift)
    _write_json(args.out or args.record, record)
    entry = record["replacements"][-1]
    print(json.dumps({**entry, "panel": current_panel(record)}, ensure_ascii=False))
    return 0


def _invite(args: argparse.Namespace) -> int:
    from .invitations import draw_invitations, write_invitations

    fixed = None
    if args.fixed:
        lines = Path(args.fixed).read_text(encoding="utf-8-sig").splitlines()
        fixed = {s.strip(): int(n) for s, n in (line.rsplit(",", 1) for line in lines if line)}
    exclude: frozenset[str] = frozenset()
    if args.exclude:
        text = Path(args.exclude).read_text(encoding="utf-8-sig")
        exclude = frozenset(line.strip() for line in text.splitlines() if line.strip())
    invitations = draw_invitations(
        args.register,
        args.count,
        seed=args.seed,
        stratify=args.stratify,
        fixed=fixed,
        household_columns=_columns(args.households),
        id_column=args.id_column,
        exclude=exclude,
    )
    write_invitations(args.out, invitations)
    print(json.dumps({"invited": len(invitations.rows), "strata": invitations.strata}))
    return 0


def _stage2_arguments(parser: argparse.ArgumentParser, *, draw: bool) -> None:
    parser.add_argument("--features", required=True, help="quota file feature,value,min,max")
    parser.add_argument("--people", required=True, help="people file: id + one column/feature")
    parser.add_argument("--panel-size", type=int, required=True)
    parser.add_argument(
        "--algorithm",
        default="leximin",
        choices=("leximin", "maximin", "legacy") if draw else ("leximin", "maximin"),
    )
    parser.add_argument("--seed", type=int, help="makes the run reproducible")
    parser.add_argument("--households", help="household column(s), comma separated")
    parser.add_argument("--id-column", default="id", help="'' numbers the rows instead")
    parser.add_argument("--lottery-size", type=int, default=1000)
    parser.add_argument(
        "--random-source",
        default="unspecified",
        help="the public random value the draw will use, e.g. 'drand quicknet round 5000000'",
    )
    parser.add_argument("--drand-round", type=int, help="commit to this future drand round")
    parser.add_argument("--drand-chain", default="quicknet", help="quicknet (default) or default")


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run one command; ``prog`` names it in usage lines (default: the script, agora-sortition)."""
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)

    select = commands.add_parser("select", help="stage 2: select a panel from the volunteers")
    _stage2_arguments(select, draw=True)
    select.add_argument("--random-value", help="public random value choosing the panel")
    select.add_argument("--legacy-runs", type=int, default=1000, help="Monte-Carlo runs")
    select.add_argument("--json", required=True, help="output file")
    select.add_argument("--record", help="also write the audit record here")
    select.set_defaults(run=_select)

    commit = commands.add_parser("commit", help="compute the lottery, write the commitment")
    _stage2_arguments(commit, draw=False)
    commit.add_argument("--record", required=True)
    commit.set_defaults(run=_commit)

    reveal = commands.add_parser("reveal", help="complete a record with the random value")
    reveal.add_argument("record")
    value = reveal.add_mutually_exclusive_group(required=True)
    value.add_argument("--random-value")
    value.add_argument(
        "--drand-beacon", help="JSON of the committed round's beacon, as the drand relays serve it"
    )
    reveal.add_argument("--out", help="default: overwrite RECORD")
    reveal.add_argument(
        "--require-signature",
        action="store_true",
        help="refuse a drand beacon whose BLS signature cannot be checked (py_ecc missing)",
    )
    reveal.set_defaults(run=_reveal)

    verify = commands.add_parser("verify", help="check an audit record from scratch")
    verify.add_argument("record")
    verify.add_argument("--features", help="the published quota file, to compare its hash")
    verify.add_argument("--people", help="the people file, to compare its hash")
    verify.add_argument("--id-column", default="id")
    verify.add_argument("--households")
    verify.add_argument(
        "--drand-beacon",
        help="JSON of the committed round's beacon, as the drand relays serve it: gives the "
        "previous_signature that records revealed before signatures were checked lack",
    )
    verify.add_argument(
        "--require-signature",
        action="store_true",
        help="fail (exit 1) when a drand beacon's BLS signature cannot be checked (py_ecc "
        "missing, or no previous_signature on a chained chain) instead of reporting it "
        "NOT CHECKED",
    )
    verify.set_defaults(run=_verify)

    replace = commands.add_parser(
        "replace", help="replace a withdrawn member by the first reserve who fits the quotas"
    )
    replace.add_argument("record", help="a revealed audit record")
    replace.add_argument("--withdrawn", required=True, help="id of the member who withdraws")
    replace.add_argument(
        "--allow-drift",
        action="store_true",
        help="when nobody fits, take the reserve breaking the fewest seats (recorded)",
    )
    replace.add_argument("--out", help="default: overwrite RECORD")
    replace.set_defaults(run=_replace)

    invite = commands.add_parser("invite", help="stage 1: draw the invitations")
    invite.add_argument("--register", required=True, help="CSV register (header row)")
    invite.add_argument("--count", type=int, required=True)
    invite.add_argument("--seed", type=int, required=True)
    invite.add_argument("--stratify", help="stratification column")
    invite.add_argument("--fixed", help="CSV 'stratum,count' lines (fixed allocation)")
    invite.add_argument("--households", help="household/address column(s), comma separated")
    invite.add_argument("--id-column", help="id column (needed by --exclude)")
    invite.add_argument("--exclude", help="file of ids to exclude, one per line")
    invite.add_argument("--out", required=True, help="CSV of the invited rows")
    invite.set_defaults(run=_invite)

    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except SortitionError as error:
        print(json.dumps(error.to_dict(), ensure_ascii=False), file=sys.stderr)
        return 2
    return status
