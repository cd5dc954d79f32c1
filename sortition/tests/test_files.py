"""The files a town hall has: encodings, separators, French headers, and the files that cannot be
read, refused with the file, the line and the probable cause, in French, never a traceback."""

from __future__ import annotations

import codecs
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agora_sortition import (
    MalformedInput,
    draw_invitations,
    read_pool,
    read_quotas,
    read_table,
    sniff,
)
from agora_sortition.cli import main
from agora_sortition.messages import render
from agora_sortition.tables import TableFormat, find_column, normalise, value_matcher

ENGINE = Path(__file__).resolve().parents[1]

QUOTAS = "critère;valeur;min;max\nGenre;Femme;1;2\nGenre;Homme;1;2\nÂge;Jeune;1;3\nÂge;Âgé;0;2\n"
PEOPLE = "identifiant;genre;age\nA1;femme;jeune\nA2;HOMME;Âgé\nA3;Femme;JEUNE\nA4;homme;jeune\n"


def excel(path: Path, text: str, encoding: str = "cp1252") -> Path:
    """``text`` as French Excel saves it: Windows-1252 (or ``encoding``), CRLF line ends."""
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def test_a_french_excel_file_is_read(tmp_path: Path) -> None:
    features = excel(tmp_path / "criteres.csv", QUOTAS)
    people = excel(tmp_path / "volontaires.csv", PEOPLE)
    assert sniff(features) == TableFormat("cp1252", ";")
    quotas = read_quotas(features)
    assert quotas.features == ("Genre", "Âge")
    assert quotas.values("Âge") == ("Jeune", "Âgé")
    pool = read_pool(people, quotas)  # "identifiant", "genre", "age", "HOMME", "JEUNE"
    assert pool.ids == ("A1", "A2", "A3", "A4")
    assert [pool.value(i, "Genre") for i in range(4)] == ["Femme", "Homme", "Femme", "Homme"]
    assert [pool.value(i, "Âge") for i in range(4)] == ["Jeune", "Âgé", "Jeune", "Jeune"]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", b"", ","),
        ("utf-8", codecs.BOM_UTF8, ";"),
        ("cp1252", b"", "\t"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\t"),  # Excel's "Unicode text"
    ],
)
def test_encodings_and_separators_give_the_same_quotas_and_pool(
    tmp_path: Path, encoding: str, bom: bytes, delimiter: str
) -> None:
    features = tmp_path / "f.csv"
    features.write_bytes(bom + QUOTAS.replace(";", delimiter).encode(encoding))
    people = tmp_path / "p.csv"
    people.write_bytes(bom + PEOPLE.replace(";", delimiter).encode(encoding))
    reference = excel(tmp_path / "ref-f.csv", QUOTAS), excel(tmp_path / "ref-p.csv", PEOPLE)
    quotas = read_quotas(features)
    assert quotas == read_quotas(reference[0])
    assert read_pool(people, quotas) == read_pool(reference[1], quotas)
    assert sniff(people).delimiter == delimiter


