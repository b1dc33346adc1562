"""The bundled example cases file ``scenarios/orkanger_cases.yaml``: it loads, every case's
edits are valid against the Orkanger scenario, and (slow) ``symbiosim cases`` solves each."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from symbiosim.cli import main
from symbiosim.decide.cases import apply_cases, read_cases
from symbiosim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "orkanger.yaml"
CASES = ROOT / "scenarios" / "orkanger_cases.yaml"
NAMES = ["co2_price_2024", "co2_price_2030", "heat_pipe_subsidy", "high_energy_price", "smolt_entrant"]


def test_the_cases_file_loads_and_every_case_is_described() -> None:
    cases = read_cases(CASES)
    assert [c.name for c in cases] == NAMES
    assert all(c.description for c in cases)


def test_every_case_edits_the_orkanger_scenario_validly_without_solving() -> None:
    base = load_scenario(BASE)
    variants = apply_cases(base, read_cases(CASES))  # validated like a scenario file; raises on any bad case
    assert list(variants) == NAMES
    assert variants["co2_price_2024"].policies.carbon_price == 882
    assert variants["co2_price_2030"].policies.carbon_price == 2000
    assert variants["heat_pipe_subsidy"].policies.rate("investment_subsidy", "waste_heat") == pytest.approx(0.156)
    assert variants["heat_pipe_subsidy"].policies.rate("investment_subsidy", "quartz") == 0
    high = variants["high_energy_price"]
    price = {(p.actor, p.product): p.price for p in high.purchases}
    base_price = {(p.actor, p.product): p.price for p in base.purchases}
    assert price[("elkem", "electricity")] == pytest.approx(1.5 * base_price[("elkem", "electricity")])
    assert price[("orkland_dh", "fossil_gas")] == pytest.approx(1.5 * base_price[("orkland_dh", "fossil_gas")])
    assert [s.price for s in high.sales if s.product == "heat_sold"] == [867]
    smolt = variants["smolt_entrant"]
    assert "thamshavn_smolt" in {a.id for a in smolt.actors} and "thamshavn_smolt" not in {a.id for a in base.actors}
    assert any(link.to == "thamshavn_smolt" and link.product == "waste_heat" for link in smolt.links)


def test_every_number_of_the_cases_file_carries_a_source_tag() -> None:
    """As in the scenario file: each line that sets a number says where it comes from ([S], [D] or [E]),
    except recipe lines of 1 unit of output and the tags' own legend."""
    untagged = []
    for n, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        code = line.split("#", 1)[0]
        if re.match(r"\s*(- )?(name|description|sector):", code):
            continue  # text, not a number
        if not re.search(r":\s*-?\d", code) or re.search(r"\{?\w+: 1\.0\}?\s*$", code.strip().rstrip(",")):
            continue
        if not re.search(r"\[[SDE]\]|\[[SDE] ", line):
            untagged.append(f"line {n}: {line.strip()}")
    assert not untagged, "\n".join(untagged)


def test_the_case_file_example_of_the_format_doc_is_valid_against_orkanger() -> None:
    import yaml

    from symbiosim.decide.cases import parse_cases

    section = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8").split("## Case files", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "docs/scenario-format.md: no YAML example under 'Case files'"
    cases = parse_cases(yaml.safe_load(match.group(1)))
    assert set(apply_cases(load_scenario(BASE), cases)) <= set(NAMES)


@pytest.mark.slow
def test_symbiosim_cases_solves_every_bundled_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["cases", str(BASE), "--cases", str(CASES), "--no-store", "--json", "--out", str(out), "--format", "xlsx"])
    assert code == 0
    obj = json.loads(capsys.readouterr().out)
    rows = {r["case_id"]: r for r in obj["comparison"]}
    assert list(rows) == ["base", *NAMES]
    assert all(r["status"] == "optimal" for r in rows.values())
    # a CO2 price raises money from the cluster's emissions: the public cost is negative, more so at 2 000
    assert rows["co2_price_2030"]["public_cost"] < rows["co2_price_2024"]["public_cost"] < 0
    assert rows["co2_price_2030"]["cluster_profit"] < rows["co2_price_2024"]["cluster_profit"] < rows["base"]["cluster_profit"]
    # the entrant adds value added and jobs in Orkland
    assert rows["smolt_entrant"]["value_added_regional"] > rows["base"]["value_added_regional"]
    book = openpyxl.load_workbook(out / "cases.xlsx", read_only=True)
    assert book.sheetnames == ["about", "comparison", "distribution", "key_figures"]
