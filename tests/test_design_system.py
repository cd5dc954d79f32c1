"""The design system's foundation: the commune's theme (checked for contrast, served as
CSS), the forms layer (French messages, control characters and lengths refused, values kept)
and the frame's pieces (banners, confirmation step)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from agora.plugins.manager import get_registry
from agora.shared.forms import Form, text_field, textarea_field
from agora.shared.labels import tag_colour
from agora.tenancy.config import TenantConfigError, contrast_with_white, load_file

POITIERS = {"Host": "poitiers.localhost"}


def _edit(path: Path, **commune: Any) -> None:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["commune"].update(commune)
    path.write_text(tomli_w.dumps(document), encoding="utf-8")


def test_contrast_is_wcag_s() -> None:
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)


def test_a_pale_theme_colour_is_refused_naming_file_and_field(tenant_files: Path) -> None:
    path = tenant_files / "poitiers.toml"
    _edit(path, theme_colour="#ffcc00")
    with pytest.raises(TenantConfigError) as refused:
        load_file(path, get_registry())
    message = str(refused.value)
    assert f"{path}: commune.theme_colour: #ffcc00" in message
    assert "4.5:1" in message


def test_a_logo_must_be_served_by_the_site(tenant_files: Path) -> None:
    path = tenant_files / "poitiers.toml"
    _edit(path, logo_url="https://example.org/logo.svg")
    with pytest.raises(TenantConfigError) as refused:
        load_file(path, get_registry())
    assert "commune.logo_url" in str(refused.value)


def test_demo_communes_have_their_own_colours() -> None:
    root = Path(__file__).resolve().parents[1] / "tenants"
    poitiers = load_file(root / "poitiers.toml", get_registry())
    grenoble = load_file(root / "grenoble.toml", get_registry())
    assert poitiers.theme_colour and grenoble.theme_colour
    assert poitiers.theme_colour != grenoble.theme_colour


def test_the_commune_s_colour_is_served_as_css(client: FlaskClient, onboarded: Path) -> None:
    page = client.get("/", headers=POITIERS).get_data(as_text=True)
    assert '<link rel="stylesheet" href="/theme.css?v=1">' in page
    css = client.get("/theme.css?v=1", headers=POITIERS)
    assert css.mimetype == "text/css"
    assert "--govuk-brand-colour:#9b1b30" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]
    # The platform's own host has no commune, hence no theme.
    assert client.get("/theme.css", headers={"Host": "localhost"}).status_code == 404


class _Sample(Form):
    name = text_field("Name", max_length=10)
    story = textarea_field("Story", required=False)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Ce champ est obligatoire."),
        ({"name": "a" * 11}, "name", "Saisissez au plus 10 caractères."),
        ({"name": "nul\x00"}, "name", "Ce texte contient un caractère non autorisé."),
        ({"name": "ok", "story": "bell\x07"}, "story", "non autorisé"),
    ],
)
def test_forms_refuse_in_french_next_to_the_field(
    app: Flask, data: dict[str, str], field: str, message: str
) -> None:
    with app.test_request_context(method="POST", data=data), force_locale("fr"):
        form = _Sample()
        assert not form.validate()
        assert message in form[field].errors[0]
        assert {"text": form[field].errors[0], "href": f"#{field}"} in form.error_list()
        rendered = str(form[field]())
        assert "govuk-error-message" in rendered
        assert "Erreur" in rendered


def test_forms_keep_multiline_text_and_values(app: Flask) -> None:
    with app.test_request_context(
        method="POST", data={"name": "  Zoé ", "story": "line\r\n\tnext"}
    ):
        form = _Sample()
        assert form.validate(), form.errors
        assert form.name.data == "Zoé"
        assert 'value="Zoé"' in str(form.name())


def test_status_families() -> None:
    assert tag_colour("done") == "green"
    assert tag_colour("delayed") == "red"
    assert tag_colour("closed", "petition") == "grey"
    assert tag_colour("unknown-code") == "grey"


def test_the_frame_uses_the_design_system(app: Flask, client: FlaskClient, onboarded: Path) -> None:
    page = client.get("/", headers=POITIERS).get_data(as_text=True)
    assert 'class="govuk-skip-link"' in page
    assert "govuk-service-navigation" in page
    assert '<script type="module" src="/static/agora.js"></script>' in page
    assert app.static_folder is not None
    css = (Path(app.static_folder) / "agora.css").read_text(encoding="utf-8")
    assert "GDS Transport" not in css
    assert "--govuk-brand-colour" in css


def test_an_error_keeps_the_commune_s_frame_and_the_way_back(
    client: FlaskClient, onboarded: Path
) -> None:
    missing = client.get("/petitions/999999", headers=POITIERS)
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert (
        '<p class="agora-header__brand"><a href="/"><img class="agora-header__logo" '
        'src="/static/communes/poitiers.svg" alt="">Poitiers</a></p>'
    ) in page
    assert "Page introuvable" in page
    assert '<a class="govuk-link" href="/petitions">Revenir à cette rubrique</a>' in page
    came_from = client.get(
        "/petitions/999999",
        headers={**POITIERS, "Referer": "http://poitiers.localhost/journal?page=2"},
    ).get_data(as_text=True)
    assert '<a class="govuk-link" href="/journal?page=2">Revenir à la page précédente</a>' in (
        came_from
    )
    # Another site's address is never offered as the way back.
    elsewhere = client.get(
        "/petitions/999999", headers={**POITIERS, "Referer": "https://example.org/x"}
    ).get_data(as_text=True)
    assert "example.org" not in elsewhere


def test_a_summary_value_is_text_unless_it_is_markup(app: Flask) -> None:
    """What a person typed (a witness's name, a file's column) is shown as typed, never as
    HTML; a tag or a translated text passes as markup."""
    from flask import render_template_string

    with app.test_request_context():
        html = render_template_string(
            '{% from "design/macros.html" import summary_list, status_tag %}'
            "{{ summary_list([('Témoins', witnesses), ('Statut', status_tag('seated', "
            "draw_status_labels, 'draw'))]) }}",
            witnesses='<img src=x onerror="alert(1)">Maître Dupont',
        )
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Maître Dupont" in html
    assert '<strong class="govuk-tag' in html
