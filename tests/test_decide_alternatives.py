"""Near-optimal alternatives that differ in substance (issue 14): no swaps, relays are no
decisions, the max-min search finds more than one plan."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from symbiosim.accounts import evaluate
from symbiosim.decide import alternatives
from symbiosim.decide.session import decisions_of, net_flows, two_way
from symbiosim.scenario import scenario_from_dict
from tests.test_decide import two_smelters
from tests.test_properties import clusters
from tests.tiny import HEAT_LINK

# Two foundries, each melting 10 t of its own scrap a year (fixed) plus 10 MWh of power
# (100/MWh); scrap can be bought (1/t, at most 100 t) or disposed of (1/t), and trucked
# between them (10 km apart, 0.01/t km). One year, one period, no discounting.
# The optimum ships nothing: NPV = -2 x 10 x 100 = -2000.
SWAP: dict[str, Any] = {
    "settings": {"name": "swap", "years": 1, "periods_per_year": 1, "discount_rate": 0.0},
    "products": [
        {"id": "scrap", "unit": "t", "kind": "material", "disposal_cost": 1, "transport_cost": 0.01},
        {"id": "power", "unit": "MWh", "kind": "energy"},
    ],
    "actors": [{"id": "east", "lat": 63.30, "lon": 9.85}, {"id": "west", "lat": 63.30, "lon": 9.65}],
    "processes": [
        {"id": "cast", "outputs": {"scrap": 1}},
        {"id": "melt", "inputs": {"scrap": 1, "power": 1}},
    ],
    "actor_processes": [
        {"actor": a, "process": k, "fixed_activity": 10} for a in ("east", "west") for k in ("cast", "melt")
    ],
    "purchases": [
        *({"actor": a, "product": "scrap", "price": 1, "limit": 100} for a in ("east", "west")),
        *({"actor": a, "product": "power", "price": 100} for a in ("east", "west")),
    ],
}


def test_no_swap_pads_the_distance() -> None:
    """Both trucked scrap arcs are exchange decisions (each foundry makes scrap), each with an
    "arc carries flow" indicator. Swapping a few tonnes east -> west and west -> east keeps both
    balances and costs only transport (~0.2/t both ways): the cheapest way to be at distance 2
    from the optimum, and a naive Hamming distance picks it. With the one-way rule (one period:
    one direction per pair) the only distinct plans ship one way, paid by a purchase at the
    receiver's partner and a disposal at the receiver: east -> west and west -> east, each at
    distance 1 from the optimum and 2 from each other. So exactly two alternatives, neither
    ships scrap both ways, and the search stops."""
    result = alternatives(scenario_from_dict(SWAP), slack=0.1, count=4)
    assert result.meta["optimum"] == pytest.approx(-2000.0)
    assert result.meta["two_way_in_optimum"] == [] and result.meta["one_way_rows"] == 2  # scrap and power, one period
    for plan in result.plans.values():
        assert two_way(plan) == set()
    # power has no maker: trucking it (free here) is a relay, no decision, and not in the tables
    d = result.decisions
    exchanges = [set(d[(d.plan == name) & d.chosen & (d.kind == "exchange")].decision) for name in result.plans]
    assert exchanges == [set(), {"exchange:east->west:scrap"}, {"exchange:west->east:scrap"}] or exchanges == [
        set(), {"exchange:west->east:scrap"}, {"exchange:east->west:scrap"}
    ]
    assert "no further distinct plan" in result.meta["stopped"]
    assert (result.kpis.relative_to_optimum.iloc[1:] >= 1 - 0.1 - 1e-9).all()
    assert result.kpis.cluster_npv.tolist() == pytest.approx(result.kpis.objective_value.tolist())


def test_the_one_way_rule_held_lazily_gives_the_same_plans() -> None:
    """With ``one_way_limit=0`` no pair is held up front (as on a large model): the first
    max-min plan swaps scrap (distance 2, the cheapest), the pair joins the rule, the
    alternative is searched again, and the plans are the ones of the eager rule."""
    result = alternatives(scenario_from_dict(SWAP), slack=0.1, count=4, one_way_limit=0)
    d = result.decisions
    exchanges = [set(d[(d.plan == name) & d.chosen & (d.kind == "exchange")].decision) for name in result.plans]
    assert sorted(map(sorted, exchanges)) == [[], ["exchange:east->west:scrap"], ["exchange:west->east:scrap"]]
    assert all(two_way(plan) == set() for plan in result.plans.values())
    assert result.meta["one_way_rows"] >= 1
    assert sum(t["plan"] == "alt_1_polish" for t in result.timings) == 2  # searched twice


def test_a_swap_in_the_optimum_stays_allowed() -> None:
    """The one-way rule exempts the rows where the optimum itself ships both ways, so the
    optimum stays a feasible plan of the alternatives' model. Read from the last solution:
    set both there by hand and the rule holds one row fewer (SWAP: scrap and power, one period)."""
    from symbiosim.planner import PlannerModel

    pm = PlannerModel.from_scenario(scenario_from_dict(SWAP))
    pm.solve()
    pm.model.flow["east", "west", "scrap", 0].value = 3.0
    pm.model.flow["west", "east", "scrap", 0].value = 3.0
    pm.begin_alternatives(-2000.0, 0.1)
    assert pm.one_way_rows == 1 and pm.one_way_pairs == {("east", "west", "scrap"), ("east", "west", "power")}


def three_smelters() -> Any:
    """HEAT_LINK with two more identical smelters and pipes (see ``two_smelters``)."""
    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"].append({"id": "smelter2", "lat": 63.3, "lon": 9.86, "region": "north"})
    raw["actors"].append({"id": "smelter3", "lat": 63.3, "lon": 9.86, "region": "north"})
    raw["actor_processes"].append({"actor": "smelter2", "process": "smelt", "fixed_activity": 1})
    raw["actor_processes"].append({"actor": "smelter3", "process": "smelt", "fixed_activity": 1})
    raw["links"].append({"from": "smelter2", "to": "greenhouse", "product": "heat", "build_cost": 1000, "capacity": 100})
    raw["links"].append({"from": "smelter3", "to": "greenhouse", "product": "heat", "build_cost": 1000, "capacity": 100})
    return scenario_from_dict(raw)


def test_max_min_finds_more_than_one_alternative() -> None:
    """Three identical smelters, each with a candidate pipe (cost 1000) able to carry the
    greenhouse's 80 MWh; gas costs 50/MWh, so any one pipe saves 8000 - 1000 and a second one
    saves nothing more: with zero slack the plans within it are exactly the three one-pipe plans
    (NPV -1000 each). The optimum builds one; by hand, two more distinct plans exist (the other
    pipes), each at distance 2 from every one-pipe plan (one link built, one not). So the
    max-min search must return two alternatives, one per remaining pipe, then prove there is
    no fourth plan."""
    result = alternatives(three_smelters(), slack=0.0, count=4)
    assert result.meta["alternatives_found"] == 2
    links = [frozenset(d for d in decisions_of(p) if d.startswith("link:")) for p in result.plans.values()]
    assert len(set(links)) == 3 and all(len(x) == 1 for x in links)
    assert result.kpis.objective_value.tolist() == pytest.approx([-1000.0] * 3)
    assert result.kpis.min_distance.iloc[1:].tolist() == [2.0, 2.0]
    assert "no further distinct plan within the slack" in result.meta["stopped"]


def test_spores_method_finds_the_same_plans() -> None:
    """The SPORES-only search (penalise decisions earlier plans chose) on the three pipes:
    each solve avoids the pipes already used, so it also returns the two other pipes."""
    result = alternatives(three_smelters(), slack=0.0, count=4, method="spores")
    links = [frozenset(d for d in decisions_of(p) if d.startswith("link:")) for p in result.plans.values()]
    assert len(set(links)) == 3 and result.meta["alternatives_found"] == 2
    with pytest.raises(ValueError, match="method"):
        alternatives(three_smelters(), method="nope")


def test_two_smelters_still_give_both_pipes() -> None:
    result = alternatives(two_smelters(), slack=0.0, count=3)
    assert result.meta["alternatives_found"] == 1


def test_offsetting_flows_and_relays_are_no_decisions() -> None:
    """5 t east -> west and 3 t back in one period is a net 2 t east -> west: one exchange, not
    two. When nobody makes scrap (both foundries only buy it), trucking it between them is a
    relay, a purchasing detail (``planner.build.exchange_matters``): no decision at all."""
    import dataclasses

    import pandas as pd

    from symbiosim.scenario.data import build_model_data

    plan = alternatives(scenario_from_dict(SWAP), slack=0.0, count=1).plans["optimum"]
    rows = [("east", "west", 5.0), ("west", "east", 3.0)]
    flows = pd.DataFrame([{"source": a, "target": b, "product": "scrap", "period": 0, "value": v} for a, b, v in rows])
    swapped = dataclasses.replace(plan, flows=flows)
    assert net_flows(swapped) == {("east", "west", "scrap"): pytest.approx(2.0)}
    assert two_way(swapped) == {("east", "west", "scrap", 0)}
    assert {d for d in decisions_of(swapped) if d.startswith("exchange:")} == {"exchange:east->west:scrap"}
    assert {d for d in decisions_of(swapped, build_model_data(scenario_from_dict(SWAP))) if d.startswith("exchange:")} == {
        "exchange:east->west:scrap"
    }
    raw = copy.deepcopy(SWAP)
    raw["actor_processes"] = [r for r in raw["actor_processes"] if r["process"] != "cast"]
    raw["processes"] = [r for r in raw["processes"] if r["id"] != "cast"]
    relay = build_model_data(scenario_from_dict(raw))
    assert not any(d.startswith("exchange:") for d in decisions_of(swapped, relay))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(clusters())
def test_alternatives_keep_the_slack_the_accounts_and_one_way(raw: dict[str, Any]) -> None:
    """On random clusters: every alternative is within the slack of the optimum, its accounts
    equal its objective value, and it ships nothing both ways in one period unless the optimum
    does (in the same row)."""
    s = scenario_from_dict(raw)
    result = alternatives(s, slack=0.1, count=2, alt_time_limit=10.0)
    opt = result.meta["optimum"]
    allowed = two_way(result.plans["optimum"])
    for name, plan in result.plans.items():
        value = plan.meta["objective_value"]
        assert value >= opt - 0.1 * abs(opt) - 1e-6 * max(1.0, abs(opt))
        npv = evaluate(s, plan).kpis["cluster_npv"]
        assert abs(npv - value) <= 1e-6 * max(1.0, abs(value)), name
        assert two_way(plan) <= allowed, name


def test_cli_method(tmp_path: Any, capsys: Any) -> None:
    """``symbiosim alternatives --method spores`` on the three pipes: the two other pipes."""
    import json

    import yaml

    from symbiosim.cli import main

    raw = copy.deepcopy(HEAT_LINK)
    for i in (2, 3):
        raw["actors"].append({"id": f"smelter{i}", "lat": 63.3, "lon": 9.86, "region": "north"})
        raw["actor_processes"].append({"actor": f"smelter{i}", "process": "smelt", "fixed_activity": 1})
        raw["links"].append({"from": f"smelter{i}", "to": "greenhouse", "product": "heat", "build_cost": 1000, "capacity": 100})
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["alternatives", str(path), "--slack", "0", "--method", "spores", "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)["meta"]
    assert meta["method"] == "spores" and meta["alternatives_found"] == 2


def test_robustness_lists_no_relays() -> None:
    """Two foundries that only buy quartz (700/t) and melt 10 t a year each, 10 km apart
    (trucking 0.01/t km). Perturbed by 10 %, one price is nearly always lower by far more than
    the 0.1/t of trucking, so the cheaper buyer fetches the other's quartz too, in one direction
    or the other depending on the sample: a relay, a purchasing detail. Robustness lists no
    exchange decision, only what matters (here: nothing)."""
    from symbiosim.decide import robustness

    raw = copy.deepcopy(SWAP)
    raw["products"][0] = {"id": "scrap", "unit": "t", "kind": "material", "transport_cost": 0.01}
    raw["processes"] = [{"id": "melt", "inputs": {"scrap": 1, "power": 1}}]
    raw["actor_processes"] = [{"actor": a, "process": "melt", "fixed_activity": 10} for a in ("east", "west")]
    raw["purchases"] = [
        *({"actor": a, "product": "scrap", "price": 700} for a in ("east", "west")),
        *({"actor": a, "product": "power", "price": 100} for a in ("east", "west")),
    ]
    s = scenario_from_dict(raw)
    result = robustness(s, 0.1, samples=6, seed=1)
    assert result.meta["solved"] == 6
    assert result.decisions.empty, result.decisions
    # the perturbed optima do relay (so the empty list is the rule at work, not an idle cluster)
    import numpy as np

    from symbiosim.decide.robustness import perturb
    from symbiosim.planner import optimise

    plan = optimise(perturb(s, 0.1, np.random.default_rng(0)))
    scrap = plan.flows[(plan.flows["product"] == "scrap") & (plan.flows.value > 1e-6)]
    assert len(scrap) == 1 and scrap.value.iloc[0] == pytest.approx(10.0)
