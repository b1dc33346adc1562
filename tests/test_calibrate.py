"""``calibrate``: the distance by hand, priors files, ABC-SMC pieces, determinism (any --jobs), failed
runs and resume, the CLI's JSON and files, and recovery of known rules from simulated histories."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from symbiosim.calibrate import Prior, calibrate, distance, load_priors, outcome_of, smc, targets_of, validate_priors
from symbiosim.calibrate import run as run_mod
from symbiosim.calibrate.distance import Outcome, Target, Targets
from symbiosim.calibrate.priors import PRIORS
from symbiosim.cli import main
from symbiosim.errors import ScenarioError
from symbiosim.planner import optimise
from symbiosim.scenario import Scenario, load_scenario, scenario_from_dict
from symbiosim.scenario.history import History, formed_years, history_from_dict
from symbiosim.simulator import simulate
from symbiosim.simulator.behaviour import DEFAULTS

DATA = Path(__file__).parent / "data" / "invalid_history"


# ---------------------------------------------------------------- tiny clusters


def heat_pairs(paybacks: tuple[float, ...] = (1.5, 3, 5, 7, 9), years: int = 25) -> dict[str, Any]:
    """Pairs far apart (beyond the search radius: found only by discovery, a Poisson rate): smelter i's
    heat (100 MWh/yr) can replace greenhouse i's gas (80 MWh/yr at 50, 4000/yr) over a pipe costing
    ``paybacks[i]`` x 4000. Which pipes are built depends on ``max_payback_years``, when on
    ``discovery_rate``: a history of them identifies both."""
    products: list[dict[str, Any]] = [{"id": "gas", "unit": "MWh", "kind": "energy"}]
    actors, aps, processes, links = [], [], [], []
    for i, pb in enumerate(paybacks):
        products += [{"id": f"heat{i}", "unit": "MWh", "kind": "energy", "disposal_cost": 0, "needs_link": True},
                     {"id": f"warmth{i}", "unit": "MWh", "kind": "energy"}]
        processes += [{"id": f"smelt{i}", "outputs": {f"heat{i}": 100}},
                      {"id": f"boil{i}", "inputs": {"gas": 1}, "outputs": {f"warmth{i}": 1}},
                      {"id": f"recv{i}", "inputs": {f"heat{i}": 1}, "outputs": {f"warmth{i}": 1}},
                      {"id": f"grow{i}", "inputs": {f"warmth{i}": 1}}]
        actors += [{"id": f"s{i}", "lat": 60.0 + i, "lon": 5.0}, {"id": f"g{i}", "lat": 60.0 + i, "lon": 7.0}]
        aps += [{"actor": f"s{i}", "process": f"smelt{i}", "fixed_activity": 1}, {"actor": f"g{i}", "process": f"boil{i}"},
                {"actor": f"g{i}", "process": f"recv{i}"}, {"actor": f"g{i}", "process": f"grow{i}", "fixed_activity": 80}]
        links.append({"from": f"s{i}", "to": f"g{i}", "product": f"heat{i}", "build_cost": pb * 4000, "capacity": 100})
    return {"settings": {"name": "heat_pairs", "years": years, "periods_per_year": 1, "discount_rate": 0.0, "start_year": 2000},
            "products": products, "actors": actors, "processes": processes, "actor_processes": aps,
            "purchases": [{"actor": f"g{i}", "product": "gas", "price": 50} for i in range(len(paybacks))], "links": links}


TWO_RULES = {"discovery_rate": {"distribution": "loguniform", "low": 0.05, "high": 5.0},
             "max_payback_years": {"distribution": "uniform", "low": 1.0, "high": 10.0}}


def only(priors: dict[str, Any]) -> dict[str, Prior]:
    """These priors and no other rule."""
    return validate_priors({**{rule: None for rule in PRIORS}, **priors}, DEFAULTS)


def simulated_history(scenario: Scenario, rules: dict[str, float], seed: int) -> History:
    """The formation years of one run as a history; candidate links that never formed are ``absent``
    until the horizon's last year."""
    run = simulate(scenario, seed, rule_overrides=rules)
    formed = formed_years(run.plan, scenario)
    rows = [{"from": k[0], "to": k[1], "product": k[2], "year": y, "source": "simulated"} for k, y in sorted(formed.items())]
    last = scenario.settings.start_year + scenario.settings.years - 1
    absent = [{"from": k.from_, "to": k.to, "product": k.product, "until": last, "source": "simulated"}
              for k in scenario.links if (k.from_, k.to, k.product) not in formed]
    return history_from_dict({"scenario": scenario.settings.name, "exchanges": rows, "absent": absent}, scenario)


