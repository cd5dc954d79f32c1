"""Command line: ``python -m agora_sortition select|commit|reveal|verify|replace|invite`` (also
installed as ``agora-sortition``; ``python -m agora.sortition`` runs it where the platform is).

``verify`` imports only standard-library modules of this package, so it runs where neither the
web application nor NumPy nor the solver is installed; a drand beacon's BLS signature is checked
with ``py_ecc`` (a dependency of the project). Where it is missing, or a record on the chained
``default`` chain holds no ``previous_signature`` (revealed before signatures were checked;
``--drand-beacon`` gives the round's beacon instead), ``verify`` prints ``NOT CHECKED`` for the
signature and still exits 0, unless ``--require-signature``. ``verify`` prints the record's
commitment first; ``--commitment SHA``, the value published before the draw, refuses (exit 1) a
record whose commitment differs, such as one rebuilt whole with another lottery.

Messages are for people: in French, or English with ``--lang en`` (before or after the command;
default: ``AGORA_LANG``, else French; see ``messages``). ``select`` ends with a summary (panel
size, exact minimum probability and the lottery's, the rounding's largest change against its
tolerance, time); ``commit`` prints the commitment alone on stdout (the value to publish) and its
report on stderr. Input files are read by ``tables`` (encoding and separator sniffed); a file
that cannot be read, or an output folder that does not exist, is said with the file, the line
and the probable cause, never a traceback. Errors go to stderr with exit status 2, as a sentence,
or with ``--json-errors`` as one JSON line ``{"code", "key", "message", "params"}`` (English
``message``) for tools; a failed verification exits with 1. ``--json`` output files keep their
format (``select``'s ``lottery`` gains ``exact_min_probability``, ``tolerance`` and
``within_tolerance``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MalformedInput, SortitionError, VerificationFailed
from .messages import check_name, language, number, render, report
from .pool import Pool, QuotaSet, read_pool, read_quotas
from .rounding import AUTO, SIZES, TOLERANCE

if TYPE_CHECKING:
    from .lottery import Lottery


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip()) if text else ()


def _check_output(*paths: str | None) -> None:
    """Refuse, before any work, an output file whose folder does not exist."""
    for path in paths:
        if path:
            folder = Path(path).parent
            if not folder.is_dir():
                raise MalformedInput(
                    f"the folder {folder} does not exist: create it or choose another path",
                    key="output_folder_missing",
                    file=path,
                    folder=str(folder),
                )


def _write_json(path: str, data: Any) -> None:
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise MalformedInput(
            f"cannot write the file: {reason}", key="output_unwritable", file=path, reason=reason
        ) from None


def _read_json(path: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MalformedInput("file not found", key="file_not_found", file=path) from None
    except (OSError, ValueError) as error:
        reason = str(error)
        raise MalformedInput(
            f"not readable JSON: {reason}", key="record_unreadable", file=path, reason=reason
        ) from None
    return data


def _inputs(args: argparse.Namespace) -> tuple[Pool, QuotaSet]:
    quotas = read_quotas(args.features)
    pool = read_pool(
        args.people,
        quotas,
        id_column=args.id_column or None,
        household_columns=_columns(args.households),
    )
    return pool, quotas


def _record(
    args: argparse.Namespace,
    pool: Pool,
    quotas: QuotaSet,
    lottery: Lottery,
    random_value: str | None,
) -> dict[str, Any]:
    """The audit record of ``lottery`` (already computed: the problem is solved once)."""
    from .audit import commit, reveal

    record = commit(
        pool,
        quotas,
        panel_size=args.panel_size,
        households=bool(args.households),
        algorithm=args.algorithm,
        lottery=lottery.panels,
        probabilities=lottery.exact,
        max_deviation=lottery.max_deviation,
        tolerance=lottery.tolerance,
        random_source=args.random_source,
        drand=(args.drand_chain, args.drand_round) if args.drand_round is not None else None,
    )
    return reveal(record, random_value) if random_value else record


def _lottery_lines(lottery: Lottery, lang: str, *, chosen: bool) -> list[str]:
    """The exact and the rounded minimum, and the rounding against its tolerance (``chosen``:
    the size was chosen for it, not given)."""
    missed = "beyond" if chosen else "beyond_given"
    return [
        report("minimum_exact", lang, exact=number(lottery.exact_min_probability, lang)),
        report(
            "minimum_rounded",
            lang,
            size=lottery.size,
            rounded=number(lottery.min_probability, lang),
            deviation=number(lottery.max_deviation, lang),
            tolerance=number(lottery.tolerance, lang),
            verdict=report("within" if lottery.within_tolerance else missed, lang),
        ),
    ]


def _select(args: argparse.Namespace) -> int:
    _check_output(args.json, args.record)
    if args.record and args.algorithm == "legacy":
        raise MalformedInput(
            "--record needs a lottery: use leximin or maximin", key="lottery_needs_solver"
        )
    pool, quotas = _inputs(args)  # before loading the solver: a bad file is said at once
    from .engine import select

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
    data = selection.to_json()
    lottery = selection.lottery
    if lottery is not None:
        data["lottery"] |= {
            "exact_min_probability": lottery.exact_min_probability,
            "tolerance": lottery.tolerance,
            "within_tolerance": lottery.within_tolerance,
        }
    _write_json(args.json, data)
    written = [args.json]
    if args.record and lottery is not None:
        _write_json(args.record, _record(args, pool, quotas, lottery, selection.random_value))
        written.append(args.record)
    lang = args.lang
    seconds = number(selection.seconds, lang, 1)
    lines = [
        report(
            "selected",
            lang,
            k=len(selection.panel),
            n=len(pool),
            algorithm=selection.algorithm,
            seconds=seconds,
        )
    ]
    if lottery is not None:
        lines += _lottery_lines(lottery, lang, chosen=args.lottery_size == AUTO)
        lines.append(
            report("panel_index", lang, index=selection.panel_index, value=selection.random_value)
        )
    else:
        runs = selection.stats.get("legacy_runs")
        estimate = number(selection.min_probability, lang)
        lines.append(report("legacy_minimum", lang, estimate=estimate, runs=runs))
    lines.append(report("written", lang, files=", ".join(written)))
    print("\n".join(lines))
    return 0


def _commit(args: argparse.Namespace) -> int:
    _check_output(args.record)
    pool, quotas = _inputs(args)
    from .engine import build_lottery
    from .instance import compile_instance

    instance = compile_instance(pool, quotas, args.panel_size, households=bool(args.households))
    _, lottery = build_lottery(instance, args.algorithm, args.lottery_size, seed=args.seed or 0)
    record = _record(args, pool, quotas, lottery, None)
    _write_json(args.record, record)
    for line in _lottery_lines(lottery, args.lang, chosen=args.lottery_size == AUTO):
        print(line, file=sys.stderr)
    print(report("committed", args.lang, record=args.record), file=sys.stderr)
    print(record["commitment_sha256"])  # alone on stdout: the value to publish
    return 0


def _reveal(args: argparse.Namespace) -> int:
    from .audit import reveal

    _check_output(args.out)
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
            print(report("signature_checked", args.lang, how=bls_backend()))
        except SignatureNotChecked as why:
            print(f"NOT CHECKED: the drand beacon's BLS signature: {why}", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .audit import NOT_CHECKED, verify

    lang = args.lang
    record = _read_json(args.record)
    recorded = record.get("commitment_sha256")
    print(report("record_commitment", lang, sha=recorded))
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
            commitment=args.commitment,
        )
    except VerificationFailed as failure:
        print(report("failed", lang, reason=render(failure, lang)), file=sys.stderr)
        return 1
    print(report("published_matches" if args.commitment else "published_unknown", lang))
    for check in passed:
        if check.startswith(NOT_CHECKED):
            print(check)
        else:
            print(report("ok", lang, check=check_name(check, lang)))
    if not record.get("reveal"):
        print(report("verified_commitment_only", lang))
    elif any(check.startswith(NOT_CHECKED) for check in passed):
        print(report("verified_except", lang))
    else:
        print(report("verified", lang))
    return 0


def _replace(args: argparse.Namespace) -> int:
    from .audit import current_panel, replace

    _check_output(args.out)
    record = replace(_read_json(args.record), args.withdrawn, allow_drift=args.allow_drift)
    _write_json(args.out or args.record, record)
    entry = record["replacements"][-1]
    print(json.dumps({**entry, "panel": current_panel(record)}, ensure_ascii=False))
    return 0


def _fixed(path: str) -> dict[str, int]:
    """The ``stratum,count`` lines of a fixed allocation (separator and encoding sniffed)."""
    from .tables import read_table, sniff

    fixed: dict[str, int] = {}
    with read_table(path, sniff(path)) as rows:
        # the first line is a header unless its last cell is a number
        for line, cells in [(1, rows.header), *rows]:
            if len(cells) < 2:
                raise MalformedInput(
                    f"expected a 'stratum,count' line, found {cells!r}",
                    key="fixed_line",
                    file=path,
                    line=line,
                    text=str(rows.format.delimiter).join(cells),
                )
            try:
                fixed[rows.format.delimiter.join(cells[:-1]).strip()] = int(cells[-1])
            except ValueError:
                if line == 1:
                    continue
                raise MalformedInput(
                    f"expected a 'stratum,count' line, found {cells!r}",
                    key="fixed_line",
                    file=path,
                    line=line,
                    text=str(rows.format.delimiter).join(cells),
                ) from None
    return fixed


def _excluded(path: str) -> frozenset[str]:
    """One id a line (encoding sniffed)."""
    from .tables import decoded_lines, open_bytes, sniff

    table = sniff(path)
    with open_bytes(path) as raw:
        return frozenset(line.strip() for line in decoded_lines(raw, table, path) if line.strip())


def _invite(args: argparse.Namespace) -> int:
    from .tables import sniff

    _check_output(args.out, args.json)
    fixed = _fixed(args.fixed) if args.fixed else None
    exclude = _excluded(args.exclude) if args.exclude else frozenset()
    sniff(args.register)  # a file that is not text is said before NumPy loads
    from .invitations import draw_invitations, write_invitations

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
    if args.json:
        _write_json(args.json, {"invited": len(invitations.rows), "strata": invitations.strata})
    count = len(invitations.strata)
    print(report("invited", args.lang, invited=len(invitations.rows), strata=count, out=args.out))
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
    parser.add_argument(
        "--lottery-size",
        type=int,
        default=AUTO,
        help=f"number of equally likely panels; default: the first of {', '.join(map(str, SIZES))} "
        f"moving no probability by more than {TOLERANCE} (the report shows the change)",
    )
    parser.add_argument(
        "--random-source",
        default="unspecified",
        help="the public random value the draw will use, e.g. 'drand quicknet round 5000000'",
    )
    parser.add_argument("--drand-round", type=int, help="commit to this future drand round")
    parser.add_argument("--drand-chain", default="quicknet", help="quicknet (default) or default")


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run one command; ``prog`` names it in usage lines (default: the script, agora-sortition)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lang",
        choices=("fr", "en"),
        default=argparse.SUPPRESS,
        help="language of the messages (default: $AGORA_LANG, else fr)",
    )
    common.add_argument(
        "--json-errors",
        action="store_true",
        default=argparse.SUPPRESS,
        help='errors as one JSON line on stderr, {"code", "key", "message", "params"}, for tools',
    )
    parser = argparse.ArgumentParser(prog=prog, parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)

    select = commands.add_parser(
        "select", parents=[common], help="stage 2: select a panel from the volunteers"
    )
    _stage2_arguments(select, draw=True)
    select.add_argument("--random-value", help="public random value choosing the panel")
    select.add_argument("--legacy-runs", type=int, default=1000, help="Monte-Carlo runs")
    select.add_argument("--json", required=True, help="output file")
    select.add_argument("--record", help="also write the audit record here")
    select.set_defaults(run=_select)

    commit = commands.add_parser(
        "commit", parents=[common], help="compute the lottery, write the commitment"
    )
    _stage2_arguments(commit, draw=False)
    commit.add_argument("--record", required=True)
    commit.set_defaults(run=_commit)

    reveal = commands.add_parser(
        "reveal", parents=[common], help="complete a record with the random value"
    )
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

    verify = commands.add_parser(
        "verify", parents=[common], help="check an audit record from scratch"
    )
    verify.add_argument("record")
    verify.add_argument(
        "--commitment",
        metavar="SHA256",
        help="the commitment published before the draw: a record whose commitment differs is "
        "refused (exit 1)",
    )
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
        "replace",
        parents=[common],
        help="replace a withdrawn member by the first reserve who fits the quotas",
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

    invite = commands.add_parser("invite", parents=[common], help="stage 1: draw the invitations")
    invite.add_argument("--register", required=True, help="CSV register (header row)")
    invite.add_argument("--count", type=int, required=True)
    invite.add_argument("--seed", type=int, required=True)
    invite.add_argument("--stratify", help="stratification column")
    invite.add_argument("--fixed", help="CSV 'stratum,count' lines (fixed allocation)")
    invite.add_argument("--households", help="household/address column(s), comma separated")
    invite.add_argument("--id-column", help="id column (needed by --exclude)")
    invite.add_argument("--exclude", help="file of ids to exclude, one per line")
    invite.add_argument("--out", required=True, help="CSV of the invited rows")
    invite.add_argument("--json", help="also write the summary {invited, strata} here")
    invite.set_defaults(run=_invite)

    args = parser.parse_args(argv)
    args.lang = language(getattr(args, "lang", None))
    try:
        status: int = args.run(args)
    except SortitionError as error:
        if getattr(args, "json_errors", False):
            print(json.dumps(error.to_dict(), ensure_ascii=False), file=sys.stderr)
        else:
            print(render(error, args.lang), file=sys.stderr)
        return 2
    return status
