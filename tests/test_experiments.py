"""Experiments: design, runner (resume, failures, parallel), summary, CLI."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from symbiosim.experiments import runner as runner_mod
from symbiosim.experiments.analysis import prim_box, summarize
from symbiosim.experiments.design import apply_sample, load_arms, make_design, validate_arms
from symbiosim.experiments.reuse import ReusablePlanner
from symbiosim.experiments.runner import Experiment, run_experiment
from symbiosim.planner import optimise
from symbiosim.store import ResultsStore
from tests.tiny import HEAT_LINK, build

UNCERTAINTY = [
    {"target": "purchases[product=gas].price", "dist": "uniform", "low": 0.5, "high": 1.5},
    {"target": "links[to=greenhouse].build_cost", "dist": "triangular", "low": 0.5, "mode": 1.0, "high": 5.0},
    {"target": "settings.discount_rate", "dist": "uniform", "low": 0.0, "high": 0.1, "as": "value"},
]
ARMS = {"none": {}, "subsidy": {"exchange_subsidy": 20}, "tax": {"virgin_tax": 30}}


@pytest.fixture(scope="module")
def scenario():
    return build(HEAT_LINK, uncertainty=UNCERTAINTY)


def _tables(path) -> dict[str, pd.DataFrame]:
    """Every table sorted by its keys, without timings and timestamps."""
    out = {}
    with ResultsStore(path, read_only=True) as store:
        for t in store.tables():
            df = store.read(t).drop(columns=["seconds", "created", "updated"], errors="ignore")
            keys = [c for c in ("run_id", "source", "kpi", "actor") if c in df.columns]
            out[t] = df.sort_values(keys).reset_index(drop=True) if keys else df
    return out


def _same(a, b) -> None:
    ta, tb = _tables(a), _tables(b)
    assert ta.keys() == tb.keys()
    for t in ta:
        pd.testing.assert_frame_equal(ta[t], tb[t], check_dtype=False)


# ---- design -------------------------------------------------------------


def test_lhs_marginals_are_stratified(scenario):
    n = 40
    d = make_design(scenario, n, method="lhs", seed=3)
    gas = d.in_purchases_product_gas_price.to_numpy()
    strata = np.floor((gas - 0.5) / 1.0 * n).astype(int)  # uniform(0.5, 1.5): one sample per 1/n stratum
    assert sorted(strata) == list(range(n))
    rate = d.in_settings_discount_rate.to_numpy()
    assert sorted(np.floor(rate / 0.1 * n).astype(int)) == list(range(n))
    mc = make_design(scenario, n, method="mc", seed=3)
    assert len(set(np.floor((mc.in_purchases_product_gas_price - 0.5) * n).astype(int))) < n  # plain MC clumps


def test_sobol_design_and_indices_know_the_answer(scenario):
    """Saltelli's design with N = 16 and D = 3 inputs has N (D + 2) = 80 samples.
    For y = 4 u_gas + u_rate (u uniform on [0, 1], independent) the variance is
    (16 + 1) / 12, so S1 = ST = 16/17 for gas, 1/17 for the rate and 0 for the
    link cost (no interactions)."""
    from symbiosim.experiments.analysis import sobol_indices
    from symbiosim.experiments.design import unit_sample

    d = make_design(scenario, 16, method="sobol", arms={"a": {}, "b": {}}, seed=2)
    assert d.sample_id.nunique() == 80 and len(d) == 160
    assert (d.groupby("sample_id").in_purchases_product_gas_price.nunique() == 1).all()
    u = unit_sample(1024, 3, "sobol", np.random.default_rng(0))
    idx = sobol_indices(4 * u[:, 0] + u[:, 2], ["gas", "cost", "rate"])
    assert idx["gas"]["S1"] == pytest.approx(16 / 17, abs=0.03) and idx["gas"]["ST"] == pytest.approx(16 / 17, abs=0.03)
    assert idx["rate"]["S1"] == pytest.approx(1 / 17, abs=0.02) and idx["rate"]["ST"] == pytest.approx(1 / 17, abs=0.02)
    assert abs(idx["cost"]["ST"]) < 0.01


def test_paired_design_reuses_seeds_across_arms(scenario):
    d = make_design(scenario, 5, arms=ARMS, replications=3, seed=7)
    assert len(d) == 5 * 3 * 3 and d.run_id.tolist() == list(range(45))
    per = d.pivot_table(index=["sample_id", "replication"], columns="arm", values="seed")
    assert (per.nunique(axis=1) == 1).all()  # same seed in every arm
    assert per["none"].nunique() == 15  # distinct across samples and replications
    inputs = d.groupby("sample_id").in_purchases_product_gas_price.nunique()
    assert (inputs == 1).all()
    pd.testing.assert_frame_equal(d, make_design(scenario, 5, arms=ARMS, replications=3, seed=7))
    assert not make_design(scenario, 5, arms=ARMS, replications=3, seed=8).seed.equals(d.seed)


def test_apply_sample_factor_and_value(scenario):
    s = apply_sample(
        scenario,
        {"in_purchases_product_gas_price": 2.0, "in_links_to_greenhouse_build_cost": 0.5, "in_settings_discount_rate": 0.05},
    )
    assert s.purchases[0].price == 100.0  # 50 x 2
    assert s.links[0].build_cost == 500.0
    assert s.settings.discount_rate == 0.05
    assert scenario.purchases[0].price == 50.0  # input untouched


def test_arms_are_validated(tmp_path):
    path = tmp_path / "arms.yaml"
    path.write_text("arms:\n  none: {}\n  sub: {exchange_subsidy: 50}\n  fac: {facilitator: true}\n")
    assert load_arms(path) == {"none": {}, "sub": {"exchange_subsidy": 50}, "fac": {"facilitator": True}}
    with pytest.raises(ValueError, match="unknown instrument"):
        validate_arms({"x": {"bribe": 1}})
    with pytest.raises(ValueError, match="arm y.exchange_subsidy"):
        validate_arms({"y": {"exchange_subsidy": "lots"}})
    with pytest.raises(ValueError, match="share between 0 and 1"):
        validate_arms({"z": {"investment_subsidy": 2}})
    assert load_arms(None) == {"none": {}}


def test_reuse_gives_the_same_plans_as_rebuilding(scenario):
    planner = ReusablePlanner()
    design = make_design(scenario, 4, seed=1)
    for row in design.to_dict("records"):
        s = apply_sample(scenario, row)
        for baseline in (True, False):
            got, want = planner.solve(s, baseline=baseline), optimise(s, baseline=baseline)
            assert got.meta["objective_value"] == pytest.approx(want.meta["objective_value"], rel=1e-9, abs=1e-6)
            # the plan read from HiGHS's solution array is the plan loaded through Pyomo
            for table in ("activities", "purchases", "sales", "flows", "builds"):
                pd.testing.assert_frame_equal(getattr(got, table), getattr(want, table), check_exact=False, rtol=1e-7)
    assert planner.stats["reused"] == 6 and planner.stats["rebuilt"] == 2


def test_a_sampled_market_volume_is_re_solved_not_rebuilt():
    """FEED_ENTRY with the feed mill already built: 10 t/yr of offcuts, feed
    sells at 50/t up to the market volume L t/yr (feed cannot be dumped),
    offcuts not milled are dumped at 100/t. Over 4 years at 0 %:
    NPV = 4 (50 L - 100 (10 - L)) = 600 L - 4000, for L <= 10. The volume is
    only a variable bound, so the held model is re-solved with new bounds."""
    from tests.tiny import FEED_ENTRY

    raw = copy.deepcopy(FEED_ENTRY)
    raw["actors"][1] = {"id": "feedmill", "lat": 63.30, "lon": 9.85}
    raw["actor_processes"][1] = {**raw["actor_processes"][1], "exists": True}
    base = build(raw, uncertainty=[{"target": "sales[product=feed].limit", "dist": "uniform", "low": 2, "high": 10, "as": "value"}])
    planner = ReusablePlanner()
    for row in make_design(base, 4, seed=3).to_dict("records"):
        volume = row["in_sales_product_feed_limit"]
        got = planner.solve(apply_sample(base, row)).meta["objective_value"]
        assert got == pytest.approx(600 * volume - 4000, rel=1e-9)
    assert planner.stats == {"reused": 3, "rebuilt": 1}


def test_a_re_solve_does_not_depend_on_what_was_solved_before():
    """Two identical pipes (build cost 1000 each) tie; a fresh solver picks one
    (it happens to be smelter2's). After solving a sample where the *other* pipe
    is cheaper (900: it must be chosen), the tied sample must come back with
    exactly the fresh plan, not the one the previous solve left in the solver."""
    from tests.test_decide import two_smelters

    def other(plan):
        (chosen,) = plan.builds.query("kind == 'link'").actor
        return "smelter" if chosen == "smelter2" else "smelter2"

    tied = two_smelters()
    raw = tied.model_dump(by_alias=True, exclude_none=True)
    fresh = ReusablePlanner().solve(tied)
    raw["links"][[r["from"] for r in raw["links"]].index(other(fresh))]["build_cost"] = 900
    cheaper = type(tied).model_validate(raw)
    planner = ReusablePlanner()
    for s in (cheaper, tied, cheaper, tied):
        plan = planner.solve(s)
        if s is cheaper:  # the cheaper pipe is the one the fresh plan did not build
            assert plan.builds.query("kind == 'link'").actor.tolist() == [other(fresh)]
    assert planner.stats == {"reused": 3, "rebuilt": 1}
    pd.testing.assert_frame_equal(plan.flows, fresh.flows)
    pd.testing.assert_frame_equal(plan.builds, fresh.builds)


# ---- runner -------------------------------------------------------------


def _exp(scenario, samples=3, **kw):
    return Experiment(scenario, samples, arms=kw.pop("arms", ARMS), replications=kw.pop("replications", 2), seed=kw.pop("seed", 5), **kw)


def test_same_seed_gives_identical_database(scenario, tmp_path):
    a = run_experiment(_exp(scenario), tmp_path / "a.duckdb")
    run_experiment(_exp(scenario), tmp_path / "b.duckdb")
    assert a.runs == 18 and a.failed == 0
    _same(tmp_path / "a.duckdb", tmp_path / "b.duckdb")
    with ResultsStore(tmp_path / "a.duckdb", read_only=True) as store:
        assert set(store.tables()) == {"actors", "design", "kpis", "manifest", "runs"}
        runs = store.read("runs").set_index("run_id").sort_index()
        kpis, actors, design = store.read("kpis"), store.read("actors"), store.read("design").set_index("run_id")
        assert set(kpis.source) == {"baseline", "decentralised", "optimum"}
        m = store.read("manifest").iloc[0]
        assert m.root_seed == 5 and m.method == "lhs" and json.loads(m.arms) == ARMS and len(m.scenario_hash) == 64
    assert (runs.status == "ok").all()
    # gap = optimum NPV - decentralised NPV, rebuilt from the other tables: the
    # optimum is its actors' coordinated profits (actors table), the
    # decentralised NPV the kpis row, and the optimum is re-solved here from scratch
    npv = kpis[kpis.kpi == "cluster_npv"].pivot(index="run_id", columns="source", values="value").loc[runs.index]
    coordinated = actors.groupby("run_id").coordinated.sum().loc[runs.index]
    np.testing.assert_allclose(coordinated, npv.optimum, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(runs.gap, coordinated - npv.decentralised, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(runs.cluster_npv, npv.decentralised, rtol=1e-9, atol=1e-6)
    for _, group in design.loc[runs.index].groupby("sample_id"):
        optimum = optimise(apply_sample(scenario, group.iloc[0].to_dict())).meta["objective_value"]
        # batch optima stop at a relative MIP gap of 1e-3; optimum_gap bounds the difference
        assert npv.optimum.loc[group.index].to_numpy() == pytest.approx(optimum, rel=1e-3, abs=1e-6)
        assert (npv.optimum.loc[group.index] >= optimum - runs.optimum_gap.loc[group.index] - 1e-6).all()
    # the pipe (1,000) saves 80 x 50 a year: the firms build it on their own in every run,
    # and the decentralised outcome reaches the optimum
    assert runs.gap.abs().max() < 1e-6 and (runs.share_of_potential > 1 - 1e-9).all()
    files = ResultsStore(tmp_path / "a.duckdb").export_parquet(tmp_path / "pq")
    assert {f.stem for f in files} == {"actors", "design", "kpis", "manifest", "runs"}


def test_resume_after_a_kill_skips_finished_runs(scenario, tmp_path, monkeypatch):
    real = runner_mod.simulate
    calls = {"n": 0}

    def dies_part_way(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 14:
            raise KeyboardInterrupt  # like a kill: not caught as a failed run
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_mod, "simulate", dies_part_way)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_exp(scenario), tmp_path / "r.duckdb", chunk=1)
    with ResultsStore(tmp_path / "r.duckdb", read_only=True) as store:
        finished = len(store.read("runs"))
    assert 0 < finished < 18
    monkeypatch.setattr(runner_mod, "simulate", real)
    counted = {"n": 0}

    def counting(*args, **kwargs):
        counted["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_mod, "simulate", counting)
    report = run_experiment(_exp(scenario), tmp_path / "r.duckdb", chunk=1)
    assert report.skipped == finished and report.ran == 18 - finished and counted["n"] == 18 - finished
    run_experiment(_exp(scenario), tmp_path / "clean.duckdb", chunk=1)
    _same(tmp_path / "r.duckdb", tmp_path / "clean.duckdb")  # nothing lost or duplicated
    again = run_experiment(_exp(scenario), tmp_path / "r.duckdb", chunk=1)
    assert again.ran == 0


def test_a_different_experiment_is_refused(scenario, tmp_path):
    run_experiment(_exp(scenario, samples=1, replications=1), tmp_path / "d.duckdb")
    with pytest.raises(ValueError, match="different experiment"):
        run_experiment(_exp(scenario, samples=1, replications=1, seed=6), tmp_path / "d.duckdb")


def test_a_failing_run_is_recorded_and_the_rest_finish(scenario, tmp_path, monkeypatch):
    real = runner_mod.simulate
    design = make_design(scenario, 3, arms=ARMS, replications=2, seed=5)
    bad_seed = int(design.seed.iloc[3])

    def fails(scn, seed, **kwargs):
        if seed == bad_seed:
            raise RuntimeError("boom")
        return real(scn, seed, **kwargs)

    monkeypatch.setattr(runner_mod, "simulate", fails)
    report = run_experiment(_exp(scenario), tmp_path / "f.duckdb")
    with ResultsStore(tmp_path / "f.duckdb", read_only=True) as store:
        runs = store.read("runs").sort_values("run_id")
        actors = store.read("actors")
    bad = design[design.seed == bad_seed].run_id
    assert report.failed == len(bad) == 3  # one (sample, replication) in each of 3 arms
    failed = runs[runs.status == "failed"]
    assert set(failed.run_id) == set(bad) and failed.error.str.contains("RuntimeError: boom").all()
    assert (runs[runs.status == "ok"].run_id.count()) == 15
    assert not set(actors.run_id) & set(bad)


def test_an_infeasible_sample_fails_its_runs(tmp_path):
    # gas at a negative price is invalid: the sample fails validation, its runs are recorded as failed
    s = build(HEAT_LINK, uncertainty=[{"target": "purchases[product=gas].price", "dist": "uniform", "low": -1.0, "high": 1.0, "as": "factor"}])
    report = run_experiment(Experiment(s, 6, arms={"none": {}}, seed=2), tmp_path / "i.duckdb")
    with ResultsStore(tmp_path / "i.duckdb", read_only=True) as store:
        runs = store.read("runs")
    assert report.runs == 6 and 0 < report.failed < 6
    assert runs[runs.status == "failed"].error.str.startswith("sample:").all()


def test_two_jobs_give_the_same_numbers(scenario, tmp_path):
    run_experiment(_exp(scenario, samples=4, replications=1), tmp_path / "one.duckdb", jobs=1, chunk=1)
    run_experiment(_exp(scenario, samples=4, replications=1), tmp_path / "two.duckdb", jobs=2, chunk=1)
    _same(tmp_path / "one.duckdb", tmp_path / "two.duckdb")


@pytest.mark.slow
def test_dask_local_gives_the_same_numbers(scenario, tmp_path):
    pytest.importorskip("dask.distributed")
    run_experiment(_exp(scenario), tmp_path / "one.duckdb", jobs=1)
    run_experiment(_exp(scenario), tmp_path / "dask.duckdb", jobs=2, dask="local")
    _same(tmp_path / "one.duckdb", tmp_path / "dask.duckdb")


# ---- analysis -----------------------------------------------------------


def test_prim_finds_the_failing_corner():
    rng = np.random.default_rng(0)
    x = rng.random((400, 3))
    fail = ((x[:, 0] > 0.7) & (x[:, 2] < 0.5)).astype(float)
    box = prim_box(x, fail, ["a", "b", "c"])
    assert box["density"] > 0.8 and box["coverage"] > 0.5
    assert box["box"]["a"]["low"] > 0.6 and box["box"]["c"]["high"] < 0.6 and "b" not in box["box"]


def test_summary_and_cli(scenario, tmp_path):
    import yaml

    from symbiosim.cli import main

    path = tmp_path / "heat.yaml"
    raw = scenario.model_dump(by_alias=True, exclude_none=True, mode="json")
    # A fixed transaction cost of 1,500/yr per side against a saving of 4,000 x the gas factor
    # (0.5-1.5) a year: the firms build the pipe only when gas is dear, so the gap (and the
    # tax revenue from gas still bought) depends on the gas price.
    raw["behaviour"] = [{"actor": "*", "transaction_cost": 1500}]
    path.write_text(yaml.safe_dump(raw))
    arms = tmp_path / "arms.yaml"
    arms.write_text(yaml.safe_dump({"arms": {"none": {}, "tax": {"virgin_tax": 30}}}))
    db = tmp_path / "e.duckdb"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["experiment", str(path), "--samples", "20", "--arms", str(arms), "--seed", "1", "--out", str(db), "--json"])
    assert code == 0
    out = json.loads(buf.getvalue())
    assert out["runs"] == 40 and out["failed"] == 0 and set(out["summary"]) == {"none", "tax"}
    assert out["summary"]["tax"]["public_cost"]["mean"] < 0  # a tax is revenue
    result = summarize(db, out=tmp_path / "fig")
    assert result["paired"]["reference"] == "none" and set(result["paired"]["arms"]) == {"tax"}
    assert result["sensitivity"]["arms"]["none"]["in_purchases_product_gas_price"]["S1"] > 0.1
    for name in ("distributions", "paired_differences", "sensitivity", "cost_vs_share"):
        assert (tmp_path / "fig" / f"{name}.png").stat().st_size > 0
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["summarize", str(db), "--json"]) == 0
    assert json.loads(buf.getvalue())["runs"] == 40
    with pytest.raises(SystemExit) as missing:  # checked when parsed (symbiosim.cli_args): argparse's exit 2
        main(["experiment", str(path), "--arms", str(tmp_path / "missing.yaml")])
    assert missing.value.code == 2


def test_a_sobol_experiment_gets_sobol_indices(scenario, tmp_path):
    """N = 8 base samples and D = 3 inputs: 8 x 5 = 40 samples; summarize gives S1
    and ST per input, and the gas price, which decides whether the pipe pays,
    has a total index above 0.1."""
    db = tmp_path / "s.duckdb"
    report = run_experiment(Experiment(scenario, 8, method="sobol", seed=4), db)
    assert report.runs == 40 and report.failed == 0
    sens = summarize(db)["sensitivity"]
    assert sens["method"].startswith("SALib Sobol")
    none = sens["arms"]["none"]
    assert set(none["in_purchases_product_gas_price"]) == {"S1", "S1_conf", "ST", "ST_conf"}
    assert none["in_purchases_product_gas_price"]["ST"] > 0.1