@pytest.fixture(scope="module")
def pairs() -> tuple[Scenario, History, Any]:
    scenario = scenario_from_dict(heat_pairs(), source="tiny:heat_pairs")
    history = simulated_history(scenario, {"discovery_rate": 0.4, "max_payback_years": 5.0}, seed=11)
    return scenario, history, optimise(scenario, baseline=True)


# ---------------------------------------------------------------- distance


def _targets(new_weight: float = 1.0) -> Targets:
    ab, cd, ef = ("a", "b", "p"), ("c", "d", "p"), ("e", "f", "p")
    return Targets(
        targets=(Target("exchange", ab, 2010), Target("exchange", cd, 2020), Target("absent", ef, 2015), Target("entry", ("x",), 2012)),
        skipped=(Target("exchange", ("g", "h", "p"), 2005),), existing=frozenset({("g", "h", "p")}), years=25,
        new_weight=new_weight, observed=frozenset({ab, cd, ef}), entered=frozenset({"x"}))


@pytest.mark.parametrize(("exchanges", "entries", "expected"), [
    # the history reproduced (the existing link g->h forms at the start: never counted)
    ({("a", "b", "p"): 2010, ("c", "d", "p"): 2020, ("g", "h", "p"): 2000}, {"x": 2012}, 0.0),
    # the docstring's example: A->B 5 years late (5/25), C->D missing (1), a new exchange (1); x on time
    ({("a", "b", "p"): 2015, ("q", "r", "p"): 2003}, {"x": 2012}, 5 / 25 + 1 + 1),
    # a year difference is capped at 1 (40 years off); entry 3 years early: 3/25
    ({("a", "b", "p"): 1970, ("c", "d", "p"): 2020}, {"x": 2009}, 1 + 3 / 25),
    # absent e->f formed by its `until` (2015): 1; entry x missing: 1
    ({("a", "b", "p"): 2010, ("c", "d", "p"): 2020, ("e", "f", "p"): 2015}, {}, 1 + 1),
    # absent e->f formed after `until`: agrees with the history, and is not a new exchange
    ({("a", "b", "p"): 2010, ("c", "d", "p"): 2020, ("e", "f", "p"): 2016}, {"x": 2012}, 0.0),
    # nothing formed: both observed exchanges (2) and the entry (1)
    ({}, {}, 3.0),
])
def test_distance_by_hand(exchanges: dict, entries: dict, expected: float) -> None:
    assert distance(Outcome(exchanges, entries), _targets()) == pytest.approx(expected)


def test_new_exchanges_and_entries_count_new_weight() -> None:
    o = Outcome({("a", "b", "p"): 2010, ("c", "d", "p"): 2020, ("q", "r", "p"): 2001, ("s", "t", "p"): 2030},
                {"x": 2012, "y": 2004})
    assert distance(o, _targets(new_weight=0.25)) == pytest.approx(3 * 0.25)  # two exchanges and the entry y


