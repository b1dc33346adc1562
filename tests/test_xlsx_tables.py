"""``--format xlsx``: one workbook per command, one sheet per table, the same values as the CSV files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml

from symbiosim.cli import main
from symbiosim.report.workbook import MAX_SHEET_NAME, About, cell_value, column_unit, sheet_names, write_workbook
from tests.tiny import FEED_ENTRY, HEAT_LINK


def _scenario(tmp_path: Path, raw: dict[str, Any], currency: str = "EUR") -> str:
    path = tmp_path / f"{raw['settings']['name']}.yaml"
    data = {**raw, "settings": {**raw["settings"], "currency": currency}}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _same(csv_value: Any, cell: Any) -> bool:
    if isinstance(csv_value, float) and math.isnan(csv_value):
        return cell is None
    if isinstance(csv_value, bool) or isinstance(cell, bool):
        return csv_value == cell
    if isinstance(csv_value, int | float) and isinstance(cell, int | float):
        return float(csv_value) == float(cell)  # exact: every float is written with all its digits
    return str(csv_value) == str(cell)


def assert_sheet_equals_csv(book: openpyxl.Workbook, sheet: str, csv: Path) -> None:
    frame = pd.read_csv(csv, keep_default_na=True)
    rows = list(book[sheet].iter_rows(values_only=True))
    assert list(rows[0]) == list(frame.columns), f"{sheet}: header"
    body = rows[1:]
    assert len(body) == len(frame), f"{sheet}: rows"
    for r, (csv_row, cells) in enumerate(zip(frame.itertuples(index=False), body, strict=True), start=2):
        for c, (a, b) in enumerate(zip(csv_row, cells, strict=True)):
            assert _same(a, b), f"{sheet}!{openpyxl.utils.get_column_letter(c + 1)}{r}: CSV {a!r}, xlsx {b!r}"


def assert_workbook_equals_csv_folder(workbook: Path, folder: Path, names: list[str]) -> openpyxl.Workbook:
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["about", *names]
    for name in names:
        assert_sheet_equals_csv(book, name, folder / f"{name}.csv")
    return book


def _about(book: openpyxl.Workbook) -> dict[str, Any]:
    return {row[0]: row[1] for row in book["about"].iter_rows(values_only=True) if row and row[0]}


def _units(book: openpyxl.Workbook) -> dict[tuple[str, str], str]:
    rows = list(book["about"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[:3] == ("sheet", "column", "unit"))
    return {(row[0], row[1]): row[2] for row in rows[start + 1:] if row[0]}


PLAN_TABLES = ["activities", "purchases", "sales", "disposals", "flows", "storage", "builds"]


def test_plan_xlsx_has_every_csv_table_as_a_sheet(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, HEAT_LINK)
    assert main(["plan", scenario, "--out", str(tmp_path / "csv")]) == 0
    assert main(["plan", scenario, "--out", str(tmp_path / "xlsx"), "--format", "xlsx"]) == 0
    xlsx = tmp_path / "xlsx"
    assert sorted(p.name for p in xlsx.iterdir()) == ["flows.png", "kpis.json", "meta.json", "plan.xlsx"]
    book = assert_workbook_equals_csv_folder(xlsx / "plan.xlsx", tmp_path / "csv", [*PLAN_TABLES, "actors", "products"])
    about = _about(book)
    assert about["command"] == "symbiosim plan"
    assert about["scenario"] == "heat_link"
    assert about["scenario file"] == scenario
    assert about["currency"] == "EUR"
    assert "objective=cluster_npv" in about["options"]
    assert about["plan status"] == "optimal"
    units = _units(book)
    assert units[("actors", "profit")].startswith("EUR")
    assert units[("flows", "price")] == "EUR per unit of the product"
    assert units[("actors", "emissions")].startswith("t CO2e")
    # numbers are numbers, large ones with thousands separators; the header is frozen and bold
    ws = book["actors"]
    header = [c.value for c in ws[1]]
    profit = ws.cell(row=2, column=header.index("profit") + 1)
    assert profit.data_type == "n" and isinstance(profit.value, int | float)
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    # columns as wide as their content (within limits)
    assert ws.column_dimensions["A"].width >= len("actor") + 2
    assert all(d.width <= 80 for d in ws.column_dimensions.values())


def test_simulate_xlsx_equals_csv(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, HEAT_LINK)
    assert main(["simulate", scenario, "--seed", "1", "--out", str(tmp_path / "csv")]) == 0
    assert main(["simulate", scenario, "--seed", "1", "--out", str(tmp_path / "xlsx"), "--format", "xlsx"]) == 0
    book = assert_workbook_equals_csv_folder(tmp_path / "xlsx" / "simulate.xlsx", tmp_path / "csv",
                                             [*PLAN_TABLES, "series", "firms", "offers", "contracts", "actors"])
    assert "seed=1" in _about(book)["options"]
    assert not list((tmp_path / "xlsx").glob("*.csv"))


def test_compare_xlsx_equals_csv(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, HEAT_LINK)
    args = ["compare", scenario, "--no-decomposition"]
    assert main([*args, "--out", str(tmp_path / "csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "xlsx"), "--format", "xlsx"]) == 0
    book = assert_workbook_equals_csv_folder(tmp_path / "xlsx" / "compare.xlsx", tmp_path / "csv", ["kpis", "actors", "transfers"])
    assert book["kpis"]["A1"].value == "key_figure" and book["transfers"]["A1"].value == "rule"
    assert "EUR" in _units(book)[("kpis", "optimum")]


def test_incentives_xlsx_equals_csv(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, FEED_ENTRY)
    args = ["incentives", scenario, "--instrument", "disposal_tax", "--levels", "0,20", "--seeds", "1"]
    assert main([*args, "--out", str(tmp_path / "csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "xlsx"), "--format", "xlsx"]) == 0
    book = assert_workbook_equals_csv_folder(tmp_path / "xlsx" / "incentives.xlsx", tmp_path / "csv", ["settings"])
    assert "EUR per unit disposed" in _units(book)[("settings", "level")]


def test_decision_command_xlsx_equals_csv_with_plans(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, FEED_ENTRY)
    args = ["pareto", scenario, "--points", "2"]
    assert main([*args, "--out", str(tmp_path / "csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "xlsx"), "--format", "xlsx"]) == 0
    book = assert_workbook_equals_csv_folder(tmp_path / "xlsx" / "pareto.xlsx", tmp_path / "csv", ["pareto", "decisions"])
    assert _about(book)["command"] == "symbiosim pareto"
    plans = sorted(p.name for p in (tmp_path / "csv").iterdir() if p.is_dir())
    assert plans and plans == sorted(p.name for p in (tmp_path / "xlsx").iterdir() if p.is_dir())
    for plan in plans:
        plan_book = assert_workbook_equals_csv_folder(tmp_path / "xlsx" / plan / "plan.xlsx", tmp_path / "csv" / plan, PLAN_TABLES)
        assert _about(plan_book)["plan of"] == f"symbiosim pareto: {plan}"


def test_format_xlsx_is_offered_where_tables_are_written() -> None:
    from symbiosim.cli import build_parser

    parser = build_parser()
    for command in ("plan", "simulate", "compare", "incentives", "alternatives", "pareto", "cases", "robustness"):
        args = parser.parse_args([command, "s.yaml", "--format", "xlsx"] + (["--cases", __file__] if command == "cases" else [])
                                 + (["--instrument", "facilitator"] if command == "incentives" else []))
        assert args.format == "xlsx", command


# ------------------------------------------------------------------ the writer itself


def test_sheet_names_are_valid_and_unique() -> None:
    long = "a" * 40
    names = sheet_names([long, long + "b", "x/y:z", "About", "Kpis", "kpis", "  ", "history"])
    assert all(len(n) <= MAX_SHEET_NAME for n in names.values())
    assert len({n.lower() for n in names.values()}) == len(names)
    assert names[long] == "a" * 31 and names[long + "b"] == "a" * 29 + "~2"
    assert names["x/y:z"] == "x_y_z"
    assert names["About"] == "About~2"  # the about sheet is taken, whatever the case
    assert names["kpis"] == "kpis~2"
    assert names["  "] == "table"
    assert names["history"] == "history~2"  # reserved by Excel


def test_cells_hold_what_the_csv_shows_and_never_a_formula(tmp_path: Path) -> None:
    assert cell_value(float("nan")) is None and cell_value(None) is None
    assert cell_value(float("inf")) == "inf" and cell_value(-math.inf) == "-inf"
    frame = pd.DataFrame({"name": ["=1+1", "@SUM(A1)", "ok\x07"], "value": [1.5, 2e9, math.nan],
                          "flag": [True, False, True], "n": [1, 2, 3], "what": [{"a": 1}, [0], "x"]})
    path = write_workbook(tmp_path / "t.xlsx", {"t": frame}, About("test", currency="NOK"))
    ws = openpyxl.load_workbook(path)["t"]
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert ws["A4"].value == "ok\ufffd"
    assert ws["B3"].value == 2e9 and ws["B3"].number_format == "#,##0.00"
    assert ws["B4"].value is None
    assert ws["C2"].value is True and ws["D3"].value == 2
    assert ws["E2"].value == "{'a': 1}" and ws["E3"].value == "[0]"


def test_units_of_known_columns() -> None:
    assert column_unit("actors", "profit", "NOK").startswith("NOK")
    assert column_unit("comparison", "value_added_regional", "NOK").startswith("NOK")
    assert column_unit("comparison", "exchanged_MWh", "NOK").startswith("MWh")
    assert column_unit("pareto", "emissions_objective", "NOK").startswith("t CO2e")
    assert column_unit("distribution", "income", "EUR") == "EUR in the period (undiscounted)"
    assert column_unit("samples", "status", "NOK") == ""


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_other_formats_are_unchanged(tmp_path: Path, fmt: str) -> None:
    scenario = _scenario(tmp_path, HEAT_LINK)
    assert main(["plan", scenario, "--out", str(tmp_path / "o"), "--format", fmt]) == 0
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert {f"{t}.{fmt}" for t in PLAN_TABLES} <= names
    assert {"actors.csv", "products.csv", "kpis.json", "meta.json", "flows.png"} <= names
    assert not any(n.endswith(".xlsx") for n in names)


def test_a_table_longer_than_a_sheet_is_a_clear_error_not_a_crash(tmp_path: Path, monkeypatch, capsys) -> None:
    """Excel holds 1,048,576 rows a sheet; with the limit lowered to 3 rows, plan's flows table (more
    than 2 rows on HEAT_LINK) does not fit: exit 2 and a message that says what to use instead."""
    from symbiosim.report import workbook

    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    scenario = _scenario(tmp_path, HEAT_LINK)
    assert main(["plan", scenario, "--out", str(tmp_path / "xlsx"), "--format", "xlsx"]) == 2
    err = capsys.readouterr().err
    assert "more than an Excel sheet holds" in err and "--format csv or parquet" in err and "internal error" not in err
    assert not list((tmp_path / "xlsx").glob("*.xlsx"))  # checked before any workbook is written
