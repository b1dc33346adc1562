"""The comparison: gap, sharing the coordinated gain, why the gap exists, incentives."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings

from symbiosim.compare.decompose import decompose_gap
from symbiosim.compare.gap import compare
from symbiosim.compare.incentives import Reference, evaluate_setting, least_cost_level
from tests.test_properties import clusters
from tests.tiny import HEAT_LINK, build

FRICTIONLESS = {"actor": "*", "hurdle_rate": 0.0, "transaction_cost": 0, "max_payback_years": 10, "search_radius_km": 50, "discovery_rate": 0}


def test_two_firm_gain_shared_equally():
    """Pipe 1000 saves 8000 of gas (r = 0, 2 years): v({smelter}) = v({greenhouse})
    = 0 (a pipe needs both), v(N) = -1000 - (-8000) = 7000. Symmetric 2-player
    game: Shapley = nucleolus = equal split = 3500 each (the standard solution
    of a 2-person bargaining game, e.g. Maschler, Solan & Zamir 2013, ch. 20).
    Coordinated profits: smelter 0 + 3500, greenhouse -8000 + 3500 = -4500;
    without transfers the optimum gives the smelter 0 and the greenhouse
    -1000, so the greenhouse pays the smelter 3500."""
    s = build({**HEAT_LINK, "behaviour": [FRICTIONLESS]})
    result = compare(s, seed=1, rules=("shapley", "nucleolus", "equal_split"))
    assert result.share_of_potential == pytest.approx(1.0)  # the frictionless firms find the pipe
    actors = result.actors.set_index("actor")
    for rule in ("shapley", "nucleolus", "equal_split"):
        assert actors.loc["smelter", f"coordinated_profit_{rule}"] == pytest.approx(3500)
        assert actors.loc["greenhouse", f"coordinated_profit_{rule}"] == pytest.approx(-4500)
        assert result.transfers.loc[rule, "smelter"] == pytest.approx(3500)
        assert result.transfers.loc[rule, "greenhouse"] == pytest.approx(-3500)
    obj = result.to_json()
    assert set(obj) >= {"baseline", "decentralised", "optimum", "share_of_potential", "actors", "allocation"}
    assert obj["optimum"]["cluster_npv"] == pytest.approx(-1000)


# A pipe worth doing at the social rate (r = 0) but not at a 25 % hurdle:
# 3 years, pipe 10 000, gas saved 4000/yr. At r = 0: 12 000 > 10 000 -> optimum
# builds it (NPV -10 000 vs baseline -12 000, gain 2000). At 25 %: 4000 x (1 +
# 0.8 + 0.64) = 9760 < 10 000 -> the firms do not.
HURDLE = {
    **HEAT_LINK,
    "settings": {**HEAT_LINK["settings"], "years": 3},
    "links": [{**HEAT_LINK["links"][0], "build_cost": 10000}],
    "behaviour": [{**FRICTIONLESS, "hurdle_rate": 0.25}],
}


def test_decomposition_attributes_the_gap_to_the_hurdle_rate():
    s = build(HURDLE)
    result = compare(s, seed=0, rules=("shapley",))
    assert result.share_of_potential == pytest.approx(0.0)
    assert result.kpis.loc["cluster_npv", "gap"] == pytest.approx(2000)
    table = decompose_gap(s, result.plans["baseline"], result.accounts["optimum"].kpis["cluster_npv"], seed=0).set_index("friction")
    assert table.loc["hurdle_premium", "closed_shapley"] == pytest.approx(2000)
    assert table.loc["hurdle_premium", "share_of_gap"] == pytest.approx(1.0)
    for friction in ("information", "transaction_costs", "contract_length", "attention", "bargaining_failure"):
        assert table.loc[friction, "closed_shapley"] == pytest.approx(0.0, abs=1e-6)
    assert table.loc["residual", "closed_shapley"] == pytest.approx(0.0, abs=1e-6)
    assert table.closed_shapley[:6].sum() == pytest.approx(table.loc["all frictions", "closed_shapley"])


def test_an_exchange_subsidy_closes_the_hurdle_gap():
    """Known sign: a subsidy of 1/MWh on the 80 MWh/yr adds 80/yr, at 25 %:
    9760 + 80 x 2.44 = 9955 < 10 000, still no pipe; at 5/MWh: 9760 + 976 =
    10 736 > 10 000 -> the pipe is built: share of the potential 0 -> 1, public
    cost 3 x 80 x 5 = 1200, none of it deadweight (nothing flows without it)."""
    s = build(HURDLE)
    ref = Reference.build(s, [0])
    low = evaluate_setting(ref, "exchange_subsidy", 1.0)
    high = evaluate_setting(ref, "exchange_subsidy", 5.0)
    assert low["share_of_potential"] == pytest.approx(0.0)
    assert high["share_of_potential"] == pytest.approx(1.0)
    assert high["public_cost"] == pytest.approx(1200)
    assert high["deadweight"] == pytest.approx(0.0)
    assert high["actors_below_standalone"] == 0


def test_the_search_refuses_a_target_outside_0_1_before_running_anything(monkeypatch):
    import symbiosim.compare.incentives as inc

    def never(*a, **k):
        raise AssertionError("ran the simulator")

    monkeypatch.setattr(inc, "simulate", never)
    monkeypatch.setattr(inc, "optimise", never)
    for target in (2, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"target must be a share of the potential in \[0, 1\]"):
            least_cost_level(build(HURDLE), "exchange_subsidy", target, [0])


def test_least_cost_subsidy_search():
    """The smallest subsidy that builds the pipe: 80 x s x 2.44 >= 240 -> s >= 1.23."""
    s = build(HURDLE)
    result = least_cost_level(s, "exchange_subsidy", 0.8, [0], upper=8.0, iterations=10)
    assert result["reached"]
    assert result["level"] == pytest.approx(240 / (80 * 2.44), abs=8.0 / 2**10 + 1e-9)


SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(clusters())
def test_allocations_are_efficient_and_rational(raw):
    """Every rule shares exactly the coordinated gain; rules that claim individual
    rationality (all of them here, v({i}) = 0 for single actors) leave no actor
    below stand-alone; the share of the potential lies in [0, 1]."""
    s = build({**raw, "behaviour": [FRICTIONLESS]})
    result = compare(s, seed=0, players=[a["id"] for a in raw["actors"]])
    total = result.accounts["optimum"].kpis["cluster_npv"]
    tol = 1e-4 * max(1.0, abs(total))
    actors = result.actors
    for rule in ("shapley", "nucleolus", "least_core", "equal_split", "proportional"):
        assert actors[f"coordinated_profit_{rule}"].sum() == pytest.approx(total, abs=tol)
        if rule != "least_core":
            assert (actors[f"coordinated_profit_{rule}"] >= actors.baseline_profit - tol).all()
        assert result.transfers.loc[rule].sum() == pytest.approx(0.0, abs=tol)
    share = result.share_of_potential
    assert math.isnan(share) or -1e-6 <= share <= 1 + 1e-3


def test_core_check_reports_per_rule():
    """The 2-firm game: the core is {x_s + x_g = 7000, x >= 0}, never empty;
    every rule's split (3500, 3500) lies in it."""
    s = build({**HEAT_LINK, "behaviour": [FRICTIONLESS]})
    result = compare(s, seed=1, rules=("shapley", "nucleolus"))
    assert result.core["checked"] and not result.core["empty"]
    assert result.core["least_subsidy"] == pytest.approx(0.0)
    assert result.core["in_core"] == {"shapley": True, "nucleolus": True}
    assert not result.actors.below_standalone_shapley.any()


