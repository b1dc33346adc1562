"""scenario/edit.py: the one way to change a scenario (samples, cases, perturbations).

The tiny scenario is ``HEAT_LINK`` (tests/tiny.py): gas at 50 for the
greenhouse, a candidate pipe smelter -> greenhouse costing 1000 (capacity 100),
the smelter's ``smelt`` fixed at 1 per year.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from symbiosim.errors import ScenarioError
from symbiosim.scenario import load_scenario, scenario_from_dict
from symbiosim.scenario.edit import (
    Cell,
    Edit,
    add_rows,
    apply_edits,
    distribution,
    distributions,
    relative_sd,
    resolve,
    set_cells,
    value_of,
)
from symbiosim.scenario.schema import Uncertainty
from symbiosim.scenario.targets import parse_target
from tests.tiny import HEAT_LINK


@pytest.fixture(scope="module")
def heat() -> Any:
    return scenario_from_dict(HEAT_LINK)


# ---- targets ------------------------------------------------------------------


def test_resolve_names_the_cells(heat: Any) -> None:
    assert resolve(heat, "purchases[product=gas].price") == [Cell("purchases", 0, "price")]
    # the greenhouse runs boil, recv and grow: rows 1-3 of actor_processes
    assert [c.row for c in resolve(heat, "actor_processes[actor=greenhouse].variable_cost")] == [1, 2, 3]
    assert resolve(heat, "actor_processes[actor=greenhouse,process=grow].capacity") == [Cell("actor_processes", 3, "capacity")]
    assert resolve(heat, "links[from=smelter].build_cost") == [Cell("links", 0, "build_cost")]
    assert resolve(heat, "settings.discount_rate") == [Cell("settings", 0, "discount_rate")]
    assert value_of(heat, Cell("links", 0, "from")) == "smelter"
    # text columns only when asked (a case may replace a region)
    assert resolve(heat, "actors[id=smelter].region", numeric=False) == [Cell("actors", 0, "region")]
    for target, message in [
        ("actors[id=smelter].region", "column actors.region is not numeric"),
        ("purchases[product=coal].price", "no row of purchases matches {'product': 'coal'}"),
        ("purchase[product=gas].price", "unknown table 'purchase'"),
        ("sales[product=gas].prise", "table sales has no column 'prise'"),
        ("purchases[prodct=gas].price", "table purchases has no column 'prodct' to filter on"),
        ("settings.name", "settings has no numeric column 'name'"),
        ("__import__('os').system('x')", "cannot read target"),
    ]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
            resolve(heat, target)


def test_a_target_reads_back_as_written() -> None:
    assert str(parse_target("links[from=a, to=b].capacity")) == "links[from=a,to=b].capacity"
    assert str(parse_target("settings.years")) == "settings.years"


# ---- cell edits -----------------------------------------------------------------


def test_value_and_factor_compound_in_order(heat: Any) -> None:
    s = apply_edits(
        heat,
        [
            Edit("purchases[product=gas].price", factor=2.0),  # 50 x 2 = 100
            Edit("purchases[product=gas].price", factor=1.5),  # 100 x 1.5 = 150
            Edit("links[to=greenhouse].build_cost", value=600),
            Edit("links[to=greenhouse].build_cost", factor=0.5),  # 600 x 0.5 = 300
            Edit("settings.years", factor=2.0),  # 2 x 2 = 4, still an integer
            Edit("actors[id=smelter].region", value="east"),
        ],
        name="case t",
    )
    assert s.purchases[0].price == 150.0
    assert s.links[0].build_cost == 300.0
    assert s.settings.years == 4 and isinstance(s.settings.years, int)
    assert s.actors[0].region == "east"
    # the input is untouched and the untouched rows are shared, not copied
    assert heat.purchases[0].price == 50.0 and heat.settings.years == 2 and heat.actors[0].region == "north"
    assert s.products is heat.products


def test_errors_name_the_edit_and_the_cell(heat: Any) -> None:
    with pytest.raises(ScenarioError) as info:
        apply_edits(heat, [Edit("purchases[product=gas].price", factor=-1.0, label="purchases[product=gas].price")], name="sample 12")
    assert [str(i) for i in info.value.issues] == [
        "sample 12: purchases[product=gas].price: purchases[greenhouse/gas].price: expected greater than or equal to 0, got -50.0"
    ]
    assert info.value.report().splitlines()[0] == "1 error in sample 12"
    # a cross-table rule: smelt is fixed at 1 per year, so a capacity of 0.5 cannot hold it
    with pytest.raises(ScenarioError) as info:
        apply_edits(heat, [Edit("actor_processes[process=smelt].capacity", value=0.5)], name="case small")
    assert [str(i) for i in info.value.issues] == [
        "case small: actor_processes[smelter/smelt].fixed_activity: exceeds capacity 0.5: expected <= capacity"
    ]
    # every bad edit at once; an unresolvable target is located where the edit was written
    with pytest.raises(ScenarioError) as info:
        apply_edits(
            heat,
            [
                Edit("purchases[product=coal].price", value=1, where=("cases", "x", "set[0]")),
                Edit("actors[id=smelter].region", factor=2.0, where=("cases", "x", "set[1]")),
                Edit("settings.years", value=0),
            ],
            name="case x",
        )
    assert [str(i) for i in info.value.issues] == [
        "case x: cases[x].set[0]: no row of purchases matches {'product': 'coal'}",
        "case x: cases[x].set[1]: column actors.region is not numeric",
    ]
    with pytest.raises(ScenarioError, match=r"case y: settings.years: expected greater than or equal to 1, got 0"):
        apply_edits(heat, [Edit("settings.years", value=0)], name="case y")
    with pytest.raises(ScenarioError, match=r"the cell holds None"):  # an empty cell has nothing to multiply
        apply_edits(heat, [Edit("links[to=greenhouse].fixed_cost", factor=2.0)], name="case z")


EDITS = [
    [Edit("settings.years", value=0)],
    [Edit("settings.periods_per_year", value=3)],
    [Edit("settings.discount_rate", value=1e-300)],
    [Edit("actors[id=greenhouse].exists", value=False)],
    [Edit("products[id=heat].needs_link", value=False)],
    [Edit("actor_processes[process=smelt].capacity", value=0.5)],
    [Edit("actor_processes[process=smelt].capacity", value=2), Edit("actor_processes[process=smelt].min_activity", value=3)],
    [Edit("purchases[product=gas].limit", value=0)],
    [Edit("purchases[product=gas].price", factor=1.1), Edit("links[to=greenhouse].capacity", factor=0.5)],
    [Edit("actors[id=smelter].id", value="furnace")],
    [Edit("links[to=greenhouse].exists", value=True)],
    [Edit("actors[id=smelter].lat", value=95)],
]


@pytest.mark.parametrize("edits", EDITS)
def test_editing_validates_like_the_whole_file(heat: Any, edits: list[Edit]) -> None:
    """Edited rows plus every cross-table check give what validating the whole edited file gives."""
    raw = copy.deepcopy(HEAT_LINK)
    for e in edits:
        for c in resolve(heat, e.target, numeric=False):
            row = raw["settings"] if c.table == "settings" else raw[c.table][c.row]
            row[c.column] = e.value if e.factor is None else row.get(c.column, value_of(heat, c)) * e.factor
    try:
        whole = scenario_from_dict(raw)
    except ScenarioError as exc:
        with pytest.raises(ScenarioError) as info:
            apply_edits(heat, edits, name="e")
        assert [(i.location(), i.message) for i in info.value.issues] == [(i.location(), i.message) for i in exc.issues]
    else:
        assert apply_edits(heat, edits, name="e").model_dump() == whole.model_dump()


def test_set_cells_names_the_perturbation(heat: Any) -> None:
    s = set_cells(heat, [(Cell("purchases", 0, "price"), 55.0)], name="p")
    assert s.purchases[0].price == 55.0
    with pytest.raises(ScenarioError, match=r"robustness sample 3: actor_processes\[smelter/smelt\].fixed_activity: exceeds capacity"):
        set_cells(heat, [(Cell("actor_processes", 0, "capacity"), 0.9)], name="robustness sample 3")


# ---- rows ---------------------------------------------------------------------------


def test_add_rows_validates_the_whole_result(heat: Any) -> None:
    s = add_rows(
        heat,
        {"actors": [{"id": "dryer", "exists": False, "entry_cost": 5}], "profiles": {"flat": [1.0]}},
        policies={"exchange_subsidy": 10},
        name="case dryer",
    )
    assert [a.id for a in s.actors] == ["smelter", "greenhouse", "dryer"]
    assert s.profiles == {"flat": (1.0,)} and s.policies.exchange_subsidy == 10
    assert len(heat.actors) == 2 and heat.policies.exchange_subsidy is None
    with pytest.raises(ScenarioError) as info:
        add_rows(heat, {"links": [{"from": "smelter", "to": "nobody", "product": "heat"}]}, name="case ghost")
    assert [str(i) for i in info.value.issues] == ["case ghost: links[smelter->nobody/heat].to: unknown actor `nobody`"]
    with pytest.raises(ScenarioError, match="case t: settings: cannot add rows to settings"):
        add_rows(heat, {"settings": []}, name="case t")


# ---- uncertainty -------------------------------------------------------------------


def test_uncertainty_rows_become_frozen_scipy_distributions() -> None:
    def row(**kw: Any) -> Uncertainty:
        return Uncertainty(target="settings.discount_rate", **kw)

    uniform = distribution(row(dist="uniform", low=0.5, high=1.5))
    assert uniform.mean() == pytest.approx(1.0) and uniform.ppf(0.25) == pytest.approx(0.75)
    tri = distribution(row(dist="triangular", low=0.0, mode=1.0, high=2.0))
    assert tri.ppf(0.5) == pytest.approx(1.0) and tri.cdf(0.5) == pytest.approx(0.125)  # (0.5 / 1)^2 / 2
    normal = distribution(row(dist="normal", mean=10.0, sd=2.0))
    assert normal.ppf(0.975) == pytest.approx(10 + 2 * 1.959964, abs=1e-5)
    lognormal = distribution(row(dist="lognormal", mean=0.5, sd=0.3))
    assert lognormal.median() == pytest.approx(math.exp(0.5)) and lognormal.cdf(math.exp(0.5 + 0.3)) == pytest.approx(0.841345, abs=1e-6)
    for degenerate in (row(dist="uniform", low=2.0, high=2.0), row(dist="normal", mean=2.0, sd=0.0)):
        assert list(distribution(degenerate).ppf(np.array([1e-12, 0.5, 1 - 1e-12]))) == [2.0, 2.0, 2.0]
    # relative sd (the simulator's price-factor spread): uniform(0.5, 1.5): (1 / sqrt 12) / 1
    assert relative_sd(row(dist="uniform", low=0.5, high=1.5)) == pytest.approx(1 / math.sqrt(12))
    # triangular(0, 1, 2): variance (0 + 1 + 4 - 0 - 0 - 2) / 18 = 1/6, centre 1
    assert relative_sd(row(dist="triangular", low=0.0, mode=1.0, high=2.0)) == pytest.approx(math.sqrt(1 / 6))
    assert relative_sd(row(dist="normal", mean=10.0, sd=2.0)) == pytest.approx(0.2)
    assert relative_sd(row(dist="lognormal", mean=0.0, sd=0.3)) == 0.3


def test_distributions_of_orkanger() -> None:
    s = load_scenario("scenarios/orkanger.yaml")
    inputs = distributions(s)
    assert [i.row.target for i in inputs] == [u.target for u in s.uncertainty]
    wood = inputs[0]
    assert str(wood.target) == "purchases[product=wood_chips].price" and wood.as_factor
    assert all(c.table == "purchases" and c.column == "price" for c in wood.cells)
    # triangular(0.8, 1.0, 1.3): mean (0.8 + 1 + 1.3) / 3
    assert wood.dist.mean() == pytest.approx(3.1 / 3)
    assert wood.dist.support() == pytest.approx((0.8, 1.3))


# ---- users ---------------------------------------------------------------------------


def test_apply_sample_is_the_full_validation_result_and_names_the_sample() -> None:
    from symbiosim.experiments.design import apply_sample, input_columns, make_design

    s = load_scenario("scenarios/orkanger.yaml")
    design = make_design(s, 20, seed=4)
    for row in design.to_dict("records"):
        fast = apply_sample(s, row)
        # the same edit through the whole file's validation
        raw = s.model_dump(by_alias=True, exclude_none=True, mode="json")
        for u, name in zip(s.uncertainty, input_columns(s.uncertainty), strict=True):
            for c in resolve(s, u.target):
                cell = raw["settings"] if c.table == "settings" else raw[c.table][c.row]
                cell[c.column] = cell[c.column] * row[name] if u.as_ == "factor" else row[name]
        assert fast.model_dump() == scenario_from_dict(raw).model_dump()
    bad = {**design.iloc[0].to_dict(), "sample_id": 12, "in_purchases_product_wood_chips_price": -1.0}
    with pytest.raises(ScenarioError) as info:
        apply_sample(s, bad)
    first = str(info.value.issues[0])
    assert first.startswith("sample 12: purchases[product=wood_chips].price: purchases[")
    assert first.endswith("].price: expected greater than or equal to 0, got -800.0")


def test_case_file_models() -> None:
    from symbiosim.decide.cases import ADD_TABLES, AddTables, CaseSpec, PolicySettings
    from symbiosim.scenario.schema import Policies

    assert set(AddTables.model_fields) == set(ADD_TABLES)
    assert set(PolicySettings.model_fields) == set(Policies.model_fields)
    spec = CaseSpec.model_validate({"name": "gas_80", "set": [{"target": "purchases[product=gas].price", "value": 80}]})
    assert spec.set is not None and spec.set[0].value == 80


def test_arms_file_model(tmp_path: Any) -> None:
    from symbiosim.experiments.design import Arm, ArmsFile, load_arms, validate_arms

    arms = ArmsFile.model_validate({"arms": {"none": {}, "tax": {"disposal_tax": {"*": 200, "slag": 50}}, "fac": {"facilitator": True}}})
    assert arms.arms["fac"] == Arm(facilitator=True)
    assert load_arms("scenarios/arms.yaml") == {"none": {}, "subsidy": {"exchange_subsidy": 50}, "tax": {"disposal_tax": 200}}
    with pytest.raises(ValueError) as info:
        validate_arms({"a b": {}, "f": {"facilitator": "yes"}, "t": {"disposal_tax": {"slag": -1}}, "c": {"carbon_price": 1e-300}})
    assert str(info.value) == (
        "arms: arm 'a b': expected a name of letters, digits, _ . -; "
        "arm f.facilitator: expected true or false, got 'yes'; "
        "arm t.disposal_tax[slag]: expected >= 0, got -1.0; "
        "arm c.carbon_price: expected 0 or a number of magnitude 1e-9 to 1e12, got 1e-300"
    )


def test_robustness_counts_invalid_perturbations() -> None:
    """smelt is fixed at 1 per year with capacity 1: a perturbation that scales the
    capacity below 1 breaks the scenario, so that sample is invalid, not solved."""
    from symbiosim.decide.robustness import robustness

    raw = copy.deepcopy(HEAT_LINK)
    raw["actor_processes"][0]["capacity"] = 1
    result = robustness(scenario_from_dict(raw), 0.5, samples=6, seed=2)
    invalid = result.samples[result.samples.status == "invalid"]
    assert 0 < len(invalid) < 6
    assert result.meta["failed"] == len(invalid) and result.meta["solved"] == 6 - len(invalid)
    for i, error in zip(invalid["sample"], invalid["error"], strict=True):
        assert error.startswith(f"robustness sample {i}: actor_processes[smelter/smelt].fixed_activity: exceeds capacity")