def test_targets_skip_existing_links_and_read_a_plans_years() -> None:
    valley = load_scenario(DATA / "_scenario.yaml")
    history = yaml.safe_load((DATA / "_valid.yaml").read_text())
    from symbiosim.scenario.history import load_history

    t = targets_of(load_history(DATA / "_valid.yaml", valley), valley)
    assert [s.label for s in t.skipped] == ["smelter->greenhouse/heat"]  # an existing link of the scenario
    assert [x.label for x in t.targets] == ["fishplant->feedmill/offcuts", "smelter->fishplant/heat",
                                            "smelter->fishplant/heat (absent)", "entry feedmill"]
    assert len(history["exchanges"]) == 3
    plan = SimpleNamespace(
        flows=pd.DataFrame({"source": ["fishplant", "fishplant"], "target": ["feedmill"] * 2, "product": ["offcuts"] * 2,
                            "period": [2, 3], "year": [2, 3], "value": [5.0, 5.0]}),
        builds=pd.DataFrame({"kind": ["actor", "link"], "actor": ["feedmill", ""], "process": ["", ""], "target": ["", ""],
                             "product": ["", ""], "year": [2, 1]}))
    o = outcome_of(plan, valley)
    start = valley.settings.start_year
    assert o.exchanges == {("fishplant", "feedmill", "offcuts"): start + 2} and o.entries == {"feedmill": start + 2}


# ---------------------------------------------------------------- priors


def test_the_default_table_has_only_rules_the_simulator_has() -> None:
    table = validate_priors(None, DEFAULTS)
    assert set(table) == set(PRIORS) & set(DEFAULTS)
    without = {k: v for k, v in DEFAULTS.items() if k != "transaction_cost_share"}
    assert "transaction_cost_share" not in validate_priors(None, without)


def test_a_priors_file_updates_the_table(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("priors:\n  discovery_rate: {distribution: uniform, low: 0.1, high: 2}\n  hurdle_rate: null\n")
    table = load_priors(path, DEFAULTS)
    assert table["discovery_rate"] == Prior("discovery_rate", "uniform", 0.1, 2.0)
    assert "hurdle_rate" not in table and "max_payback_years" in table


def test_priors_errors_are_located_and_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "priors:\n"
        "  hurdl_rate: null\n"
        "  discovery_rate: {distribution: loguniform, low: 0, high: 5}\n"
        "  max_payback_years: {distribution: uniform, low: 5, high: 2}\n"
        "  bargaining_power: {distribution: uniform, low: 0.2, high: 1.5}\n"
        "  contract_years: {distribution: uniform, low: 2, high: 9}\n"
        "  risk_aversion: {distribution: gamma, low: 0, high: 1, shape: 2}\n")
    with pytest.raises(ScenarioError) as info:
        load_priors(path, DEFAULTS)
    assert info.value.what == "priors" and info.value.source == str(path)
    got = {(i.location(), i.message) for i in info.value.issues}
    assert next(m for loc, m in got if loc == "priors[hurdl_rate]").startswith("unknown rule `hurdl_rate`; did you mean `hurdle_rate`?")
    assert ("priors[discovery_rate]", "a loguniform prior needs low > 0") in got
    assert ("priors[max_payback_years]", "high (2) must be greater than low (5)") in got
    assert ("priors[bargaining_power].high", "bargaining_power is a share: expected at most 1, got 1.5") in got
    assert ("priors[contract_years].distribution", "contract_years takes whole numbers: expected integer, got uniform") in got
    assert {loc for loc, _ in got} >= {"priors[risk_aversion].distribution", "priors[risk_aversion].shape"}
    assert len(got) == 7


def test_priors_file_shape(tmp_path: Path) -> None:
    for name, text, message in [("a.yaml", "discovery_rate: {distribution: uniform, low: 0, high: 1}\n", "expected one top-level key `priors`"),
                                ("b.yaml", "priors: [1, 2]\n", "expected a mapping"),
                                ("c.txt", "priors: {}\n", "unknown file type"),
                                ("d.yaml", "priors: {discovery_rate: 3}\n", "expected {distribution, low, high} or null")]:
        (tmp_path / name).write_text(text)
        with pytest.raises(ScenarioError) as info:
            load_priors(tmp_path / name, DEFAULTS)
        assert message in str(info.value), name
    with pytest.raises(ScenarioError, match="no rule left to calibrate"):
        validate_priors(dict.fromkeys(DEFAULTS), DEFAULTS)


