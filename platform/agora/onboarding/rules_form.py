"""Forms generated from a plugin's JSON Schema: the commune's rules in the browser.

A schema becomes a tree of :class:`Node` (objects → fieldsets, arrays of objects → repeated
fieldsets, enums → selects or checkboxes, scalars → inputs), each named by the JSON path the
configuration check reports errors with (``plugins.composition_seats.bodies[1].constraints[0]
.min``), so that every message lands next to its field. A posted form is read back into the
settings with the values as typed: a value that is not a number stays text, and the schema
check refuses it with a French message while the form shows it again.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from werkzeug.datastructures import MultiDict

from agora.onboarding.rules_labels import (
    ENUM_LABELS,
    FIELD_HINTS,
    FIELD_LABELS,
    ROW_LABELS,
    entry_label,
    pattern_message,
)

#: Texts longer than this are refused (names, labels, sources).
TEXT_MAX = 300
#: Whole numbers beyond this are refused (seats, signatures, days).
NUMBER_MAX = 1_000_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INTEGER = re.compile(r"^-?[0-9]{1,12}$")
_DECIMAL = re.compile(r"^-?[0-9]{1,12}(?:[.,][0-9]{1,12})?$")
_SEGMENT = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


class Unreadable(str):
    """A value typed where a number was expected, kept as typed (and refused)."""


@dataclass
class Node:
    """One field or group of fields of the form."""

    path: str
    kind: str  # object, rows, map, text, integer, number, boolean, choice, choices, lines
    label: str
    hint: str = ""
    required: bool = False
    value: Any = None  # as shown: a text, a list of chosen values, a bool
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    error: str | None = None
    removable: bool = False  # a row that may be removed
    can_add: bool = False  # rows: another may be added

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    def walk(self) -> list[Node]:
        return [self, *(n for child in self.children for n in child.walk())]


def split_path(path: str) -> list[str | int]:
    """``a.b[1].c`` → ``["a", "b", 1, "c"]``."""
    return [int(index) if index else name for name, index in _SEGMENT.findall(path)]


def join_path(parts: list[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _lookup(table: Mapping[str, Any], plugin: str, parent: str, key: str) -> Any:
    return table.get(f"{plugin}.{parent}.{key}") or table.get(f"{plugin}.{key}") or table.get(key)


def _label(plugin: str, parent: str, key: str) -> str:
    label = _lookup(FIELD_LABELS, plugin, parent, key)
    return str(label) if label else _("Setting")


def _hint(plugin: str, parent: str, key: str) -> str:
    hint = _lookup(FIELD_HINTS, plugin, parent, key)
    return str(hint) if hint else ""


def _options(plugin: str, key: str, values: list[Any]) -> list[tuple[str, str]]:
    table = ENUM_LABELS.get(f"{plugin}.{key}") or ENUM_LABELS.get(key) or {}
    return [
        (str(v), str(table[v]) if v in table else _("Option %(num)d", num=i + 1))
        for i, v in enumerate(values)
    ]


def _shown(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, Unreadable):
        return str(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(format_decimal(value, format="0.######"))
    return str(value)


def build(
    plugin: str, schema: Mapping[str, Any], value: Any, path: str, key: str, parent: str = ""
) -> Node:
    """The form's node for ``value`` (possibly missing: ``None``) under ``schema``."""
    kind = _kind(schema)
    label, hint = _label(plugin, parent, key), _hint(plugin, parent, key)
    node = Node(path=path, kind=kind, label=label, hint=hint)
    if kind == "object":
        required = set(schema.get("required", ()))
        current = value if isinstance(value, Mapping) else {}
        for name, sub in schema.get("properties", {}).items():
            child = build(plugin, sub, current.get(name), f"{path}.{name}", name, key)
            child.required = name in required
            node.children.append(child)
    elif kind == "map":
        current = value if isinstance(value, Mapping) else {}
        for name, item in current.items():
            child = build(
                plugin, schema["additionalProperties"], item, f"{path}.{name}", key, parent
            )
            child.label = entry_label(plugin, key, name)
            node.children.append(child)
    elif kind == "rows":
        rows = value if isinstance(value, list) else []
        minimum = int(schema.get("minItems", 0))
        for index, item in enumerate(rows):
            child = build(plugin, schema["items"], item, f"{path}[{index}]", key, parent)
            child.label = _row_label(plugin, key, index, item)
            child.removable = len(rows) > minimum
            node.children.append(child)
        node.can_add = True
    elif kind == "choices":
        node.options = _options(plugin, key, list(schema["items"]["enum"]))
        node.value = [str(v) for v in value] if isinstance(value, list) else []
    elif kind == "choice":
        node.options = _options(plugin, key, list(schema["enum"]))
        node.value = "" if value is None else str(value)
    elif kind == "boolean":
        node.value = bool(schema.get("default", False)) if value is None else value is True
    elif kind == "lines":
        node.value = "\n".join(str(v) for v in value) if isinstance(value, list) else ""
    else:
        node.value = _shown(value, kind)
    return node


