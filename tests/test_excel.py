"""Excel workbooks: round trip, template, layout errors, untrusted input, CLI."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from symbiosim.cli import main
from symbiosim.errors import ScenarioError
from symbiosim.scenario import load_scenario, scenario_from_dict
from symbiosim.scenario.excel import read_workbook, read_workbook_rows, write_template, write_workbook
from symbiosim.scenario.schema import ALL_TABLES, ROW_TABLES, Policies, Process, Settings

ROOT = Path(__file__).resolve().parents[1]

RICH: dict[str, Any] = {
    "settings": {
        "name": "rich",
        "description": "  every table, =odd text  ",  # leading/trailing spaces and '=' are kept
        "currency": "EUR",
        "start_year": 2030,
        "years": 3,
        "periods_per_year": 4,
        "discount_rate": 0.05,
    },
    "products": [
        {"id": "wood_chips", "unit": "t", "kind": "material", "disposal_cost": 12.5, "transport_cost": 0.15},
        {"id": "heat", "unit": "MWh", "kind": "energy", "needs_link": True},
        {"id": "steam", "unit": "t", "kind": "energy", "needs_link": True, "disposal_cost": 0.0},
        {"id": "water", "unit": "m3", "kind": "water", "disposal_cost": 0.0, "disposal_emissions": 0.001},
        {"id": "drying", "unit": "t", "kind": "service"},
    ],
    "actors": [
        {"id": "sawmill", "name": "Sawmill AS", "lat": 63.3, "lon": 9.85, "region": "Orkland", "sector": "16"},
        {"id": "plant", "name": "=Energy plant", "fixed_cost": 1e5, "description": "line 1\nline 2"},
        {"id": "newco", "exists": False, "entry_cost": 1.5e6, "fixed_cost": 5000, "earliest_year": 1},
    ],
    "processes": [
        {"id": "sawing", "inputs": {"water": 0.01}, "outputs": {"wood_chips": 0.4, "heat": 0.1}},
        {"id": "boiler", "inputs": {"wood_chips": 1.0}, "outputs": {"heat": 3.5, "steam": 0.2}, "description": "CHP"},
        {"id": "dryer", "inputs": {"heat": 1, "steam": 0.5}, "outputs": {"drying": 1}},
    ],
    "actor_processes": [
        {"actor": "sawmill", "process": "sawing", "capacity": 12000, "fixed_activity": 10000, "profile": "winter"},
        {
            "actor": "plant",
            "process": "boiler",
            "variable_cost": 2.5,
            "value_added_per_unit": -1.5,
            "emissions_per_unit": 0.01,
            "jobs_per_unit": 0.001,
        },
        {
            "actor": "newco",
            "process": "dryer",
            "exists": False,
            "build_cost": 2e6,
            "earliest_year": 1,
            "min_activity": 10,
            "fixed_cost": 3000,
        },
    ],
    "purchases": [
        {
            "actor": "plant",
            "product": "wood_chips",
            "price": 300,
            "limit": 5000,
            "emissions_per_unit": 0.02,
            "profile": "flat",
        },
        {"actor": "sawmill", "product": "water", "price": 1},
    ],
    "sales": [
        {"actor": "plant", "product": "heat", "price": 400, "limit": 1e5, "profile": "winter"},
        {"actor": "newco", "product": "drying", "price": 50},
    ],
    "links": [
        {
            "from": "sawmill",
            "to": "plant",
            "product": "heat",
            "build_cost": 1e6,
            "fixed_cost": 1e4,
            "distance_km": 2.5,
            "earliest_year": 1,
            "capacity": 5000,
        },
        {"from": "sawmill", "to": "plant", "product": "wood_chips", "exists": True, "price": 250},
        {"from": "plant", "to": "newco", "product": "steam"},
    ],
    "storage": [{"actor": "plant", "product": "wood_chips", "capacity": 1000, "cost": 0.5}],
    "profiles": {"winter": [1.5, 0.5, 0.25, 1.75], "flat": [1, 1, 1, 1]},
    "policies": {
        "exchange_subsidy": {"*": 5, "heat": 2},
        "disposal_tax": {"wood_chips": 3},
        "virgin_tax": {"*": 1.5},
        "carbon_price": 900,
        "investment_subsidy": 0.25,
    },
    "behaviour": [
        {"actor": "*", "hurdle_rate": 0.1, "max_payback_years": 5},
        {"actor": "sawmill", "bargaining_power": 0.5, "contract_years": 5, "risk_aversion": 0},
    ],
    "uncertainty": [
        {"target": "purchases[product=wood_chips].price", "dist": "triangular", "low": 0.8, "mode": 1, "high": 1.3},
        {"target": "settings.discount_rate", "dist": "uniform", "low": 0.03, "high": 0.08, "as": "value"},
        {"target": "products[id=wood_chips].disposal_cost", "dist": "normal", "mean": 1, "sd": 0.1},
        {"target": "sales[actor=plant].price", "dist": "lognormal", "mean": 0, "sd": 0.2},
    ],
}


def _roundtrip(scenario: Any, tmp_path: Path) -> Any:
    xlsx = write_workbook(scenario, tmp_path / "s.xlsx")
    return load_scenario(xlsx)


def _book(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


MINIMAL: dict[str, list[list[Any]]] = {
    "settings": [["key", "value"], ["name", "mini"], ["years", 2], ["description", None]],
    "products": [["id", "unit", "kind"], ["heat", "MWh", "energy"], ["wood", "t", "material"]],
    "actors": [["id"], ["a"]],
    "processes": [["id", "description"], ["boil", None]],
    "recipes": [
        ["process", "product", "direction", "amount"],
        ["boil", "wood", "input", 1],
        ["boil", "heat", "output", 3],
    ],
    "actor_processes": [["actor", "process"], ["a", "boil"]],
}


def _errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(i) for i in info.value.issues]


# --------------------------------------------------------------------------- round trip


def test_yaml_xlsx_yaml_round_trip_is_lossless(tmp_path: Path) -> None:
    yaml_file = tmp_path / "rich.yaml"
    yaml_file.write_text(yaml.safe_dump(RICH, sort_keys=False), encoding="utf-8")
    original = load_scenario(yaml_file)
    assert original == scenario_from_dict(copy.deepcopy(RICH))

    back = _roundtrip(original, tmp_path)
    assert back == original
    assert back.to_dict() == original.to_dict()
    # The plain data read from the workbook is the YAML layout itself.
    raw = read_workbook(tmp_path / "s.xlsx")
    assert raw["policies"] == {k: v for k, v in RICH["policies"].items()}
    assert raw["profiles"] == {"winter": [1.5, 0.5, 0.25, 1.75], "flat": [1, 1, 1, 1]}
    assert raw["processes"][0] == {
        "id": "sawing",
        "inputs": {"water": 0.01},
        "outputs": {"wood_chips": 0.4, "heat": 0.1},
    }
    assert raw["links"][1] == {"from": "sawmill", "to": "plant", "product": "wood_chips", "exists": True, "price": 250}
    assert raw["uncertainty"][1]["as"] == "value"
    # and the result dumps to YAML that loads to the same scenario
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(back.to_dict(), sort_keys=False), encoding="utf-8")
    assert load_scenario(again) == original


def test_minimal_scenario_round_trip(tmp_path: Path) -> None:
    rich = copy.deepcopy(RICH)
    for table in ("purchases", "sales", "links", "storage", "profiles", "policies", "behaviour", "uncertainty"):
        rich.pop(table)
    rich["actor_processes"][0].pop("profile")
    original = scenario_from_dict(rich)
    assert _roundtrip(original, tmp_path) == original


@pytest.mark.parametrize("name", ["orkanger.yaml"])
def test_shipped_scenario_round_trip(tmp_path: Path, name: str) -> None:
    path = ROOT / "scenarios" / name
    if not path.exists():
        pytest.skip(f"{path} not written yet")
    original = load_scenario(path)
    back = _roundtrip(original, tmp_path)
    assert back == original
    assert back.to_dict() == original.to_dict()


# --------------------------------------------------------------------------- template


def _aliases(model: Any, skip: tuple[str, ...] = ()) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items() if (f.alias or n) not in skip]


def test_template_has_every_table_documented(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "README"
    assert set(wb.sheetnames) == {"README", "recipes", *ALL_TABLES}

    def header(sheet: str) -> list[Any]:
        return [c.value for c in wb[sheet][1]]

    for table, model in ROW_TABLES.items():
        expected = _aliases(model, skip=("inputs", "outputs") if model is Process else ())
        assert header(table) == expected, table
    assert header("settings") == ["key", "value"]
    assert [r[0] for r in wb["settings"].iter_rows(min_row=2, values_only=True)] == list(Settings.model_fields)
    assert header("policies") == ["instrument", "product", "value"]
    assert [r[0] for r in wb["policies"].iter_rows(min_row=2, values_only=True)] == list(Policies.model_fields)
    assert header("recipes") == ["process", "product", "direction", "amount"]
    assert header("profiles") == ["name", "period", "factor"]

    products = wb["products"]
    assert products.freeze_panes == "A2"
    for cell in products[1]:
        assert cell.font.bold and cell.comment is not None
    field = ROW_TABLES["products"].model_fields["disposal_cost"]
    comment = products["D1"].comment.text
    assert field.description in comment and "money/unit" in comment and "Default: empty" in comment
    assert "Required" in products["A1"].comment.text

    readme = [r for r in wb["README"].iter_rows(values_only=True)]
    documented = {(r[0], r[1]) for r in readme}
    for table, model in ROW_TABLES.items():
        for column in _aliases(model, skip=("inputs", "outputs") if model is Process else ()):
            assert (table, column) in documented, (table, column)
    assert ("settings", "key = discount_rate") in documented
    assert ("recipes", "direction") in documented


def test_empty_template_reports_missing_tables(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx")
    errors = _errors(path)
    assert errors and all("required table is missing or empty" in e for e in errors)
    assert {e.split(":")[0] for e in errors} == {"settings", "products", "actors", "processes", "actor_processes"}


def test_template_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        write_template(path)
    assert path.read_text() == "mine"
    write_template(path, overwrite=True)
    assert zipfile.is_zipfile(path)


def test_filled_in_template_loads(tmp_path: Path) -> None:
    """A user fills the template in place (prefilled settings keys, instruments left empty)."""
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    settings = wb["settings"]
    for row in settings.iter_rows(min_row=2):
        row[1].value = {"name": "filled", "years": 2}.get(row[0].value)
    for sheet, rows in MINIMAL.items():
        if sheet != "settings":
            for row in rows[1:]:
                wb[sheet].append(row)
    wb["policies"]["C5"] = 250  # carbon_price, every product
    assert wb["policies"]["A5"].value == "carbon_price"
    wb.save(path)
    s = load_scenario(path)
    assert s.settings.name == "filled" and s.settings.years == 2
    assert s.policies.carbon_price == 250 and s.policies.exchange_subsidy is None
    assert s.processes[0].inputs == {"wood": 1} and s.processes[0].outputs == {"heat": 3}


# --------------------------------------------------------------------------- layout


def test_layout_conveniences(tmp_path: Path) -> None:
    sheets = copy.deepcopy(MINIMAL)
    sheets["Products "] = [
        [" id ", "unit ", "kind"],
        ["heat", "MWh", "energy"],
        [None, None, None],
        ["wood", "t", "material"],
    ]
    del sheets["products"]
    sheets["actors"] = [["id", "sector", "name"], ["a", 16, "  Spaced name "]]
    sheets["recipes"][1][2] = "Input"
    sheets["policies"] = [
        ["instrument", "product", "value"],
        ["carbon_price", None, 10],
        ["virgin_tax", "*", 1],
        ["virgin_tax", "wood", 2],
        ["disposal_tax", "heat", 4],
    ]
    s = load_scenario(_book(tmp_path / "b.xlsx", sheets))
    assert [p.id for p in s.products] == ["heat", "wood"]
    assert s.actors[0].sector == "16" and s.actors[0].name == "  Spaced name "
    assert s.policies.carbon_price == 10
    assert s.policies.virgin_tax == {"*": 1, "wood": 2}
    assert s.policies.disposal_tax == {"heat": 4}
    raw, rows = read_workbook_rows(tmp_path / "b.xlsx")
    assert rows["products"] == [2, 4]  # the empty row 3 is skipped
    assert raw["products"][1] == {"id": "wood", "unit": "t", "kind": "material"}


def test_layout_errors_are_all_reported(tmp_path: Path) -> None:
    sheets = copy.deepcopy(MINIMAL)
    sheets["recipes"] += [["boil", "heat", "sideways", 1], ["nope", "heat", "output", 1], ["boil", "wood", "input", 2]]
    sheets["profiles"] = [["name", "period", "factor"], ["p", 0, 1], ["p", 2, 1]]
    sheets["storage"] = [[], ["a", "heat", 10]]
    sheets["sales"] = [["actor", "product", "price"], ["a", "heat", 5, 99]]
    errors = _errors(_book(tmp_path / "b.xlsx", sheets))
    text = "\n".join(errors)
    assert "recipes[row 4].direction: expected input or output, got 'sideways'" in text
    assert "recipes[row 5].process: unknown process `nope`" in text
    assert "recipes[row 6].product: wood appears twice" in text
    assert "profiles[p].period: expected periods 0, 1, 2, ... without gaps; missing 1 (has 2)" in text
    assert "storage[row 1]: missing header row" in text
    assert "sales[row 2]: cell D2 holds a value but its column has no name" in text
    assert len(errors) == 6


def test_unknown_sheet_and_column_reach_the_loader(tmp_path: Path) -> None:
    sheets = copy.deepcopy(MINIMAL)
    sheets["prodcts"] = [["id"], ["x"]]
    sheets["actors"] = [["id", "lattitude"], ["a", 63]]
    text = "\n".join(_errors(_book(tmp_path / "b.xlsx", sheets)))
    assert "prodcts: unknown table `prodcts`; did you mean `products`?" in text
    assert "actors[a].lattitude: unknown column `lattitude`" in text


# --------------------------------------------------------------------------- untrusted input


def test_formula_cells_are_errors_never_evaluated(tmp_path: Path) -> None:
    path = _book(tmp_path / "f.xlsx", MINIMAL)
    wb = openpyxl.load_workbook(path)
    wb["products"]["D2"] = "=B2*3"
    wb["products"]["D1"] = "disposal_cost"
    wb["settings"]["B3"] = "=1+1"
    wb["actors"]["B2"] = "#N/A"  # an error value
    wb["actors"]["B1"] = "lat"
    wb.save(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "cell D5" not in text
    assert "products[row 2].disposal_cost: cell D2 holds a formula (=B2*3); symbiosim never evaluates formulas" in text
    assert "settings[row 3].value: cell B3 holds a formula (=1+1)" in text
    assert "actors[row 2].lat: cell B2 holds the error value #N/A" in text
    assert len(info.value.issues) == 3
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    "content",
    [os.urandom(2048), b"", b"PK\x03\x04 truncated zip", None],
    ids=["random", "empty", "truncated-zip", "zip-not-workbook"],
)
def test_corrupt_file_is_a_scenario_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.xlsx"
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "not a workbook")
    else:
        path.write_bytes(content)
    errors = _errors(path)
    assert len(errors) == 1 and "cannot read the file as an Excel workbook" in errors[0]


def test_oversized_sheet_is_refused_quickly(tmp_path: Path) -> None:
    path = _book(tmp_path / "wide.xlsx", MINIMAL)
    wb = openpyxl.load_workbook(path)
    wb["actors"].cell(row=3, column=16384, value=1)  # XFD3
    wb["products"].cell(row=100_000, column=1, value="far")  # far down, but a legal row
    wb.save(path)
    errors = _errors(path)
    assert errors == [
        "actors[row 3]: a value in column XFD is beyond column GR: a scenario sheet has at most 200 columns"
    ]


def test_empty_extra_sheet_is_ignored_but_a_filled_one_is_reported(tmp_path: Path) -> None:
    sheets = {**copy.deepcopy(MINIMAL), "Sheet1": [], "README": [["anything", "=not read"]]}
    assert load_scenario(_book(tmp_path / "a.xlsx", sheets)).settings.name == "mini"
    sheets["Notes"] = [["my notes"]]
    assert _errors(_book(tmp_path / "b.xlsx", sheets)) == ["notes: unknown table `notes`"]


# --------------------------------------------------------------------------- CLI


def test_cli_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "t.xlsx"
    exe = shutil.which("symbiosim") or str(Path(sys.executable).parent / "symbiosim")
    command = [exe] if Path(exe).exists() else [sys.executable, "-m", "symbiosim.cli"]
    done = subprocess.run([*command, "template", str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    assert openpyxl.load_workbook(target).sheetnames[0] == "README"
    assert main(["template", str(target)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_text_excel_cannot_store_is_a_scenario_error(tmp_path: Path) -> None:
    rich = copy.deepcopy(RICH)
    rich["actors"][0]["description"] = "bell\x07"
    with pytest.raises(ScenarioError, match=r"actors\[row 2\]\.description: .*control character"):
        write_workbook(scenario_from_dict(rich), tmp_path / "x.xlsx")


def test_recipe_columns_in_processes_sheet_are_explained(tmp_path: Path) -> None:
    sheets = copy.deepcopy(MINIMAL)
    sheets["processes"] = [["id", "inputs"], ["boil", "wood: 1"]]
    errors = _errors(_book(tmp_path / "p.xlsx", sheets))
    assert errors == [
        "processes[row 1].inputs: recipes are not columns of processes: list them in the sheet recipes "
        "(process, product, direction, amount)"
    ]


def test_cli_template_force_overwrites(tmp_path: Path) -> None:
    from symbiosim.cli import main

    target = tmp_path / "t.xlsx"
    target.write_bytes(b"old")
    assert main(["template", str(target), "--force"]) == 0
    assert openpyxl.load_workbook(target).sheetnames[0] == "README"


def test_errors_in_a_workbook_name_the_sheet_row(tmp_path: Path) -> None:
    """Rows without an id (uncertainty) are named by their Excel row, not their list index."""
    from symbiosim.scenario.excel import write_workbook

    base = load_scenario(Path(__file__).parent / "data" / "invalid" / "_valid_base.yaml")
    path = write_workbook(base, tmp_path / "b.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["uncertainty"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("dist") + 1, value="poisson")
    wb.save(path)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert any(i.table == "uncertainty" and i.row == "row 2" and i.column == "dist" for i in err.value.issues)


# --------------------------------------------------------------------------- bounded reading

BOUND_S = 10.0  # generous: each case answers in well under a second


def _timed_errors(path: Path, **kwargs: Any) -> tuple[list[str], float]:
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    return [str(i) for i in info.value.issues], time.perf_counter() - start


def _with_member(book: Path, out: Path, name: str, size: int) -> Path:
    """``book`` plus one member of ``size`` zero bytes (deflated to a few hundred kB)."""
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        with dst.open(name, "w") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return out


def test_zip_bomb_workbook_is_refused_before_unzipping(tmp_path: Path) -> None:
    """A small .xlsx whose parts unzip to more than 10 x the size limit (160 MiB by default)."""
    path = _with_member(_book(tmp_path / "b.xlsx", MINIMAL), tmp_path / "bomb.xlsx", "xl/media/bomb.bin", 170 << 20)
    assert path.stat().st_size < 2_000_000
    errors, seconds = _timed_errors(path)
    assert seconds < BOUND_S
    (error,) = errors
    assert error.startswith("(file): the workbook's content (unzipped) is 178,")
    assert "more than the limit (10 x the file size limit) of 167,772,160 bytes" in error
    assert "--max-size" in error and "SYMBIOSIM_MAX_BYTES" in error


def test_the_unzipped_limit_follows_max_bytes(tmp_path: Path) -> None:
    path = _with_member(_book(tmp_path / "b.xlsx", MINIMAL), tmp_path / "pad.xlsx", "xl/media/pad.bin", 2 << 20)
    assert load_scenario(path).settings.name == "mini"  # a 2 MiB part is fine by default
    (error,) = _timed_errors(path, max_bytes=100_000)[0]
    assert "more than the limit (10 x the file size limit) of 1,000,000 bytes" in error


def test_xml_entity_bomb_in_a_sheet_is_refused(tmp_path: Path) -> None:
    """Billion laughs in a sheet's XML: expat refuses the amplification; never expanded."""
    book = _book(tmp_path / "b.xlsx", MINIMAL)
    entities = "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10))
    doctype = f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY l0 "lol">{entities}]>'
    path = tmp_path / "xml_bomb.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace(
                    "</sheetData>", '<row r="9"><c r="A9" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData>'
                )
                data = (doctype + text).encode()
            dst.writestr(info, data)
    errors, seconds = _timed_errors(path)
    assert seconds < BOUND_S
    assert len(errors) == 1 and "cannot read the file as an Excel workbook" in errors[0]


