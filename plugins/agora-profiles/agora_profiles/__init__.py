"""The consultancy's starting points for a new commune, one TOML file per kind of assembly
in ``profiles/``: the same tables as a ``tenants/<commune>.toml`` file without ``[commune]``,
plus a ``[profile]`` table (title, description, position in the wizard's list).

Census shares are national figures (INSEE): the commune replaces them with its own, and
adds its neighbourhoods, once onboarded.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneProfile


def _load(name: str) -> tuple[int, CommuneProfile]:
    document: dict[str, Any] = tomllib.loads(
        files(__package__).joinpath("profiles", name).read_text(encoding="utf-8")
    )
    meta = document.pop("profile")
    profile = CommuneProfile(
        key=name.removesuffix(".toml"),
        title=meta["title"],
        description=meta["description"],
        document=document,
    )
    return meta["position"], profile


@hookimpl
def agora_commune_profiles() -> list[CommuneProfile]:
    found = [
        _load(entry.name)
        for entry in files(__package__).joinpath("profiles").iterdir()
        if entry.name.endswith(".toml")
    ]
    return [profile for _, profile in sorted(found, key=lambda pair: pair[0])]
