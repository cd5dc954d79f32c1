"""A commune's configuration: the ``tenants/<commune>.toml`` file, parsed and validated.

Validation is complete before anything is written: the file's own fields, the plugins it
names, each plugin's settings against that plugin's schema, one provider for every
one-provider hook and at most one for every optional one. Every error names the file and the
field.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from agora.plugins.manager import PluginRegistry
from agora.tenancy.models import TenantKind, TenantStatus

SUBJECT_SUBMITTERS = ("anyone", "residents", "members")

#: Sub-domains that can never be a commune: they serve the platform itself.
RESERVED_SLUGS = frozenset({"www", "auth", "api", "admin", "static", "console", "mail"})

DEFAULT_INACTIVE_RESIDENT_MONTHS = 24

#: The least contrast a commune's colour must have against the white text written on it
#: (WCAG 2.1, 1.4.3, level AA).
MINIMUM_THEME_CONTRAST = 4.5

#: A commune's sub-domain, the ``slug`` its site is served on.
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
#: The INSEE code of a commune (in Corsica 2A or 2B then three digits) or the SIREN of an EPCI.
INSEE_CODE_PATTERN = r"^(?:[0-9]{5}|2[AB][0-9]{3}|[0-9]{9})$"

HOSTNAME_PATTERN = r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"

FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["commune", "assembly", "plugins"],
    "additionalProperties": False,
    "properties": {
        "commune": {
            "type": "object",
            "required": ["slug", "name", "insee_code", "kind", "population", "status"],
            "additionalProperties": False,
            "properties": {
                "slug": {"type": "string", "pattern": SLUG_PATTERN},
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "insee_code": {"type": "string", "pattern": INSEE_CODE_PATTERN},
                "kind": {"enum": [kind.value for kind in TenantKind]},
                "population": {"type": "integer", "minimum": 0},
                "status": {"enum": [status.value for status in TenantStatus]},
                "locale": {"enum": ["fr", "en"]},
                "domains": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"type": "string", "pattern": HOSTNAME_PATTERN},
                },
                # The commune's colour (header, buttons), under white text: checked for a
                # contrast of at least 4.5:1 (WCAG AA) below.
                "theme_colour": {"type": "string", "pattern": r"^#[0-9a-fA-F]{6}$"},
                # The commune's logo, served by this site (the Content-Security-Policy
                # allows images from the site itself only): a path such as
                # "/static/communes/<slug>.svg".
                "logo_url": {"type": "string", "pattern": r"^/(?!/)[^\s\"'<>]{1,300}$"},
                # A notice every page of the commune's site shows (why it is suspended…).
                "notice": {"type": "string", "minLength": 1, "maxLength": 500},
            },
        },
        "assembly": {
            "type": "object",
            "required": ["name", "subjects_per_year", "working_days"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "subjects_per_year": {"type": "integer", "minimum": 1},
                "working_days": {"type": "integer", "minimum": 1},
                # Who may submit a subject to the call: anyone (no account needed),
                # residents (signed in), or members of the assembly's bodies.
                "subject_submitters": {"enum": list(SUBJECT_SUBMITTERS)},
            },
        },
        "draws": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                # Who may be drawn: people at least this old on the day of the draw (a
                # draw pins the value when it is designed).
                "minimum_age": {"type": "integer", "minimum": 0, "maximum": 120},
                # The people the draws of this many previous editions seated may not be
                # drawn again (0 when absent).
                "exclude_members_of_last_editions": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 20,
                },
                # The personal data of the people not selected is deleted this many
                # months after the draw closes (6 when absent).
                "retention_months": {"type": "integer", "minimum": 1, "maximum": 120},
            },
        },
        "privacy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                # Residents not seen for this long lose their role (GDPR minimisation).
                "inactive_resident_months": {"type": "integer", "minimum": 1, "maximum": 120},
            },
        },
        "plugins": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "object"},
        },
    },
}


@dataclass(frozen=True)
class FieldError:
    """One problem in a configuration file, located by a dotted path."""

    path: str
    message: str

    def format(self, source: str) -> str:
        return f"{source}: {self.path or '(file)'}: {self.message}"


class TenantConfigError(ValueError):
    """The configuration was refused; nothing was written."""

    def __init__(self, source: str, errors: Iterable[FieldError]) -> None:
        self.source = source
        self.errors = list(errors)
        super().__init__("\n".join(error.format(source) for error in self.errors))


@dataclass(frozen=True)
class TenantConfig:
    """A validated commune configuration, handed to plugins as the ``tenant`` argument."""

    document: Mapping[str, Any]

    @property
    def slug(self) -> str:
        return str(self.document["commune"]["slug"])

    @property
    def name(self) -> str:
        return str(self.document["commune"]["name"])

    @property
    def commune(self) -> Mapping[str, Any]:
        return self.document["commune"]  # type: ignore[no-any-return]

    @property
    def assembly(self) -> Mapping[str, Any]:
        return self.document["assembly"]  # type: ignore[no-any-return]

    @property
    def draws(self) -> Mapping[str, Any]:
        """The ``[draws]`` table: eligibility rules draws start with (empty when absent)."""
        return self.document.get("draws") or {}

    @property
    def theme_colour(self) -> str | None:
        """The commune's colour (``#rrggbb``), or ``None`` for Agora's own."""
        colour = self.commune.get("theme_colour")
        return str(colour).lower() if colour else None

    @property
    def notice(self) -> str | None:
        value: str | None = self.commune.get("notice")
        return value

    @property
    def logo_url(self) -> str | None:
        """The path of the commune's logo on this site, or ``None``."""
        logo = self.commune.get("logo_url")
        return str(logo) if logo else None

    @property
    def subject_submitters(self) -> str:
        return str(self.assembly.get("subject_submitters", "residents"))

    @property
    def plugins(self) -> Mapping[str, Mapping[str, Any]]:
        return self.document["plugins"]  # type: ignore[no-any-return]

    def plugin_settings(self, plugin: str) -> Mapping[str, Any]:
        """Settings of an enabled plugin (an empty mapping when it has none)."""
        return self.plugins.get(plugin, {})

    @property
    def digest(self) -> str:
        return document_digest(self.document)

    def to_toml(self) -> str:
        return tomli_w.dumps(dict(self.document))