def test_integer_rules_are_rounded_and_loguniform_is_uniform_in_log() -> None:
    p = Prior("contract_years", "integer", 2, 20)
    assert p.latent_bounds == (1.5, 20.5)
    assert p.value(np.array([1.5, 2.49, 2.5, 20.49])).tolist() == [2, 2, 3, 20]
    q = Prior("discovery_rate", "loguniform", 0.1, 10)
    assert q.latent_bounds == pytest.approx((math.log(0.1), math.log(10)))
    assert q.value(np.array([0.0])) == pytest.approx([1.0])


# ---------------------------------------------------------------- ABC-SMC pieces


def test_threshold_quantile_and_floor() -> None:
    d = np.array([0.0, 1.0, 2.0, 3.0, math.inf])
    assert smc.threshold(d, None, 0.5, 1) == 1.5  # the median of the finite distances
    prev = smc.Population(np.zeros((3, 1)), np.full(3, 1 / 3), np.array([0.1, 0.2, 0.3]), 0.3)
    assert smc.threshold(d, prev, 0.5, 1) == 0.2  # the previous accepted distances' median
    assert smc.threshold(d, prev, 0.5, 3) == 2.0  # raised so that 3 are accepted
    assert smc.weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), 0.5) == 2.0


def test_proposals_stay_in_the_prior_box_and_weights_sum_to_one() -> None:
    priors = [Prior("a", "uniform", 0.0, 1.0), Prior("b", "integer", 2, 5)]
    rng = np.random.default_rng(0)
    theta = smc.from_prior(priors, 50, rng)
    pop = smc.accept(theta, rng.random(50), None, None, 0.5, 5)
    new, cov = smc.propose(pop, priors, 40, rng)
    lo, hi = smc.bounds(priors)
    assert new.shape == (40, 2) and np.all(new >= lo) and np.all(new < hi)
    w = smc.importance_weights(new, pop, cov)
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0)
    assert set(smc.values(priors, new)[:, 1]) <= {2.0, 3.0, 4.0, 5.0}


# ---------------------------------------------------------------- runs


def _same(a: Any, b: Any) -> None:
    pd.testing.assert_frame_equal(a.particles(), b.particles())
    cols = ["run_id", "stage", "generation", "seed", "rules", "status", "distance", "years"]
    pd.testing.assert_frame_equal(a.runs[cols].reset_index(drop=True), b.runs[cols].reset_index(drop=True), check_dtype=False)


def test_same_seed_same_posterior_for_jobs_1_and_2(pairs) -> None:  # type: ignore[no-untyped-def]
    scenario, history, base = pairs
    kwargs = {"samples": 50, "generations": 2, "seed": 4, "baseline": base}
    one = calibrate(scenario, history, only(TWO_RULES), jobs=1, **kwargs)
    two = calibrate(scenario, history, only(TWO_RULES), jobs=2, **kwargs)
    _same(one, two)
    assert len(one.runs) == 50 and (one.runs.status == "ok").all()
    assert one.budget == run_mod.Budget(default=2, per_generation=23, generations=2, predictive=2)
    other = calibrate(scenario, history, only(TWO_RULES), jobs=1, **{**kwargs, "seed": 5})
    assert not one.runs.seed.equals(other.runs.seed)


@pytest.mark.slow
def test_dask_local_gives_the_same_posterior(pairs) -> None:  # type: ignore[no-untyped-def]
    scenario, history, base = pairs
    kwargs = {"samples": 50, "generations": 2, "seed": 4, "baseline": base}
    _same(calibrate(scenario, history, only(TWO_RULES), jobs=1, **kwargs),
          calibrate(scenario, history, only(TWO_RULES), jobs=2, dask="local", **kwargs))


