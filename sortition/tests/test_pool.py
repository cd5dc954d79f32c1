from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_sortition import MalformedInput, read_pool, read_quotas, write_pool, write_quotas


def test_sf_csv_round_trip(tmp_path: Path, make: Callable[..., Any]) -> None:
    pool, quotas = make(
        [("f", "young"), ("m", "old"), ("f", "old")],
        ("gender", "age"),
        {
            ("gender", "f"): (1, 2),
            ("gender", "m"): (0, 1),
            ("age", "young"): (0, 1),
            ("age", "old"): (1, 2),
        },
        households=["a", "b", "a"],
    )
    write_quotas(tmp_path / "f.csv", quotas)
    write_pool(tmp_path / "p.csv", pool)
    assert (tmp_path / "f.csv").read_text().splitlines()[0] == "feature,value,min,max"
    again = read_quotas(tmp_path / "f.csv")
    assert again == quotas
    assert read_pool(tmp_path / "p.csv", again, household_columns=["household"]) == pool


def test_replication_header_and_row_numbers(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("category,feature,min,max\ng,a,0,1\ng,b,0,1\n")
    (tmp_path / "r.csv").write_text("g\na\nb\n")
    quotas = read_quotas(tmp_path / "c.csv")
    assert read_pool(tmp_path / "r.csv", quotas, id_column=None).ids == ("1", "2")


@pytest.mark.parametrize(
    ("quotas", "people", "where"),
    [
        ("feature,value,min,max\ng,a,x,1\n", "id,g\n1,a\n", ("f.csv", 2, "min")),
        ("feature,value,min,max\ng,a,2,1\n", "id,g\n1,a\n", ("f.csv", 2, "min")),
        ("feature,value,min,max\ng,a,0,1\ng,a,0,1\n", "id,g\n1,a\n", ("f.csv", 3, None)),
        ("value,min,max\n", "id,g\n1,a\n", ("f.csv", 1, None)),
        ("feature,value,min,max\ng,a,0,1\n", "id,g\n1,a\n2,b\n", ("p.csv", 3, "g")),
        ("feature,value,min,max\ng,a,0,1\n", "id,g\n1,a\n1,a\n", ("p.csv", 3, "id")),
        ("feature,value,min,max\ng,a,0,1\n", "id,h\n1,a\n", ("p.csv", 1, "g")),
        ("feature,value,min,max\ng,a,0,1\n", "id,g\n1,a,x\n", ("p.csv", 2, None)),
    ],
)
def test_malformed_files_name_file_line_column(
    tmp_path: Path, quotas: str, people: str, where: tuple[str, int, str | None]
) -> None:
    (tmp_path / "f.csv").write_text(quotas)
    (tmp_path / "p.csv").write_text(people)
    with pytest.raises(MalformedInput) as caught:
        read_pool(tmp_path / "p.csv", read_quotas(tmp_path / "f.csv"))
    file, line, column = where
    params = caught.value.params
    assert params["file"].endswith(file)
    assert params["line"] == line
    assert params["column"] == column
    assert caught.value.to_dict()["code"] == "malformed_input"