def document_digest(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _schema_errors(
    instance: Any, schema: Mapping[str, Any], prefix: Iterable[str | int] = ()
) -> list[FieldError]:
    validator = Draft202012Validator(schema)
    errors: list[ValidationError] = sorted(
        validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]
    )
    return [
        FieldError(_json_path([*prefix, *error.absolute_path]), error.message) for error in errors
    ]


def _relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a ``#rrggbb`` colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_with_white(colour: str) -> float:
    """The contrast ratio of white text on ``colour`` (``#rrggbb``), from 1 to 21."""
    return 1.05 / (_relative_luminance(colour) + 0.05)


def validate_document(
    document: Mapping[str, Any], registry: PluginRegistry, source: str
) -> TenantConfig:
    """Check ``document`` completely; raise :class:`TenantConfigError` listing every fault."""
    errors = _schema_errors(document, FILE_SCHEMA)
    if errors:
        raise TenantConfigError(source, errors)

    slug = document["commune"]["slug"]
    if slug in RESERVED_SLUGS:
        errors.append(FieldError("commune.slug", f"{slug!r} is reserved for the platform"))
    colour = document["commune"].get("theme_colour")
    if colour is not None and contrast_with_white(colour) < MINIMUM_THEME_CONTRAST:
        errors.append(
            FieldError(
                "commune.theme_colour",
                f"{colour} gives white text a contrast of {contrast_with_white(colour):.2f}:1;"
                f" at least {MINIMUM_THEME_CONTRAST}:1 is required (choose a darker colour)",
            )
        )

    plugins: Mapping[str, Any] = document["plugins"]
    for name, settings in plugins.items():
        if name not in registry:
            installed = ", ".join(registry.names()) or "none"
            errors.append(
                FieldError(f"plugins.{name}", f"unknown plugin {name!r} (installed: {installed})")
            )
            continue
        schema_errors = _schema_errors(settings, registry.settings_schema(name), ["plugins", name])
        errors.extend(schema_errors)
        if not schema_errors:
            errors.extend(
                FieldError(f"plugins.{name}.{path}" if path else f"plugins.{name}", message)
                for path, message in registry.check_settings(name, dict(settings))
            )

    known = [name for name in plugins if name in registry]
    for hook in (*registry.single_provider_hooks, *registry.optional_single_provider_hooks):
        providers = registry.providers(hook, known)
        if len(providers) > 1:
            detail = f"{' and '.join(providers)} all provide it; enable only one"
        elif not providers and hook in registry.single_provider_hooks:
            candidates = registry.providers(hook, registry.names())
            detail = f"no enabled plugin provides it; enable one of: {', '.join(candidates)}"
        else:
            continue
        errors.append(FieldError("plugins", f"{hook}: {detail}"))

    if errors:
        raise TenantConfigError(source, errors)
    config = TenantConfig(document)
    # Two sources with one name (the same plugin enabled twice under its default name…).
    names: dict[str, str] = {}
    for plugin in registry.providers("agora_draw_source", known):
        for draw_source in registry.call_own("agora_draw_source", plugin, [], tenant=config):
            if draw_source.name in names:
                errors.append(
                    FieldError(
                        f"plugins.{plugin}",
                        f"the draw source {draw_source.name!r} is also provided by "
                        f"{names[draw_source.name]}; give one of them another 'source' name",
                    )
                )
            names.setdefault(draw_source.name, plugin)
    if errors:
        raise TenantConfigError(source, errors)
    return config


def load_file(path: Path, registry: PluginRegistry) -> TenantConfig:
    """Read and validate one ``tenants/*.toml`` file (UTF-8, with or without the byte-order
    mark a Windows editor writes)."""
    source = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise TenantConfigError(
            source, [FieldError("", f"cannot read file: {error.strerror}")]
        ) from error
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        message = f"line {line}: not UTF-8 text (save the file as UTF-8)"
        raise TenantConfigError(source, [FieldError("", message)]) from error
    except tomllib.TOMLDecodeError as error:
        raise TenantConfigError(source, [FieldError("", f"invalid TOML: {error}")]) from error
    return validate_document(document, registry, source)
