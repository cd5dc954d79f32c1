"""``agora.sortition``: the platform's name for the engine, which is its own distribution.

The engine lives in ``sortition/`` (package ``agora_sortition``); ``agora.sortition`` re-exports
its public API and runs its command line, so that ``python -m agora.sortition …`` works as before.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import agora_sortition
from agora import sortition
from agora_sortition import Pool, Quota, QuotaSet, write_pool, write_quotas

ROOT = Path(__file__).resolve().parents[1]
# The engine's submodules the platform may import; the rest are its own business.
PUBLIC_SUBMODULES = {
    *("audit", "cli", "invitations", "pool", "randomness"),
    *("tables", "messages", "rounding"),  # the file reader, French/English, lottery sizes
}


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={"PYTHONPATH": "platform", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_shim_is_the_engine_s_public_api() -> None:
    assert sortition.__all__ == agora_sortition.__all__
    for name in agora_sortition.__all__:
        assert getattr(sortition, name) is getattr(agora_sortition, name), name


def test_importing_the_shim_loads_neither_numpy_nor_the_solver() -> None:
    code = (
        "import sys, agora.sortition\n"
        "loaded = {'numpy', 'highspy', 'flask'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr


def test_python_m_agora_sortition_still_selects_and_verifies(tmp_path: Path) -> None:
    help_ = _run("-m", "agora.sortition", "--help")
    assert help_.returncode == 0, help_.stderr
    assert help_.stdout.startswith("usage: python -m agora.sortition ")
    assert "verify" in help_.stdout
    rows = [(g, a) for g in ("f", "m") for a in ("young", "old", "old")] * 2
    pool = Pool(tuple(f"p{i}" for i in range(len(rows))), ("g", "a"), tuple(rows), None)
    bounds = {("g", "f"): (2, 2), ("g", "m"): (2, 2), ("a", "young"): (1, 2), ("a", "old"): (2, 3)}
    quotas = QuotaSet(tuple(Quota(f, v, lo, hi) for (f, v), (lo, hi) in bounds.items()))
    write_pool(tmp_path / "people.csv", pool)
    write_quotas(tmp_path / "features.csv", quotas)
    record = tmp_path / "record.json"
    select = _run(
        *("-m", "agora.sortition", "select", "--features", str(tmp_path / "features.csv")),
        *("--people", str(tmp_path / "people.csv"), "--panel-size", "4"),
        *("--random-value", "0123456789abcdef", "--lottery-size", "30"),
        *("--json", str(tmp_path / "out.json"), "--record", str(record)),
    )
    assert select.returncode == 0, select.stderr
    verified = _run("-m", "agora.sortition", "verify", str(record))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.rstrip().endswith("vérifié")  # French unless --lang en
    data: dict[str, Any] = json.loads(record.read_text())
    data["panel"][0] = data["reserve"][0]
    record.write_text(json.dumps(data))
    tampered = _run("-m", "agora.sortition", "verify", str(record), "--lang", "en")
    assert tampered.returncode == 1
    assert "FAILED" in tampered.stderr


def test_the_platform_uses_the_engine_through_its_public_api_only() -> None:
    offenders = []
    sources = [*(ROOT / "platform").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported = [(alias.name, "") for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported = [(node.module, alias.name) for alias in node.names]
            else:
                continue
            for module, name in imported:
                top, _, sub = module.partition(".")
                if module.startswith("agora.sortition."):
                    offenders.append(f"{path.relative_to(ROOT)} imports {module}")
                elif top == "agora_sortition" and (
                    (sub and sub not in PUBLIC_SUBMODULES)
                    or (name.startswith("_") and not name.startswith("__"))
                ):
                    offenders.append(f"{path.relative_to(ROOT)} imports {module} {name}")
    assert not offenders, offenders
