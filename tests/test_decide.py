"""Decision support beyond the single optimum (issue 6): answers known by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from symbiosim.decide import alternatives, apply_case, pareto, read_cases, robustness, run_cases, write_store
from symbiosim.planner import optimise
from symbiosim.scenario import scenario_from_dict
from symbiosim.store import ResultsStore
from tests.tiny import HEAT_LINK


def two_smelters() -> Any:
    """HEAT_LINK with a second, identical smelter and pipe: the greenhouse needs
    80 MWh and either pipe (cost 1000) carries it, so the optimum (NPV -1000)
    builds one of them and an equally good alternative builds the other."""
    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"].append({"id": "smelter2", "lat": 63.3, "lon": 9.86, "region": "north"})
    raw["actor_processes"].append({"actor": "smelter2", "process": "smelt", "fixed_activity": 1})
    raw["links"].append({"from": "smelter2", "to": "greenhouse", "product": "heat", "build_cost": 1000, "capacity": 100})
    return scenario_from_dict(raw)


def test_alternatives_return_both_equally_good_links() -> None:
    result = alternatives(two_smelters(), slack=0.0, count=3)
    links = [set(d for d in result.decisions.query("plan == @p and chosen").decision if d.startswith("link:")) for p in result.plans]
    assert {"link:smelter->greenhouse:heat"} in links and {"link:smelter2->greenhouse:heat"} in links
    assert result.kpis.objective_value.tolist()[:2] == pytest.approx([-1000.0, -1000.0])
    assert result.kpis.cluster_npv.tolist()[:2] == pytest.approx([-1000.0, -1000.0])
    # exactly two distinct plans exist within zero slack: the loop stops
    assert len(result.plans) == 2 and "no further distinct plan" in result.meta["stopped"]
    assert not result.summary.robust.any()
    row = result.kpis.iloc[1]
    assert row.distance_to_optimum == 4 and row.common == 0


def test_alternatives_flag_robust_decisions() -> None:
    """With one pipe only, every plan within 5 % builds it: robust."""
    result = alternatives(scenario_from_dict(HEAT_LINK), slack=0.05, count=2)
    robust = set(result.summary.loc[result.summary.robust, "decision"])
    assert "link:smelter->greenhouse:heat" in robust


KINK = {
    "settings": {"name": "kink", "years": 1, "periods_per_year": 1, "discount_rate": 0.0},
    "products": [{"id": x, "unit": "MWh", "kind": "energy"} for x in ("gas", "wood", "power", "warmth")],
    "actors": [{"id": "greenhouse"}],
    "processes": [
        {"id": "boil_gas", "inputs": {"gas": 1}, "outputs": {"warmth": 1}},
        {"id": "boil_wood", "inputs": {"wood": 1}, "outputs": {"warmth": 1}},
        {"id": "heat_pump", "inputs": {"power": 1}, "outputs": {"warmth": 1}},
        {"id": "grow", "inputs": {"warmth": 1}},
    ],
    "actor_processes": [
        *({"actor": "greenhouse", "process": p} for p in ("boil_gas", "boil_wood", "heat_pump")),
        {"actor": "greenhouse", "process": "grow", "fixed_activity": 80},
    ],
    "purchases": [
        {"actor": "greenhouse", "product": "gas", "price": 50, "emissions_per_unit": 0.2},
        {"actor": "greenhouse", "product": "wood", "price": 60, "emissions_per_unit": 0.05},
        {"actor": "greenhouse", "product": "power", "price": 100},
    ],
}


def test_pareto_front_has_the_kink() -> None:
    """80 MWh of warmth from gas (50/MWh, 0.2 t/MWh), wood (60, 0.05) or power (100, 0).
    All gas: NPV -4000, 16 t. Gas -> wood abates at 10 / 0.15 = 66.7 per t down to
    all wood (4 t, NPV -4800); wood -> power then at 40 / 0.05 = 800 per t down to
    0 t (NPV -8000). So NPV(E) = -4000 - 66.7 (16 - E) for E in [4, 16] and
    -4800 - 800 (4 - E) below: a kink at (4 t, -4800). Five points put eps at 12, 8, 4."""
    front = pareto(scenario_from_dict(KINK), "cluster_npv,emissions", points=5)
    e = front.points.emissions.to_numpy()
    v = front.points.cluster_npv.to_numpy()
    assert e == pytest.approx([16, 12, 8, 4, 0], abs=1e-3)
    assert v == pytest.approx([-4000, -4000 - 4 * 200 / 3, -4000 - 8 * 200 / 3, -4800, -8000], rel=1e-5)
    slopes = [(v[i + 1] - v[i]) / (e[i] - e[i + 1]) for i in range(4)]
    assert slopes[:3] == pytest.approx([-200 / 3] * 3, rel=1e-4)
    assert slopes[3] == pytest.approx(-800, rel=1e-4)
    assert len(front.plans) == 5 and all(p.meta["status"] == "optimal" for p in front.plans.values())


CASES = """
cases:
  - name: dryer
    description: a fictive buyer of waste heat and dearer gas
    add:
      actors: [{id: dryer, exists: false, lat: 63.3, lon: 9.86, entry_cost: 500}]
      processes: [{id: dry, inputs: {heat: 1}, outputs: {dried: 1}}]
      products: [{id: dried, unit: t, kind: material}]
      actor_processes: [{actor: dryer, process: dry, exists: false, capacity: 20}]
      sales: [{actor: dryer, product: dried, price: 40}]
      links: [{from: smelter, to: dryer, product: heat, build_cost: 100, capacity: 100}]
    set:
      - {target: "purchases[product=gas].price", value: 60}
  - name: subsidy
    policies: {investment_subsidy: 0.5}