def _row_label(plugin: str, key: str, index: int, item: Any) -> str:
    template = ROW_LABELS.get(f"{plugin}.{key}") or ROW_LABELS.get(key)
    label = str(template % {"num": index + 1}) if template else _("Row %(num)d", num=index + 1)
    name = item.get("name") or item.get("label") if isinstance(item, Mapping) else None
    if isinstance(name, str) and name.strip() and not isinstance(name, Unreadable):
        label += f" — {name.strip()}"
    return label


def _kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "choice"
    kind = schema.get("type")
    if kind == "object":
        return "map" if isinstance(schema.get("additionalProperties"), Mapping) else "object"
    if kind == "array":
        items = schema.get("items", {})
        if "enum" in items:
            return "choices"
        return "rows" if items.get("type") == "object" else "lines"
    if kind in ("integer", "number", "boolean"):
        return str(kind)
    return "text"


# --- reading a posted form ------------------------------------------------------------------

_MISSING = object()


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def read(
    plugin: str,
    schema: Mapping[str, Any],
    form: MultiDict[str, str],
    path: str,
    before: Any,
    refusals: dict[str, str],
) -> Any:
    """The value the form posts for ``path`` (``_MISSING`` when the person left it empty).

    ``before`` is the value in the version being changed: a boolean left at its default is
    not written when it was absent. Texts with control characters or too long are noted in
    ``refusals`` (path → message) and kept as typed.
    """
    kind = _kind(schema)
    if kind == "object":
        result: dict[str, Any] = {}
        old = before if isinstance(before, Mapping) else {}
        for name, sub in schema.get("properties", {}).items():
            value = read(plugin, sub, form, f"{path}.{name}", old.get(name), refusals)
            if value is not _MISSING:
                result[name] = value
        if not result and before is None:
            return _MISSING
        return result
    if kind == "map":
        old = before if isinstance(before, Mapping) else {}
        return {
            name: read(
                plugin, schema["additionalProperties"], form, f"{path}.{name}", item, refusals
            )
            for name, item in old.items()
        }
    if kind == "rows":
        indices = sorted(
            {
                int(match.group(1))
                for name in form
                if (match := re.match(re.escape(path) + r"\[(\d{1,4})\]", name))
            }
        )
        old_rows = before if isinstance(before, list) else []
        rows = []
        for index in indices:
            previous = old_rows[index] if index < len(old_rows) else None
            row = read(plugin, schema["items"], form, f"{path}[{index}]", previous, refusals)
            rows.append({} if row is _MISSING else row)
        if not rows and before is None:
            return _MISSING
        return rows
    if kind == "choices":
        chosen = [_clean(v) for v in form.getlist(path) if _clean(v)]
        allowed = [str(v) for v in schema["items"]["enum"]]
        picked = [v for v in allowed if v in chosen] + [v for v in chosen if v not in allowed]
        if not picked and before is None:
            return _MISSING
        return picked
    if kind == "boolean":
        ticked = form.get(path) == "yes"
        if before is None and ticked == bool(schema.get("default", False)):
            return _MISSING
        return ticked
    raw = form.get(path, "")
    multiline = kind == "lines"
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(raw):
        refusals[path] = _("This text contains a character that is not allowed.")
        return Unreadable(raw)
    text = _clean(raw)
    if len(text) > TEXT_MAX * (20 if multiline else 1):
        refusals[path] = _("Enter at most %(max)d characters.", max=TEXT_MAX)
        return Unreadable(text[: TEXT_MAX * 20])
    if kind == "lines":
        lines = [_clean(line) for line in text.splitlines() if _clean(line)]
        return lines if lines or before is not None else _MISSING
    if not text:
        # A required text stays (empty): "required" and "too short" say the same.
        return "" if kind == "text" and schema.get("minLength") else _MISSING
    if kind == "integer":
        if not _INTEGER.match(text):
            return Unreadable(text)
        number = int(text)
        if abs(number) > NUMBER_MAX:
            refusals[path] = _("Enter a number no greater than %(max)s.", max=_number(NUMBER_MAX))
        return number
    if kind == "number":
        if not _DECIMAL.match(text):
            return Unreadable(text)
        decimal = float(text.replace(",", "."))
        return (
            int(decimal)
            if decimal.is_integer() and "." not in text and "," not in text
            else decimal
        )
    if kind == "choice":
        return text
    return text


def _number(value: int) -> str:
    return str(format_decimal(value))


def read_settings(
    plugin: str,
    schema: Mapping[str, Any],
    form: MultiDict[str, str],
    before: Any,
    refusals: dict[str, str],
) -> dict[str, Any]:
    value = read(plugin, schema, form, f"plugins.{plugin}", before, refusals)
    return {} if value is _MISSING else dict(value)


# --- adding and removing rows -------------------------------------------------------------