def test_a_50_mb_workbook_is_refused_by_size_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    with path.open("wb") as f:
        for _ in range(50):
            f.write(os.urandom(1_000_000))
    errors, seconds = _timed_errors(path)
    assert seconds < BOUND_S
    assert errors == [
        "(file): the file is 50,000,000 bytes, more than the limit of 16,777,216 bytes; if it is meant to be "
        "this large, raise the limit: --max-size (command line), load_scenario(..., max_bytes=...) or the "
        "environment variable SYMBIOSIM_MAX_BYTES (e.g. SYMBIOSIM_MAX_BYTES=256M)"
    ]
    (error,) = _timed_errors(path, max_bytes=60_000_000)[0]  # raised: now it is read, and is no workbook
    assert "cannot read the file as an Excel workbook" in error


def test_a_workbook_without_a_required_sheet_is_answered_before_its_cells_are_read(tmp_path: Path) -> None:
    sheets = copy.deepcopy(MINIMAL)
    del sheets["actor_processes"]
    sheets["products"].append(["=1+1", "t", "material"])  # a formula: only reported once the cells are read
    assert _errors(_book(tmp_path / "b.xlsx", sheets)) == ["actor_processes: required table is missing or empty"]


def test_read_workbook_requires_no_sheet_but_reads_within_the_size_limit(tmp_path: Path) -> None:
    sheets = copy.deepcopy(MINIMAL)
    del sheets["actor_processes"]
    path = _book(tmp_path / "b.xlsx", sheets)
    assert "actor_processes" not in read_workbook(path)
    with pytest.raises(ScenarioError, match="more than the limit of 100 bytes"):
        read_workbook(path, max_bytes=100)
