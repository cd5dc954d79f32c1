"""The commune's rules in the browser: the form, its preview, publishing (commune
administrator only; ``identity.policy``: ``rules.edit``)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.errors import DomainError
from agora.extensions import db
from agora.identity.acting import who
from agora.onboarding import rules_editor
from agora.onboarding.rules_form import Node, add_row, attach, remove_row
from agora.plugins.manager import get_registry
from agora.shared.forms import notify
from agora.tenancy.context import current_tenant
from agora.tenancy.models import TenantConfigVersion
from agora.tenancy.services import awaiting_charter, newest_config

bp = Blueprint("rules_editor", __name__, url_prefix="/admin/rules", template_folder="templates")

#: The largest proposal the preview's form sends back (the settings as JSON).
PROPOSAL_MAX = 200_000


class RulesForm:
    """The generated form as the design system's macros read a form: its errors for the
    summary (each linked to its field), its CSRF token."""

    carries_token = True

    def __init__(self, tree: list[Node], form_errors: list[str] | None = None) -> None:
        self.tree = tree
        self.form_errors = list(form_errors or [])

    def __bool__(self) -> bool:
        return True

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(n.error for root in self.tree for n in root.walk())

    def error_list(self) -> list[dict[str, str]]:
        """Each message with the field it is about (in a long form, "enter a whole number"
        alone would not say where): the group, the row, the field."""
        entries = [{"text": message} for message in self.form_errors]

        def walk(node: Node, trail: tuple[str, ...]) -> None:
            here = (*trail, node.label)
            if node.error:
                where = " › ".join(here[-3:] if len(here) > 3 else here[1:] or here)
                text = _("%(field)s: %(message)s", field=where, message=node.error)
                entries.append({"text": text, "href": f"#{node.id}"})
            for child in node.children:
                walk(child, here)

        for root in self.tree:
            walk(root, ())
        return entries


def _newest() -> TenantConfigVersion:
    version = newest_config(db.session, current_tenant())
    if version is None:
        abort(404)
    return version


def _page(form: RulesForm, base: TenantConfigVersion, status: int = 200) -> tuple[str, int]:
    tenant = current_tenant()
    return render_template(
        "rules/edit.html",
        tenant=tenant,
        form=form,
        base=base,
        waiting=awaiting_charter(db.session, tenant),
    ), status


@bp.get("")
def edit() -> tuple[str, int]:
    base = _newest()
    return _page(RulesForm(rules_editor.form_tree(base.document, get_registry())), base)


@bp.post("")
def submit() -> tuple[str, int]:
    """Add or remove a row (the same form again), or check and preview the change."""
    base, registry = _newest(), get_registry()
    document, refusals = rules_editor.read_form(base.document, request.form, registry)
    action = request.form.get("action", "preview")
    if action.startswith(("add:", "remove:")):
        kind, _sep, path = action.partition(":")
        changed = add_row(document, path) if kind == "add" else remove_row(document, path)
        if not changed:
            abort(400)
        return _page(RulesForm(rules_editor.form_tree(document, registry)), base)
    errors = rules_editor.problems(document, registry, refusals)
    if errors:
        tree = rules_editor.form_tree(document, registry)
        return _page(RulesForm(tree, attach(tree, errors)), base, 422)
    shown = rules_editor.preview(db.session, current_tenant(), base.document, document, registry)
    if shown.is_empty:
        tree = rules_editor.form_tree(document, registry)
        return _page(RulesForm(tree, [_("You have changed nothing yet.")]), base, 422)
    settings = {
        name: document["plugins"][name] for name in rules_editor.editable(document, registry)
    }
    return render_template(
        "rules/preview.html",
        tenant=current_tenant(),
        base=base,
        preview=shown,
        proposal=json.dumps(settings, ensure_ascii=False, separators=(",", ":")),
    ), 200


def _proposal(base: TenantConfigVersion) -> dict[str, Any] | None:
    """The configuration the preview's form sends back, or ``None`` when it cannot be read."""
    text = request.form.get("proposal", "")
    if len(text) > PROPOSAL_MAX:
        return None
    try:
        settings = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        return None
    if not isinstance(settings, dict):
        return None
    document: dict[str, Any] = json.loads(json.dumps(base.document))
    for name in rules_editor.editable(base.document, get_registry()):
        if name not in settings:
            return None
        document["plugins"][name] = settings[name]
    return document


@bp.post("/publish")
def publish() -> tuple[str, int] | Response:
    base, registry = _newest(), get_registry()
    document = _proposal(base)
    if document is None:
        tree = rules_editor.form_tree(base.document, registry)
        message = _("The proposed rules could not be read: make the change again.")
        return _page(RulesForm(tree, [message]), base, 422)
    errors = rules_editor.problems(document, registry, {})
    tree = rules_editor.form_tree(document, registry)
    if errors:
        return _page(RulesForm(tree, attach(tree, errors)), base, 422)
    try:
        number = int(request.form.get("base", ""))
    except ValueError:
        number = -1
    try:
        version = rules_editor.publish(
            db.session, current_tenant(), number, document, registry, who()
        )
    except DomainError as refusal:
        db.session.rollback()
        # The values sent are shown again, to publish them over the new version if need be.
        return _page(RulesForm(tree, [refusal.message]), _newest(), refusal.status)
    db.session.commit()
    if version.awaiting_charter:
        notify(
            _(
                "Version %(num)d of the rules is published. It changes the internal rules: it"
                " takes effect once their revision is adopted by the council.",
                num=version.version,
            )
        )
    else:
        notify(_("Version %(num)d of the rules is published and in force.", num=version.version))
    return redirect(url_for("public.rules_version", version=version.version))