def test_side_payments_and_levels_table(tmp_path):
    """Side payments implement the optimum: share 1, no public money when the core
    is non-empty; the --levels table gives one paired row per level."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    s = build({**HEAT_LINK, "behaviour": [FRICTIONLESS]})
    sides = compare(s, seed=1, rules=("shapley",)).side_payments()
    assert sides["shapley"]["share_of_potential"] == 1.0
    assert sides["shapley"]["public_cost"] == pytest.approx(0.0)
    assert sides["shapley"]["transfers_paid"] == pytest.approx(3500)
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(HURDLE, sort_keys=False))
    exe = Path(sys.executable).parent / "symbiosim"
    r = subprocess.run([str(exe), "incentives", str(path), "--instrument", "exchange_subsidy", "--levels", "1,5", "--seeds", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["settings"]
    assert [row["share_of_potential"] for row in rows] == pytest.approx([0.0, 1.0])


def _priced_optimum(s, price):
    """The optimum of ``s`` with every exchange sold at ``price`` per unit (the receiver pays)."""
    from symbiosim.plan import Plan
    from symbiosim.planner import optimise

    opt = optimise(s)
    flows = opt.flows.copy()
    flows["price"] = float(price)
    return Plan(**{**opt.tables(), "flows": flows}, meta={})


def test_an_actor_below_stand_alone_is_named_with_its_shortfall(monkeypatch):
    """HURDLE at r = 0: the greenhouse alone buys 3 x 80 MWh of gas at 50 = -12 000; in the
    optimum it builds the pipe (-10 000) and gets the heat free. Sold at 60/MWh instead, it pays
    60 x the heat moved (260 MWh: 80 + 80 + 100) = 15 600: -25 600, i.e. 13 600 below
    stand-alone; the smelter gains. A run that ends there is one actor below stand-alone."""
    import symbiosim.compare.incentives as inc

    s = build(HURDLE)
    plan = _priced_optimum(s, 60)
    assert plan.flows.value.sum() == pytest.approx(260)
    monkeypatch.setattr(inc, "simulate", lambda *a, **k: type("Run", (), {"plan": plan})())
    row = evaluate_setting(Reference.build(s, [0]), "exchange_subsidy", 0.0)
    assert row["actors_below_standalone"] == 1
    assert row["below_standalone"] == [{"actor": "greenhouse", "shortfall": pytest.approx(60 * 260 - 2000)}]
    assert row["below_standalone"][0]["shortfall"] == pytest.approx(13600)


def test_the_incentives_verdict_names_the_actor_below_stand_alone_and_by_how_much(monkeypatch, tmp_path):
    """Every level reaches the whole potential (the pipe is built) but leaves the greenhouse
    below stand-alone (previous test; nothing here emits, so a carbon price changes nothing):
    the search fails, and the verdict says who and by how much."""
    import json

    import pandas as pd

    import symbiosim.compare.incentives as inc
    from symbiosim.report.compare_text import incentive_summary
    from symbiosim.report.jsonable import dumps
    from symbiosim.runs import IncentiveSearch

    s = build({**HURDLE, "settings": {**HURDLE["settings"], "currency": "EUR"}})
    plan = _priced_optimum(s, 60)
    monkeypatch.setattr(inc, "simulate", lambda *a, **k: type("Run", (), {"plan": plan})())
    result = least_cost_level(s, "carbon_price", 0.8, [0], upper=8.0, grid=2, iterations=1)
    assert not result["reached"]
    tried = pd.DataFrame(result["tried"]).sort_values("level")
    assert tried.level.tolist() == [0, 4, 8, 12, 16, 24, 32, 48, 64]  # the grid doubles its upper end 3 times
    text = incentive_summary("carbon_price", 0.8, [0], result, tried, "EUR")
    verdict = text.splitlines()[0]
    assert verdict == (
        "carbon_price: target 80% not reached up to level 64 EUR/t CO2e: 9 level(s) reach the share (best 100.0%) but each "
        "leaves an actor below stand-alone; at level 0 EUR/t CO2e (share 100.0%), greenhouse ends 13.6 k EUR below its "
        "stand-alone profit (the most over the seeds)")
    assert text.count("greenhouse 13.6 k EUR") == 9  # and in the table, per level
    assert not re.search(r"\d[eE][+-]?\d", text)
    run = IncentiveSearch("carbon_price", 0.8, [0], result, tried, "EUR")
    assert run.summary() == text
    assert run.json["tried"][0]["below_standalone"] == [{"actor": "greenhouse", "shortfall": pytest.approx(13600)}]
    assert json.loads(dumps(run.json))["tried"][-1]["below_standalone"][0]["actor"] == "greenhouse"
    tried.to_parquet(tmp_path / "levels.parquet", index=False)  # the records go into Parquet as they are
    back = pd.read_parquet(tmp_path / "levels.parquet")
    assert [list(b) for b in back.below_standalone] == [[{"actor": "greenhouse", "shortfall": pytest.approx(13600)}]] * 9


def test_the_incentives_verdict_when_no_level_reaches_the_share():
    """By hand: the best share 62.5 % at level 4 stays below the target; there one actor loses 1.5 M."""
    import pandas as pd

    from symbiosim.report.compare_text import incentive_summary

    tried = pd.DataFrame([
        {"level": 0.0, "share_of_potential": 0.25, "public_cost": 0.0, "actors_below_standalone": 0, "below_standalone": []},
        {"level": 4.0, "share_of_potential": 0.625, "public_cost": 4.216432e7, "actors_below_standalone": 1,
         "below_standalone": [{"actor": "isfjord", "shortfall": 1.5e6}]},
        {"level": 8.0, "share_of_potential": 0.5, "public_cost": 8.4e7, "actors_below_standalone": 0, "below_standalone": []},
    ])
    result = {"reached": False, "level": None, "result": tried.iloc[1].to_dict()}
    text = incentive_summary("disposal_tax", 0.8, [0, 1], result, tried, "NOK")
    assert text.splitlines()[0] == (
        "disposal_tax: target 80% not reached up to level 8 NOK/unit: no level tried reaches the share "
        "(best 62.5% at level 4 NOK/unit); there isfjord ends 1.5 M NOK below its stand-alone profit (the most over the seeds)")
    assert "42.2" in text and "4.216432e+07" not in text and "M NOK" in text


def test_the_incentives_verdict_when_reached_has_units():
    import pandas as pd

    from symbiosim.report.compare_text import incentive_summary

    row = {"level": 0.2842, "share_of_potential": 0.841, "share_sd": 0.07, "public_cost": 9.975e7, "deadweight": 4.5e-14,
           "cost_per_tonne_diverted": 398.9, "cost_per_t_co2e": float("nan"), "actors_below_standalone": 0, "below_standalone": []}
    tried = pd.DataFrame([row])
    text = incentive_summary("investment_subsidy", 0.8, [0, 1, 2], {"reached": True, "level": 0.2842, "result": row}, tried, "NOK")
    assert text.splitlines()[:2] == [
        "investment_subsidy: least level reaching 80% of the potential with no actor below stand-alone: 28.4%",
        "  share 84.1% (sd 7.0% over seeds 0, 1, 2), net public cost 99.8 M NOK, deadweight 0 NOK, per t diverted 399 NOK/t, "
        "per t CO2e avoided n/a (none avoided)",
    ]
    assert "below stand-alone by" not in text  # no actor below stand-alone at any level: no column for them


def test_the_incentives_levels_summary_has_units_and_no_scientific_notation(tmp_path, capsys):
    """HURDLE (see above): 1/MWh builds nothing, 5/MWh builds the pipe at a public cost of 1,200 NOK."""
    import yaml

    from symbiosim.cli import main

    path = tmp_path / "hurdle.yaml"
    path.write_text(yaml.safe_dump(HURDLE))
    assert main(["incentives", str(path), "--instrument", "exchange_subsidy", "--levels", "1,5", "--seeds", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["level", "share", "of"]
    assert lines[1].split()[:4] == ["NOK/unit", "%", "NOK", "NOK/t"]
    assert lines[2].split()[:3] == ["1.00", "0", "0"]
    assert lines[3].split()[:3] == ["5.00", "100.0", "1,200"]
    assert not any(re.search(r"\d[eE][+-]?\d", line) for line in lines)
    # no actor below stand-alone at any level: empty records, which Parquet still takes
    import pandas as pd

    from symbiosim.runs import incentive_levels
    from symbiosim.scenario import load_scenario

    table = incentive_levels(load_scenario(path), "exchange_subsidy", [1.0, 5.0], [0]).table
    assert [list(b) for b in table.below_standalone] == [[], []]
    table.to_parquet(tmp_path / "settings.parquet", index=False)
    assert len(pd.read_parquet(tmp_path / "settings.parquet")) == 2
