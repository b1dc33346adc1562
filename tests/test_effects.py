"""Ripple effects of actors: direct figures from the accounts, indirect and induced by the sector's ratio multipliers."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from symbiosim.ripple.effects import nace_code, ripple_effects
from symbiosim.ripple.iotable import io_table_from_dict
from symbiosim.ripple.multipliers import RegionTotals
from tests.tiny import HEAT_LINK, build

# Miller & Blair's two sectors (as in docs/scenario-format.md), named by NACE code, with households.
TABLE = {
    "name": "two_sectors", "currency": "NOK", "unit": 1,
    "sectors": ["C24_metals", "D35_energy"],
    "intermediate": [[150, 500], [200, 100]],
    "output": [1000, 2000],
    "value_added": [650, 1400],
    "employment": [10, 30],
    "households": {"wages": [300, 700], "consumption": [100, 400]},
}


def _files(tmp_path, raw):  # type: ignore[no-untyped-def]
    """The scenario ``raw`` (validated) and the two-sector table as files: (scenario path, table path)."""
    import yaml

    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(build(raw).model_dump(by_alias=True, exclude_none=True, mode="json")))
    io = tmp_path / "io.yaml"
    io.write_text(yaml.safe_dump(TABLE))
    return scen, io


def scenario():
    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"][0]["sector"] = "C24 silicon smelting"
    raw["actors"][1]["sector"] = "A01.1 greenhouse vegetables"  # no sector of the table takes A01
    return build(raw)


def test_effects_scale_the_direct_figures_by_the_sectors_ratio_multipliers():
    """A = [[.15, .25], [.2, .05]], L = [[1.2541, .3300], [.2640, 1.1221]] (Miller & Blair).
    C24: v = 650/1000 = .65; value-added multiplier m = .65 x 1.2541 + .70 x .2640 = .99994 (= 1: every
    unit of final demand ends as value added, the table has no imports); ratio m / v = 1.5384.
    An actor of C24 with direct value added 100 has indirect 100 x (1.5384 - 1) = 53.84.
    Jobs: e = (.01, .015); m_E = .01 x 1.2541 + .015 x .2640 = .016502; ratio 1.6502; direct 10 jobs -> indirect 6.502."""
    table = io_table_from_dict(TABLE)
    actors = pd.DataFrame({"actor": ["smelter", "greenhouse"], "value_added": [100.0, 40.0], "jobs": [10.0, 2.0]})
    fx = ripple_effects(scenario(), actors, table)
    smelter = fx.actors.set_index("actor").loc["smelter"]
    assert smelter.io_sector == "C24_metals"
    assert smelter.value_added_direct == 100.0  # the accounts' own figure stays the direct one
    assert smelter.value_added_indirect_national == pytest.approx(100 * (0.99994 / 0.65 - 1), rel=1e-3)
    assert smelter.jobs_indirect_national == pytest.approx(10 * (0.016502 / 0.01 - 1), rel=1e-3)
    assert smelter.value_added_induced_national > 0 and smelter.jobs_induced_national > 0  # households spend wages
    greenhouse = fx.actors.set_index("actor").loc["greenhouse"]
    assert pd.isna(greenhouse.io_sector) and math.isnan(greenhouse.value_added_indirect_national)
    assert any("greenhouse (A01.1)" in n for n in fx.notes)
    assert math.isnan(smelter.value_added_indirect_regional) and any("regional" in n for n in fx.notes)
    assert fx.totals["value_added_direct"] == 140.0


def test_regional_effects_are_smaller_than_national_ones():
    """A region with a small energy sector buys less of its energy locally (FLQ < 1): the regional
    indirect effects are at most the national ones, and at least 0."""
    table = io_table_from_dict(TABLE)
    region = RegionTotals("north", "employment", {"C24_metals": 5.0, "D35_energy": 1.0})
    actors = pd.DataFrame({"actor": ["smelter"], "value_added": [100.0], "jobs": [10.0]})
    row = ripple_effects(scenario(), actors, table, region=region).actors.iloc[0]
    assert 0 <= row.value_added_indirect_regional < row.value_added_indirect_national
    assert 0 <= row.jobs_indirect_regional < row.jobs_indirect_national


def test_without_households_there_is_no_induced_effect():
    raw = {k: v for k, v in TABLE.items() if k != "households"}
    actors = pd.DataFrame({"actor": ["smelter"], "value_added": [100.0], "jobs": [10.0]})
    fx = ripple_effects(scenario(), actors, io_table_from_dict(raw))
    assert math.isnan(fx.actors.iloc[0].value_added_induced_national) and any("households" in n for n in fx.notes)
    assert np.isfinite(fx.actors.iloc[0].value_added_indirect_national)


def test_nace_code_is_the_first_word():
    assert nace_code("C24 basic metals (silicon)") == "C24" and nace_code("") == "" and nace_code("  D35.2 gas") == "D35.2"


def test_plan_reports_the_effects_with_io_table(tmp_path):
    """``plan --io-table``: the JSON gains ``effects`` whose direct value added per actor is the accounts' own;
    ``--delta`` without ``--region-totals`` is an argument error (exit 2, nothing solved)."""
    import json
    import subprocess
    import sys
    from pathlib import Path


    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"][0]["sector"] = "C24 silicon smelting"
    scen, io = _files(tmp_path, raw)
    exe = str(Path(sys.executable).parent / "symbiosim")
    done = subprocess.run([exe, "plan", str(scen), "--io-table", str(io), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)
    by_actor = {a["actor"]: a for a in obj["effects"]["actors"]}
    assert by_actor["smelter"]["io_sector"] == "C24_metals"
    from symbiosim.runs import run_plan

    own = run_plan(build(raw)).accounts.actors.set_index("actor").value_added
    assert by_actor["smelter"]["value_added_direct"] == pytest.approx(own["smelter"])
    assert obj["effects"]["totals"]["value_added_direct"] == pytest.approx(own.sum())
    bad = subprocess.run([exe, "plan", str(scen), "--io-table", str(io), "--delta", "0.2"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--delta" in bad.stderr


def test_compare_reports_the_effects_of_each_outcome_and_a_bad_table_stops_before_any_solve(tmp_path, monkeypatch, capsys):
    """``compare --io-table``: effects for baseline, decentralised and optimum, each with the direct value added
    of that outcome's accounts. A broken table is a located error (exit 2) before the planner runs."""
    import json

    import yaml

    from symbiosim import cli
    from symbiosim.planner import PlannerModel

    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"][0]["sector"] = "C24 silicon smelting"
    raw["actors"][1]["sector"] = "D35 heat"
    scen, io = _files(tmp_path, raw)
    assert cli.main(["compare", str(scen), "--seed", "0", "--no-decomposition", "--io-table", str(io), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert set(obj["effects"]) == {"baseline", "decentralised", "optimum"}
    for src in ("baseline", "optimum"):
        assert obj["effects"][src]["totals"]["value_added_direct"] == pytest.approx(obj[src]["value_added"])
    broken = dict(TABLE, output=[1000, -5])
    io.write_text(yaml.safe_dump(broken))

    def no_solve(*a, **k):
        raise AssertionError("solved before the table was checked")

    monkeypatch.setattr(PlannerModel, "solve", no_solve)
    assert cli.main(["compare", str(scen), "--io-table", str(io)]) == 2
    assert "output[D35_energy]" in capsys.readouterr().err


def test_effects_total_scales_the_objective_not_the_accounts():
    """``--effects total`` maximises value added with each actor's indirect and induced effects: with both
    actors in C24, every unit of value added counts m^II / v times (one number r > 1 for the whole cluster),
    so the optimum keeps its decisions, its objective is r times the direct one, and the accounts, valued
    with the scenario as given, keep the direct figures."""
    from symbiosim.ripple.effects import total_ratios, weighted_for_totals
    from symbiosim.runs import run_plan

    raw = copy.deepcopy(HEAT_LINK)
    for a in raw["actors"]:
        a["sector"] = "C24 metals"
    raw["actor_processes"][0]["value_added_per_unit"] = 500.0  # smelt
    raw["actor_processes"][3]["value_added_per_unit"] = 20.0  # grow
    raw["actor_processes"][3]["jobs_per_unit"] = 0.1
    s = build(raw)
    table = io_table_from_dict(TABLE)
    ratios = total_ratios(s, table)
    r = ratios["smelter"]["value_added"]
    assert r > 1 and ratios["greenhouse"]["value_added"] == r
    weighted = weighted_for_totals(s, ratios)
    assert weighted.actor_processes[0].value_added_per_unit == pytest.approx(500.0 * r)
    assert weighted.actor_processes[3].jobs_per_unit == pytest.approx(0.1 * ratios["greenhouse"]["jobs"])
    direct = run_plan(s, "value_added")
    total = run_plan(s, "value_added", objective_scenario=weighted)
    assert total.plan.meta["objective_value"] == pytest.approx(r * direct.plan.meta["objective_value"], rel=1e-6)
    assert total.accounts.kpis["value_added"] == pytest.approx(direct.accounts.kpis["value_added"], rel=1e-6)
    assert set(total.plan.builds.itertuples(index=False)) == set(direct.plan.builds.itertuples(index=False))


def test_effects_total_needs_a_table_and_a_value_added_or_jobs_objective(tmp_path, capsys):
    import yaml

    from symbiosim import cli

    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(build(copy.deepcopy(HEAT_LINK)).model_dump(by_alias=True, exclude_none=True, mode="json")))
    assert cli.main(["plan", str(scen), "--objective", "value_added", "--effects", "total"]) == 2
    io = tmp_path / "io.yaml"
    io.write_text(yaml.safe_dump(TABLE))
    assert cli.main(["plan", str(scen), "--effects", "total", "--io-table", str(io)]) == 2  # objective cluster_npv
    assert "--effects" in capsys.readouterr().err


def test_simulate_reports_the_effects_of_the_decentralised_outcome(tmp_path, monkeypatch, capsys):
    """``simulate --io-table``: the effects' direct value added and jobs are the simulated plan's own key figures,
    and the smelter's indirect value added is its direct one times (m_I / v - 1) of its sector; a broken table
    is a located error (exit 2) before the simulator runs."""
    import json

    import yaml

    from symbiosim import cli
    from symbiosim.ripple.iotable import io_table_from_dict
    from symbiosim.ripple.multipliers import multipliers

    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"][0]["sector"] = "C24 silicon smelting"
    for row in raw["actor_processes"]:
        row.update(value_added_per_unit=3.0, jobs_per_unit=0.01)
    scen, io = _files(tmp_path, raw)
    assert cli.main(["simulate", str(scen), "--seed", "0", "--io-table", str(io), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    fx = obj["effects"]
    assert fx["totals"]["value_added_direct"] == pytest.approx(obj["kpis"]["value_added"])
    assert fx["totals"]["jobs_direct"] == pytest.approx(obj["kpis"]["jobs"])
    smelter = next(a for a in fx["actors"] if a["actor"] == "smelter")
    m = multipliers(io_table_from_dict(TABLE), "I")
    ratio = m.value_added[0] / (650 / 1000)  # C24_metals: type I value-added multiplier over direct coefficient
    assert smelter["value_added_direct"] > 0
    assert smelter["value_added_indirect_national"] == pytest.approx(smelter["value_added_direct"] * (ratio - 1))
    assert cli.main(["simulate", str(scen), "--io-table", str(io)]) == 0
    assert "Ripple effects (input-output table two_sectors)" in capsys.readouterr().out

    io.write_text(yaml.safe_dump(dict(TABLE, output=[1000, -5])))

    def no_run(*a, **k):
        raise AssertionError("simulated before the table was checked")

    monkeypatch.setattr("symbiosim.runs.run_simulation", no_run)
    assert cli.main(["simulate", str(scen), "--io-table", str(io)]) == 2
    assert "output[D35_energy]" in capsys.readouterr().err


# ------------------------------------------------------------------ indirect effects from an actor's own ledgers


def _own(rows):
    return pd.DataFrame([{"actor": "smelter", "year": 2023, "io_sector": s, "in_cluster": c, "coefficient": a}
                         for s, c, a in rows])


@pytest.mark.parametrize("with_region", [False, True])
def test_own_inputs_equal_to_the_sectors_column_give_the_sectors_effects(with_region):
    """m_s = v_s + sum_i A_is m_i, so an actor that buys exactly its sector's column of A (C24: .15 from C24,
    .2 from D35; none from the cluster, so regionally q = FLQ) has the sector-average indirect effects."""
    table = io_table_from_dict(TABLE)
    region = RegionTotals("north", "employment", {"C24_metals": 5.0, "D35_energy": 1.0}) if with_region else None
    actors = pd.DataFrame({"actor": ["smelter"], "value_added": [100.0], "jobs": [10.0]})
    by_sector = ripple_effects(scenario(), actors, table, region=region).actors.iloc[0]
    own = ripple_effects(scenario(), actors, table, region=region,
                         own=_own([("C24_metals", False, 0.15), ("D35_energy", False, 0.2)])).actors.iloc[0]
    assert own.basis == "own ledgers 2023" and by_sector.basis == "sector average"
    scopes = ["national", "regional"] if with_region else ["national"]
    for column in [f"{m}_{p}_{s}" for m in ("value_added", "jobs") for p in ("indirect", "induced") for s in scopes]:
        assert own[column] == pytest.approx(by_sector[column], rel=1e-9), column


def test_own_inputs_by_hand_imports_leak_and_the_cluster_is_regional():
    """The smelter (C24, v = .65, e = .01) buys .1 per unit of sales from the cluster's D35 actor and .3 abroad.
    Nationally: indirect value added = 100 x .1 x m_D35 / .65, with m_D35 = .65 x .3300 + .70 x 1.1221 = 1.0000
    (Miller & Blair's L), = 15.38; jobs 10 x .1 x (.01 x .3300 + .015 x 1.1221) / .01 = 2.0132. Imports
    create nothing. Regionally the cluster purchase counts whole (q = 1) at the regional multiplier."""
    from symbiosim.ripple.multipliers import multipliers

    table = io_table_from_dict(TABLE)
    region = RegionTotals("north", "employment", {"C24_metals": 5.0, "D35_energy": 1.0})
    actors = pd.DataFrame({"actor": ["smelter"], "value_added": [100.0], "jobs": [10.0]})
    own = _own([("D35_energy", True, 0.1), ("foreign", False, 0.3)])
    row = ripple_effects(scenario(), actors, table, region=region, own=own).actors.iloc[0]
    assert row.value_added_indirect_national == pytest.approx(100 * 0.1 * 1.0000 / 0.65, rel=1e-3)
    assert row.jobs_indirect_national == pytest.approx(10 * 0.1 * (0.01 * 0.3300 + 0.015 * 1.1221) / 0.01, rel=1e-3)
    m_r = multipliers(table, "I", region=region).value_added[1]
    assert row.value_added_indirect_regional == pytest.approx(100 * 0.1 * m_r / 0.65)
    # the same purchase from outside the cluster is regional only in FLQ's share of it
    outside = ripple_effects(scenario(), actors, table, region=region,
                             own=_own([("D35_energy", False, 0.1)])).actors.iloc[0]
    assert outside.value_added_indirect_regional < row.value_added_indirect_regional
    assert outside.value_added_indirect_national == pytest.approx(row.value_added_indirect_national)


def test_own_inputs_are_purchases_per_unit_of_sales_from_the_latest_year_with_both_ledgers():
    """A: 2022 sales 1000, purchases 100 (C24) + 50 (from actor B, D35); 2023 sales 2000, purchases 300 (C24)
    -> 2023: C24 .15. With year=2022: C24 .1, D35 .05 in the cluster. B has only a supplier ledger: left out."""
    from symbiosim.ripple.ledgers import own_inputs

    def row(firm, kind, sector, year, amount, other=""):
        return {"firm_actor": firm, "kind": kind, "counterpart_actor": other, "counterpart_sector": sector,
                "year": year, "amount": amount}

    cleaned = pd.DataFrame([row("A", "customer", "G46", 2022, 1000.0), row("A", "supplier", "C24.1", 2022, 100.0),
                            row("A", "supplier", "D35", 2022, 50.0, other="B"),
                            row("A", "customer", "G46", 2023, 2000.0), row("A", "supplier", "C24", 2023, 300.0),
                            row("B", "supplier", "C24", 2023, 10.0)])
    sectors = ("C24_metals", "D35_energy")
    latest, notes = own_inputs(cleaned, sectors)
    assert latest.to_dict("records") == [{"actor": "A", "year": 2023, "io_sector": "C24_metals", "in_cluster": False,
                                          "coefficient": 0.15}]
    assert any("B" in n for n in notes)
    early, _ = own_inputs(cleaned, sectors, year=2022)
    got = {(r["io_sector"], r["in_cluster"]): r["coefficient"] for r in early.to_dict("records")}
    assert got == {("C24_metals", False): pytest.approx(0.1), ("D35_energy", True): pytest.approx(0.05)}


def test_read_cleaned_takes_only_the_ledger_database(tmp_path):
    """The file of ``ledgers --db`` is read; a non-DuckDB file, a view in place of the table and a missing
    column are refused with the table and column named."""
    import duckdb

    from symbiosim.ripple.ledgers import LedgerError, read_cleaned

    good = tmp_path / "l.duckdb"
    con = duckdb.connect(str(good))
    con.execute("create table ledger_clean as select 'a' as firm_actor, 'supplier' as kind, '' as counterpart_actor, "
                "'C24' as counterpart_sector, 2023 as year, 10.0 as amount")
    con.close()
    assert read_cleaned(good)["amount"].tolist() == [10.0]
    (tmp_path / "x.duckdb").write_text("not a database")
    with pytest.raises(LedgerError, match="not a DuckDB database"):
        read_cleaned(tmp_path / "x.duckdb")
    view = tmp_path / "v.duckdb"
    con = duckdb.connect(str(view))
    con.execute("create view ledger_clean as select 1 as firm_actor")
    con.close()
    with pytest.raises(LedgerError, match="is a view, not a table"):
        read_cleaned(view)
    short = tmp_path / "s.duckdb"
    con = duckdb.connect(str(short))
    con.execute("create table ledger_clean as select 'a' as firm_actor")
    con.close()
    with pytest.raises(LedgerError) as info:
        read_cleaned(short)
    assert "ledger_clean" in str(info.value) and "kind" in str(info.value)


def test_plan_with_the_bundled_ledgers_takes_own_inputs_and_ledgers_need_a_table(tmp_path, capsys):
    """Orkanger with the illustrative table and ledgers: the actors with both ledgers (Elkem, Norsk Kylling, ...)
    get their indirect effects from their own purchases, the rest from their sector; --ledgers alone is an
    argument error (exit 2) before anything is solved."""
    import json
    from pathlib import Path

    from symbiosim import cli

    root = Path(__file__).parents[1]
    led = root / "scenarios" / "ledgers"
    db = tmp_path / "l.duckdb"
    files = [str(p) for p in sorted(led.glob("*.csv")) if p.name not in ("actors.csv", "sectors.csv")]
    assert cli.main(["ledgers", *files, "--scenario", str(root / "scenarios" / "orkanger.yaml"), "--map-actors",
                     str(led / "actors.csv"), "--map-sectors", str(led / "sectors.csv"), "--db", str(db), "--json"]) == 0
    capsys.readouterr()
    io = root / "scenarios" / "io" / "orkland_illustrative.yaml"
    assert cli.main(["plan", str(root / "scenarios" / "orkanger.yaml"), "--io-table", str(io), "--ledgers", str(db),
                     "--json"]) == 0
    fx = json.loads(capsys.readouterr().out)["effects"]
    basis = {a["actor"]: a["basis"] for a in fx["actors"]}
    assert basis["elkem"].startswith("own ledgers") and basis["furumoen_feed"] == "sector average"
    assert any("own purchases" in n for n in fx["notes"])
    assert cli.main(["plan", str(root / "scenarios" / "orkanger.yaml"), "--ledgers", str(db)]) == 2
    assert "--ledgers: only with --io-table" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_out_writes_the_effects_table(tmp_path, capsys, fmt):
    """``--out`` with ``--io-table`` writes the per-actor effects as a table (``effects.csv``; ``xlsx``: a sheet of
    the command's workbook), the same rows as the JSON; ``compare`` one row per actor and outcome."""
    import json

    import openpyxl

    from symbiosim import cli

    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"][0]["sector"] = "C24 silicon smelting"
    scen, io = _files(tmp_path, raw)
    for command, extra in (("plan", []), ("simulate", []), ("compare", ["--no-decomposition"])):
        out = tmp_path / f"{command}_{fmt}"
        assert cli.main([command, str(scen), *extra, "--io-table", str(io), "--json", "--out", str(out), "--format", fmt]) == 0
        obj = json.loads(capsys.readouterr().out)
        if fmt == "csv":
            table = pd.read_csv(out / "effects.csv")
        else:
            sheet = openpyxl.load_workbook(out / f"{command}.xlsx")["effects"]
            rows = list(sheet.values)
            table = pd.DataFrame(rows[1:], columns=rows[0])
        if command == "compare":
            assert set(table.outcome) == {"baseline", "decentralised", "optimum"}
            mine = table[table.outcome == "optimum"]
            assert mine.value_added_direct.sum() == pytest.approx(obj["effects"]["optimum"]["totals"]["value_added_direct"])
        else:
            assert list(table.actor) == [a["actor"] for a in obj["effects"]["actors"]]
            assert table.value_added_direct.sum() == pytest.approx(obj["effects"]["totals"]["value_added_direct"])