def test_a_failed_run_is_recorded_and_the_store_resumes(pairs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario, history, base = pairs
    real = run_mod.simulate

    def flaky(s: Scenario, seed: int, **kw: Any) -> Any:
        if seed % 5 == 0:
            raise RuntimeError("boom")
        return real(s, seed, **kw)

    monkeypatch.setattr(run_mod, "simulate", flaky)
    db = tmp_path / "c.duckdb"
    first = calibrate(scenario, history, only(TWO_RULES), samples=44, generations=2, seed=9, baseline=base, db=db)
    failed = first.runs[first.runs.status == "failed"]
    assert len(failed) == int((first.runs.seed % 5 == 0).sum()) > 0
    assert np.isinf(failed.distance).all() and failed.error.str.startswith("RuntimeError: boom").all()

    def never(*a: Any, **k: Any) -> Any:
        raise AssertionError("a stored run was simulated again")

    monkeypatch.setattr(run_mod, "simulate", never)
    again = calibrate(scenario, history, only(TWO_RULES), samples=44, generations=2, seed=9, baseline=base, db=db)
    _same(first, again)
    with pytest.raises(ValueError, match="holds another calibration"):
        calibrate(scenario, history, only(TWO_RULES), samples=44, generations=2, seed=10, baseline=base, db=db)


def test_too_small_a_budget_is_refused(pairs) -> None:  # type: ignore[no-untyped-def]
    scenario, history, base = pairs
    with pytest.raises(ValueError, match="use --samples >= 44"):
        calibrate(scenario, history, only(TWO_RULES), samples=43, generations=4, baseline=base)


# ---------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, pairs) -> Path:  # type: ignore[no-untyped-def]
    scenario, history, _ = pairs
    d = tmp_path_factory.mktemp("cal")
    (d / "s.yaml").write_text(yaml.safe_dump(heat_pairs()))
    rows = [{"from": e.from_, "to": e.to, "product": e.product, "year": e.year, "source": e.source} for e in history.exchanges]
    (d / "h.yaml").write_text(yaml.safe_dump({"scenario": "heat_pairs", "exchanges": rows}))
    (d / "p.yaml").write_text(yaml.safe_dump({"priors": TWO_RULES | {r: None for r in PRIORS if r not in TWO_RULES}}))
    return d


def test_cli_json_and_out(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = files / "out"
    code = main(["--no-progress", "calibrate", str(files / "s.yaml"), "--history", str(files / "h.yaml"), "--samples", "44",
                 "--generations", "2", "--seed", "1", "--priors", str(files / "p.yaml"), "--json", "--out", str(out)])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"accepted", "parameters", "distance", "fit"} <= set(obj)
    assert set(obj["parameters"]) == set(TWO_RULES)
    for p in obj["parameters"].values():
        assert {"mean", "q05", "q95"} <= set(p) and p["q05"] <= p["mean"] <= p["q95"]
    assert set(obj["distance"]) >= {"default", "calibrated"} and obj["accepted"] >= 5
    assert len(obj["fit"]) == len(yaml.safe_load((files / "h.yaml").read_text())["exchanges"])
    for f in obj["fit"]:
        assert {"observed_year", "simulated_median_year", "share_formed"} <= set(f) and 0 <= f["share_formed"] <= 1
    assert {p.name for p in out.iterdir()} == {"particles.csv", "runs.csv", "calibrate.json", "timeline.png", "posterior.png",
                                               "calibrate.duckdb"}
    assert json.loads((out / "calibrate.json").read_text())["parameters"] == obj["parameters"]
    assert len(pd.read_csv(out / "particles.csv")) == obj["accepted"]


def test_cli_text_and_input_errors(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--no-progress", "calibrate", str(files / "s.yaml"), "--history", str(files / "h.yaml")]
    assert main([*base, "--samples", "44", "--generations", "2", "--priors", str(files / "p.yaml")]) == 0
    text = capsys.readouterr().out
    assert "discovery_rate" in text and "distance (0 = the history reproduced)" in text and "e+" not in text
    (files / "bad.yaml").write_text("priors:\n  discovery_rte: null\n")
    assert main([*base, "--priors", str(files / "bad.yaml")]) == 2
    assert "priors[discovery_rte]: unknown rule `discovery_rte`; did you mean `discovery_rate`?" in capsys.readouterr().err
    assert main([*base, "--samples", "20"]) == 2
    assert "too few" in capsys.readouterr().err
    root = Path(__file__).parents[1] / "scenarios"
    assert main(["calibrate", str(root / "orkanger.yaml"), "--history", str(root / "orkanger_history.yaml")]) == 2
    assert "every exchange in it is an existing link" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["calibrate", str(files / "s.yaml")])
    assert info.value.code == 2


# ---------------------------------------------------------------- recovery


def _covered(scenario: Scenario, base: Any, truth: dict[str, float], seed: int, samples: int, generations: int) -> dict[str, bool]:
    history = simulated_history(scenario, truth, seed)
    cal = calibrate(scenario, history, only(TWO_RULES), samples=samples, generations=generations, seed=seed, baseline=base)
    obj = cal.to_json()
    return {rule: obj["parameters"][rule]["q05"] <= value <= obj["parameters"][rule]["q95"] for rule, value in truth.items()}


def test_recovery_of_known_rules(pairs) -> None:  # type: ignore[no-untyped-def]
    """A history simulated with known rules is calibrated back: the truth lies in the 90 % posterior interval."""
    scenario, _, base = pairs
    covered = _covered(scenario, base, {"discovery_rate": 0.4, "max_payback_years": 5.0}, seed=11, samples=160, generations=3)
    assert sum(covered.values()) >= 1, covered


@pytest.mark.slow
def test_recovery_coverage_over_several_histories(pairs) -> None:  # type: ignore[no-untyped-def]
    scenario, _, base = pairs
    cases = [({"discovery_rate": 0.2, "max_payback_years": 3.0}, 21), ({"discovery_rate": 0.5, "max_payback_years": 6.0}, 22),
             ({"discovery_rate": 1.0, "max_payback_years": 8.0}, 23), ({"discovery_rate": 0.1, "max_payback_years": 4.5}, 27),
             ({"discovery_rate": 2.0, "max_payback_years": 2.5}, 25), ({"discovery_rate": 0.3, "max_payback_years": 9.0}, 26)]
    hits = [v for truth, seed in cases for v in _covered(scenario, base, truth, seed, samples=400, generations=4).values()]
    print(f"recovery coverage: {sum(hits)} of {len(hits)} true values inside the 90 % intervals")
    assert sum(hits) >= 0.7 * len(hits)


# ---------------------------------------------------------------- figures


def test_calibrate_figures_follow_the_house_style(pairs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The timeline (one row per history row, observed diamond, legend, the share formed beside each row) and the
    posterior (one panel per rule, the prior, the 90 % interval and the default in a legend; units on the axes)
    keep the style every figure keeps (``tests/test_figures_style._check``): no offset text, titles and legends
    inside the figure, unique tick labels."""
    from symbiosim.calibrate.figures import posterior_figure, timeline_figure
    from symbiosim.report import style
    from tests.test_figures_style import _check, _legends

    scenario, history, base = pairs
    cal = calibrate(scenario, history, only(TWO_RULES), samples=44, generations=2, seed=3, baseline=base)
    with style.capture_figures() as figs:
        timeline_figure(cal, tmp_path / "timeline.png")
        posterior_figure(cal, tmp_path / "posterior.png")
    timeline, posterior = figs
    for fig in figs:
        _check(fig)
        assert _legends(fig)
    ax = timeline.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == [t.label for t in reversed(cal.targets.targets)]
    assert ax.get_xlabel() == "calendar year of the first flow"
    assert sum("formed in" in t.get_text() for t in ax.texts) == len(rows)
    panels = [a for a in posterior.axes if a.axison]
    assert [a.get_title() for a in panels] == ["discovery_rate", "max_payback_years"]
    assert "log scale" in panels[0].get_xlabel() and panels[1].get_xlabel() == "years"
    assert {t.get_text() for t in _legends(posterior)[0].get_texts()} == {"posterior", "prior", "90 % interval", "default"}
    assert (tmp_path / "timeline.png").stat().st_size > 10_000 and (tmp_path / "posterior.png").stat().st_size > 10_000