"""


def test_cases_match_the_edited_scenario(tmp_path: Any) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES)
    base = scenario_from_dict(HEAT_LINK)
    cases = read_cases(path)
    result = run_cases(base, cases)
    # the same edit by hand
    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"].append({"id": "dryer", "exists": False, "lat": 63.3, "lon": 9.86, "entry_cost": 500})
    raw["processes"].append({"id": "dry", "inputs": {"heat": 1}, "outputs": {"dried": 1}})
    raw["products"].append({"id": "dried", "unit": "t", "kind": "material"})
    raw["actor_processes"].append({"actor": "dryer", "process": "dry", "exists": False, "capacity": 20})
    raw["sales"] = [{"actor": "dryer", "product": "dried", "price": 40}]
    raw["links"].append({"from": "smelter", "to": "dryer", "product": "heat", "build_cost": 100, "capacity": 100})
    raw["purchases"][0]["price"] = 60
    direct = optimise(scenario_from_dict(raw))
    comp = result.comparison.set_index("case_id")
    assert comp.loc["dryer", "cluster_profit"] == pytest.approx(direct.meta["objective_value"])
    # by hand: pipe 1000 + gas 0; dryer: 20 t/yr x 40 x 2 yr = 1600 - entry 500 - pipe 100 -> -1000 + 1000 = 0
    assert comp.loc["dryer", "cluster_profit"] == pytest.approx(0.0)
    assert comp.loc["base", "cluster_profit"] == pytest.approx(-1000.0)
    assert comp.loc["subsidy", "cluster_profit"] == pytest.approx(-500.0)
    assert comp.loc["base", "value_added_regional"] == 0.0
    d = result.distribution
    sent = d[(d.case_id == "dryer") & (d.receiver == "dryer")]
    assert sent.quantity.sum() == pytest.approx(40.0)
    market = d[(d.case_id == "dryer") & (d.channel == "market")]
    assert market.income.sum() == pytest.approx(1600.0)
    store_path = tmp_path / "cases.duckdb"
    run_id = write_store(result, store_path)
    with ResultsStore(store_path, read_only=True) as store:
        assert {"case_comparison", "case_distribution", "case_key_figures"} <= set(store.tables())
        assert len(store.read("case_comparison", "run_id = ?", [run_id])) == 3


def test_case_errors_name_the_case() -> None:
    from symbiosim.decide.cases import parse_cases
    from symbiosim.errors import ScenarioError

    base = scenario_from_dict(HEAT_LINK)
    bad = parse_cases({"cases": [{"name": "oops", "set": [{"target": "purchases[product=coal].price", "value": 1}]}]})
    with pytest.raises(ScenarioError, match="case oops"):
        apply_case(base, bad[0])
    neg = parse_cases({"cases": [{"name": "neg", "set": [{"target": "purchases[product=gas].price", "value": -5}]}]})
    with pytest.raises(ScenarioError, match="case neg.*price"):
        apply_case(base, neg[0])
    with pytest.raises(ScenarioError):
        parse_cases({"cases": [{"name": "x", "exec": "rm -rf"}]})


def knife_edge() -> Any:
    """HEAT_LINK plus a second greenhouse needing 20 MWh/yr; a pipe to it saves
    20 x 50 x 2 years = 2000 of gas and costs 1995: chosen by 5 (0.25 %), so 1 %
    noise on the gas price and the pipe's cost flips it. The first pipe saves
    8000 for 1000 and never flips."""
    raw = copy.deepcopy(HEAT_LINK)
    raw["products"][2]["needs_link"] = True  # warmth is not trucked between greenhouses
    raw["actors"].append({"id": "greenhouse2", "lat": 63.3, "lon": 9.86})
    raw["actor_processes"] += [
        {"actor": "greenhouse2", "process": "boil"},
        {"actor": "greenhouse2", "process": "recv"},
        {"actor": "greenhouse2", "process": "grow", "fixed_activity": 20},
    ]
    raw["purchases"].append({"actor": "greenhouse2", "product": "gas", "price": 50})
    raw["links"].append({"from": "smelter", "to": "greenhouse2", "product": "heat", "build_cost": 1995, "capacity": 100})
    return scenario_from_dict(raw)


def test_robustness_separates_knife_edge_from_robust() -> None:
    result = robustness(knife_edge(), 0.01, samples=30, seed=3)
    d = result.decisions.set_index("decision")
    assert d.loc["link:smelter->greenhouse:heat", "share_kept"] == 1.0
    edge = d.loc["link:smelter->greenhouse2:heat"]
    assert edge.in_reference and 0.1 < edge.share_kept < 0.9
    assert result.meta["solved"] == 30
    k = result.kpis.set_index("key_figure")
    assert k.loc["cluster_npv", "reference"] == pytest.approx(-2995.0)  # pipe 1000 + pipe 1995
    assert k.loc["cluster_npv", "sd"] > 0
    again = robustness(knife_edge(), 0.01, samples=30, seed=3)
    assert again.decisions.equals(result.decisions)


def test_cli_commands_json_and_out(tmp_path: Any, capsys: Any) -> None:
    import json

    import yaml

    from symbiosim.cli import main

    scen = tmp_path / "kink.yaml"
    scen.write_text(yaml.safe_dump(KINK))
    assert main(["pareto", str(scen), "--points", "3", "--json", "--out", str(tmp_path / "p")]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert [round(p["emissions"], 3) for p in obj["points"]] == [16.0, 8.0, 0.0]
    assert (tmp_path / "p" / "pareto.png").is_file()
    assert main(["alternatives", str(scen), "--count", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["optimum"] == pytest.approx(-4000)
    # weighted NPV - 100/t: gas -> wood abates at 66.7/t (worth it), wood -> power at 800/t (not):
    # all wood, NPV -4800 and 4 t, weighted -4800 - 400 = -5200
    assert main(["alternatives", str(scen), "--objective", "weighted", "--weights", "cluster_npv=1,emissions=-100",
                 "--count", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["optimum"] == pytest.approx(-5200)
    assert main(["robustness", str(scen), "--samples", "2", "--json", "--out", str(tmp_path / "r")]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["solved"] == 2
    cases = tmp_path / "c.yaml"
    cases.write_text("cases: [{name: dear, set: [{target: 'purchases[product=gas].price', value: 70}]}]\n")
    store = tmp_path / "s.duckdb"
    assert main(["cases", str(scen), "--cases", str(cases), "--store", str(store), "--json"]) == 0
    rows = {r["case_id"]: r for r in json.loads(capsys.readouterr().out)["comparison"]}
    assert rows["dear"]["cluster_profit"] == pytest.approx(-4800)  # wood (60) beats gas at 70
    cases.write_text("cases: [{name: bad, set: [{target: 'purchases[product=coal].price', value: 70}]}]\n")
    assert main(["cases", str(scen), "--cases", str(cases), "--no-store"]) == 2
    assert "case bad" in capsys.readouterr().err


def test_pareto_of_key_figures_that_are_constant_in_the_scenario():
    """The heat link has no value added or jobs per unit: both key figures are 0 in every plan,
    so the front is one point repeated (bounds on a constant used to crash Pyomo)."""
    front = pareto(scenario_from_dict(HEAT_LINK), "jobs,value_added", points=3)
    assert len(front.points) == 3
    assert (front.points["jobs"] == 0).all() and (front.points["value_added"] == 0).all()


def test_summaries_print_money_in_the_scenarios_currency_without_scientific_notation(tmp_path: Any, capsys: Any) -> None:
    """KINK with every price x 1e6 and the currency EUR: the NPVs are -4e9 (all gas), -4.533e9
    (eps 8 t) and -8e9 (no emissions). Every summary names M EUR, prints -4,533 and never 4e+09."""
    import re

    import yaml

    from symbiosim.cli import main
    from tests.test_numbers import NEGATIVE_ZERO, SCIENTIFIC

    raw = copy.deepcopy(KINK)
    raw["settings"]["currency"] = "EUR"
    for p in raw["purchases"]:
        p["price"] *= 1e6
    scen = tmp_path / "big.yaml"
    scen.write_text(yaml.safe_dump(raw))
    cases = tmp_path / "c.yaml"
    cases.write_text("cases: [{name: dear, set: [{target: 'purchases[product=gas].price', value: 7.0e7}]}]\n")
    outputs = {}
    for argv in (["pareto", str(scen), "--points", "3"], ["alternatives", str(scen), "--count", "1"],
                 ["robustness", str(scen), "--samples", "2"], ["cases", str(scen), "--cases", str(cases), "--no-store"]):
        assert main(argv) == 0
        outputs[argv[0]] = out = capsys.readouterr().out
        assert "M EUR" in out, out
        assert not SCIENTIFIC.search(out) and not NEGATIVE_ZERO.search(out), out
        assert "NOK" not in out
    rows = {line.split()[0]: line.split() for line in outputs["pareto"].splitlines()[1:]}
    assert rows["p0"][:3] == ["p0", "-4,000", "16.0"]
    assert rows["p1"][:3] == ["p1", "-4,533", "8.0"]
    assert rows["p2"][:3] == ["p2", "-8,000", "0"]
    assert re.search(r"cluster_profit\s+M EUR\s+-4,000\s+-4,800", outputs["cases"]), outputs["cases"]
    assert re.search(r"optimum\s+-4,000\s+100\.0", outputs["alternatives"]), outputs["alternatives"]
    assert re.search(r"cluster_npv\s+M EUR\s+-4,000", outputs["robustness"]), outputs["robustness"]


def test_alternatives_summary_by_hand() -> None:
    """A made-up result: 4.991e9 / 4.845e9 NOK print as 4,991 / 4,845 M NOK, 0.971 as 97.1 %,
    floating-point noise in public cost as 0; what an alternative adds and drops is wrapped."""
    from types import SimpleNamespace

    import pandas as pd

    from symbiosim.decide.summaries import alternatives_summary

    added = ", ".join(f"exchange:supplier_{i}->receiver_{i}:product_{i}" for i in range(4))
    kpis = pd.DataFrame({"plan": ["optimum", "alt_1"], "objective_value": [4.991e9, 4.845e9], "relative_to_optimum": [1.0, 0.971],
                         "distance_to_optimum": [0, 5], "common": [2, 1], "added": ["", added], "removed": ["", "link:q->r:heat"],
                         "cluster_npv": [4.991e9, 4.845e9], "public_cost": [4.547303e-14, -4.547303e-14]})
    result = SimpleNamespace(plans={"optimum": 0, "alt_1": 1}, meta={"stopped": None}, kpis=kpis,
                             summary=pd.DataFrame({"decision": ["entry:a"], "robust": [True]}))
    lines = alternatives_summary("x", "NOK", result, 0.05, "cluster_npv").splitlines()
    assert lines[1].split() == ["plan", "cluster_npv", "of", "optimum", "decisions", "changed", "in", "common", "public_cost"]
    assert lines[2].split() == ["M", "NOK", "%", "NOK"]
    assert lines[3].split() == ["optimum", "4,991", "100.0", "0", "2", "0"]
    assert lines[4].split() == ["alt_1", "4,845", "97.1", "5", "1", "0"]
    assert lines[5].startswith("  alt_1  adds: exchange:supplier_0->receiver_0:product_0,")
    assert all(len(line) <= 100 for line in lines)
    assert " ".join(lines[5:-2]).split("adds: ")[1].split() == added.split()
    assert lines[-2] == "        drops: link:q->r:heat"
    assert lines[-1] == "  robust (in every plan): entry:a"