def add_row(document: dict[str, Any], path: str) -> bool:
    """Append an empty row to the list at ``path``; ``False`` when there is no such list."""
    container, last = _locate(document, path)
    if container is None:
        return False
    if isinstance(container, dict) and last not in container:
        container[last] = []
    target = container[last] if isinstance(container, dict) else None
    if not isinstance(target, list):
        return False
    target.append({})
    return True


def remove_row(document: dict[str, Any], path: str) -> bool:
    """Remove the row at ``path`` (``…bodies[2]``); ``False`` when there is none."""
    parts = split_path(path)
    if not parts or not isinstance(parts[-1], int):
        return False
    container, _last = _locate(document, join_path(parts[:-1]))
    if not isinstance(container, dict):
        return False
    rows = container.get(str(parts[-2]))
    if not isinstance(rows, list) or not 0 <= parts[-1] < len(rows):
        return False
    del rows[parts[-1]]
    return True


def _locate(document: dict[str, Any], path: str) -> tuple[Any, Any]:
    parts = split_path(path)
    if len(parts) < 3 or parts[0] != "plugins":
        return None, None
    here: Any = document
    for part in parts[:-1]:
        if isinstance(part, int):
            here = here[part] if isinstance(here, list) and 0 <= part < len(here) else None
        else:
            here = here.get(part) if isinstance(here, dict) else None
        if here is None:
            return None, None
    return (
        (here, parts[-1]) if isinstance(here, dict) and isinstance(parts[-1], str) else (None, None)
    )


# --- errors in French, next to their field ----------------------------------------------------


def schema_errors(plugin: str, schema: Mapping[str, Any], settings: Any) -> dict[str, str]:
    """Each fault of ``settings`` against ``schema``, in French, by the path of its field."""
    errors: dict[str, str] = {}
    validator = Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(settings), key=lambda e: list(map(str, e.path))):
        for path, message in _french(plugin, error):
            errors.setdefault(path, message)
    return errors


def _french(plugin: str, error: ValidationError) -> list[tuple[str, str]]:
    base = join_path(["plugins", plugin, *error.absolute_path])
    kind, expected = error.validator, cast(Any, error.validator_value)
    instance = cast(Any, error.instance)
    if kind == "required":
        missing = [name for name in expected if name not in (instance or {})]
        return [(f"{base}.{name}", _("This field is required.")) for name in missing]
    if isinstance(instance, Unreadable) or kind == "type":
        expected_type = expected if kind == "type" else cast(Any, error.schema).get("type")
        if expected_type == "integer":
            return [(base, _("Enter a whole number, in figures."))]
        if expected_type == "number":
            return [(base, _("Enter a number, in figures (0,53 for instance)."))]
        return [(base, _("This value is not accepted."))]
    if kind == "minimum":
        return [(base, _("Enter a number of at least %(min)s.", min=_number(expected)))]
    if kind == "maximum":
        return [(base, _("Enter a number of at most %(max)s.", max=_number(expected)))]
    if kind == "enum":
        return [(base, _("Choose one of the options offered."))]
    if kind == "pattern":
        return [(base, str(pattern_message(expected)))]
    if kind == "minLength":
        return [(base, _("This field is required."))]
    if kind == "maxLength":
        return [(base, _("Enter at most %(max)d characters.", max=expected))]
    if kind == "minItems":
        return [
            (
                base,
                ngettext(
                    "Give at least %(num)d entry.", "Give at least %(num)d entries.", expected
                ),
            )
        ]
    if kind == "uniqueItems":
        return [(base, _("Each value may be given only once."))]
    if kind == "minProperties":
        return [(base, _("Give at least one rule."))]
    return [(base, _("This value is not accepted."))]


def attach(tree: list[Node], errors: Mapping[str, str]) -> list[str]:
    """Put each error on its field; return those no field shows (shown above the form)."""
    by_path = {node.path: node for root in tree for node in root.walk()}
    orphans = []
    for path, message in errors.items():
        target = path
        while target and target not in by_path:
            parts = split_path(target)
            target = join_path(parts[:-1]) if len(parts) > 1 else ""
        node = by_path.get(target)
        if node is None:
            orphans.append(message)
        elif node.error is None:
            node.error = message
    return orphans


def flatten(node: Node, trail: tuple[str, ...] = ()) -> list[tuple[str, tuple[str, ...], str]]:
    """The leaves of a tree as ``(path, labels from the top, value as read)``: the field by
    field comparison of two versions."""
    here = (*trail, node.label)
    if node.children:
        return [leaf for child in node.children for leaf in flatten(child, here)]
    if node.kind in ("object", "rows", "map"):
        return []
    if node.kind == "choices":
        shown = ", ".join(label for value, label in node.options if value in node.value)
    elif node.kind == "choice":
        shown = next((label for value, label in node.options if value == node.value), "")
    elif node.kind == "boolean":
        shown = _("yes") if node.value else _("no")
    else:
        shown = str(node.value)
    return [(node.path, here, shown)]


def deep_copy(document: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(document))