def test_english_headers_and_exact_values_still_read(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("Feature,Value,Min,Max\ng,a,0,1\ng,A,0,1\n")
    (tmp_path / "p.csv").write_text("id,g\n1,a\n2,A\n")
    quotas = read_quotas(tmp_path / "f.csv")
    # two values alike up to case: each person's value is matched exactly
    assert read_pool(tmp_path / "p.csv", quotas).rows == (("a",), ("A",))
    (tmp_path / "p.csv").write_text("id,g\n1,á\n")
    with pytest.raises(MalformedInput, match="'á' has no quota"):
        read_pool(tmp_path / "p.csv", quotas)


def test_matching_helpers() -> None:
    assert normalise("  Critère  de\tRésidence ") == "critere de residence"
    assert find_column(["ID", "Âge"], "age") == 1
    with pytest.raises(MalformedInput) as caught:
        find_column(["Age", "âge"], "AGE")
    assert caught.value.key == "ambiguous_column"
    match = value_matcher(["Femme", "Homme", "Autre", "autre"])
    assert (match("femme"), match("HOMME"), match("autre"), match("AUTRE")) == (
        "Femme",
        "Homme",
        "autre",
        None,
    )


def test_read_table_gives_lines_and_skips_blank_records(tmp_path: Path) -> None:
    path = excel(tmp_path / "t.csv", '\n a ;b\n1;"x\ny"\n\n2;z\n')
    with read_table(path) as table:
        assert table.header == ["a", "b"]
        assert list(table) == [(4, ["1", "x\r\ny"]), (6, ["2", "z"])]


def test_utf8_presumed_turns_to_cp1252_past_the_sample(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(b"id;q\n" + b"p;a\n" * 100 + "z;Écluse\n".encode("cp1252"))
    table = sniff(path, sample=64)
    assert table == TableFormat("utf-8", ";", presumed=True)
    with read_table(path, table) as rows:
        assert list(rows)[-1] == (102, ["z", "Écluse"])
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(b"id;q\n" + "é;a\n".encode() + b"p;a\n" * 100 + "z;É\n".encode("cp1252"))
    with (
        pytest.raises(MalformedInput) as caught,
        read_table(mixed, sniff(mixed, sample=64)) as rows,
    ):
        list(rows)
    assert (caught.value.key, caught.value.params["line"]) == ("mixed_encoding", 103)


UNREADABLE = [
    # name, bytes, key, line, words of the French message
    ("utf16.csv", "id,g\n1,a\n".encode("utf-16-le"), "utf16_without_bom", None, "UTF-16"),
    ("binary.csv", bytes(range(256)) * 4, "binary", 1, "binaires"),
    ("classeur.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(100), "spreadsheet", None, "classeur"),
    ("quote.csv", b'id,g\n1,a\n2,"b\n3,a\n', "broken_quoting", 3, "guillemets"),
    ("after.csv", b'id,g\n1,"a"b\n', "broken_quoting", 2, "guillemets"),
    ("empty.csv", b"", "empty_file", None, "vide"),
    ("c1.csv", b"id,g\n1,a\n2,\x81\n", "undecodable", 3, "ni en UTF-8 ni en Windows-1252"),
]


@pytest.mark.parametrize(("name", "content", "key", "line", "words"), UNREADABLE)
def test_files_that_cannot_be_read_name_line_and_cause(
    tmp_path: Path, name: str, content: bytes, key: str, line: int | None, words: str
) -> None:
    (tmp_path / "f.csv").write_text("feature,value,min,max\ng,a,0,2\ng,b,0,2\n")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MalformedInput) as caught:
        read_pool(path, read_quotas(tmp_path / "f.csv"))
    error = caught.value
    assert (error.key, error.params["file"], error.params["line"]) == (key, str(path), line)
    french = render(error, "fr")
    assert french.startswith(f"fichier {path}")
    assert words in french


def test_the_command_line_answers_bad_files_in_french_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("f.csv").write_text("feature,value,min,max\ng,a,0,2\ng,b,0,2\n")
    Path("p.csv").write_text("id,g\n1,a\n2,b\n")
    for name, content, *_ in UNREADABLE:
        Path(name).write_bytes(content)
    base = ["select", "--features", "f.csv", "--panel-size", "1"]
    runs = [[*base, "--people", name, "--json", "out.json"] for name, *_ in UNREADABLE]
    runs.append([*base, "--people", "p.csv", "--json", "absent/out.json"])
    runs.append([*base, "--people", "p.csv", "--json", "o.json", "--record", "absent/r.json"])
    runs.append([*base, "--people", "nulle-part.csv", "--json", "o.json"])
    runs.append(["invite", "--register", "quote.csv", "--count", "1", "--seed", "1"])
    runs[-1] += ["--stratify", "g", "--out", "absent/invites.csv"]
    runs.append(["invite", "--register", "utf16.csv", "--count", "1", "--seed", "1"])
    runs[-1] += ["--out", "invites.csv"]
    runs.append(["verify", "utf16.csv"])
    said = []
    for args in runs:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("fichier "), (args, err)
        said.append(err)
    assert "ligne 3 : guillemets mal fermés" in said[3]
    assert "le dossier absent n'existe pas" in said[-6]
    assert "le dossier absent n'existe pas" in said[-5]
    assert "fichier introuvable" in said[-4]
    assert "le dossier absent n'existe pas" in said[-3]
    assert "UTF-16 sans marque" in said[-2]
    assert "le relevé n'est pas un JSON lisible" in said[-1]
    # a real process: no traceback, English on request
    english = subprocess.run(
        [sys.executable, "-m", "agora_sortition", "--lang", "en", *runs[0]],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ENGINE), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert english.returncode == 2
    assert english.stderr.startswith("file utf16.csv: the file seems to be UTF-16 without a")
    assert "Traceback" not in english.stderr


def test_select_reads_a_french_excel_pool_and_says_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    excel(tmp_path / "criteres.csv", QUOTAS)
    excel(tmp_path / "volontaires.csv", PEOPLE)
    args = ["select", "--features", str(tmp_path / "criteres.csv")]
    args += ["--people", str(tmp_path / "volontaires.csv"), "--panel-size", "2", "--seed", "1"]
    assert main([*args, "--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Panel de 2 personnes tiré parmi 4 volontaires (leximin) en ")
    assert "Probabilité minimale d'être tiré : 0,5000 (exacte" in out
    assert main(["--lang", "en", *args, "--json", str(tmp_path / "out.json")]) == 0
    assert capsys.readouterr().out.startswith("Panel of 2 people selected from 4 volunteers")


def test_invite_reads_semicolons_and_cp1252_and_draws_as_from_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"p{i};{'Écluse' if i % 3 else 'Nord'};{i % 40} rue de l'Église" for i in range(300)]
    text = "Identifiant;Quartier;Adresse\n" + "\n".join(rows) + "\n"
    excel(tmp_path / "registre.csv", text)
    (tmp_path / "utf8.csv").write_text(text.replace(";", ","), encoding="utf-8")
    (tmp_path / "utf16.csv").write_text(text.replace(";", "\t"), encoding="utf-16")  # BOM
    (tmp_path / "exclus.txt").write_bytes("p1\r\np2\r\n".encode("cp1252"))
    (tmp_path / "fixe.csv").write_bytes("strate;nombre\r\nÉcluse;5\r\nNord;3\r\n".encode("cp1252"))
    drawn = {}
    for register in ("registre.csv", "utf8.csv", "utf16.csv"):
        out = tmp_path / f"out-{register}"
        args = ["invite", "--register", str(tmp_path / register), "--count", "0", "--seed", "7"]
        args += ["--stratify", "quartier", "--households", "adresse"]
        args += ["--exclude", str(tmp_path / "exclus.txt"), "--fixed", str(tmp_path / "fixe.csv")]
        args += ["--id-column", "identifiant", "--out", str(out)]
        assert main(args) == 0
        assert capsys.readouterr().out.startswith("8 invitations tirées (2 strates)")
        drawn[register] = out.read_text(encoding="utf-8")
    assert drawn["registre.csv"] == drawn["utf8.csv"] == drawn["utf16.csv"]
    assert "Écluse" in drawn["registre.csv"]


def test_invite_turns_to_cp1252_past_the_sample_and_refuses_a_mixed_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agora_sortition.tables.SAMPLE", 256)
    rows = [f"p{i};{'Nord' if i % 2 else 'Sud'};{i % 70}" for i in range(400)]
    rows[300] = "é300;Écluse;3"  # beyond the sample
    text = "id;quartier;adresse\n" + "\n".join(rows) + "\n"
    late = tmp_path / "late.csv"
    late.write_bytes(text.encode("cp1252"))
    (tmp_path / "utf8.csv").write_text(text, encoding="utf-8")
    choices: list[dict[str, Any]] = [{}, {"stratify": "Quartier", "household_columns": ["adresse"]}]
    for options in choices:
        drawn = draw_invitations(late, 50, seed=2, **options)
        assert drawn == draw_invitations(tmp_path / "utf8.csv", 50, seed=2, **options)
    assert draw_invitations(late, 400, seed=1, stratify="quartier").strata["Écluse"] == (1, 1)
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(text.replace("p1;", "é1;").encode().replace("Écluse".encode(), b"\xc9cluse"))
    with pytest.raises(MalformedInput) as caught:
        draw_invitations(mixed, 5, seed=1, stratify="quartier")
    assert (caught.value.key, caught.value.params["line"]) == ("mixed_encoding", 302)


def test_an_oversized_pool_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    excel(tmp_path / "criteres.csv", QUOTAS)
    excel(tmp_path / "registre.csv", PEOPLE * 40)
    monkeypatch.setattr("agora_sortition.pool.MAX_POOL_BYTES", 2**20 // 1024)
    with pytest.raises(MalformedInput) as caught:
        read_pool(tmp_path / "registre.csv", read_quotas(tmp_path / "criteres.csv"))
    assert caught.value.key == "oversized_pool"
    assert "est-ce le registre entier ?" in render(caught.value, "fr")
