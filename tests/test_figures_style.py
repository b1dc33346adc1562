"""Every figure kind drawn on a tiny case and inspected as a matplotlib Figure (issue 14):
money axes carry the scenario's currency and scale and no offset text (``1e8``), a legend
wherever colour carries meaning, one colour per product in the plan's and the simulator's flow
figures, titles inside the figure, tick labels that do not read the same, and a sensitivity
figure that says when its indices cannot be trusted."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from symbiosim.plan import Plan, empty_table, make_table
from symbiosim.report import style
from tests.tiny import HEAT_LINK, build


@pytest.fixture(autouse=True)
def _close_captured_figures():
    """Captured figures stay open for inspection; close them after each test (else every later
    figure of the session warns that more than 20 are open, and memory grows)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")

CURRENCY = "EUR"  # not the default NOK: a figure that ignores the scenario's currency fails


@pytest.fixture(scope="module")
def heat():
    return build(HEAT_LINK, settings={"currency": CURRENCY})


def _one(figures: list[Figure]) -> Figure:
    assert len(figures) == 1
    return figures[0]


def _inside(fig: Figure, artist) -> bool:  # type: ignore[no-untyped-def]
    """The artist's drawn box lies within the figure (1 px slack)."""
    box = artist.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    f = fig.bbox
    return box.x0 >= f.x0 - 1 and box.x1 <= f.x1 + 1 and box.y0 >= f.y0 - 1 and box.y1 <= f.y1 + 1


def _check(fig: Figure) -> None:
    """What every figure keeps: no offset text, titles and legends inside the figure, unique tick labels."""
    fig.canvas.draw()
    for ax in fig.axes:
        if not ax.axison:
            continue
        assert ax.xaxis.get_offset_text().get_text() == "", ax.get_title()
        assert ax.yaxis.get_offset_text().get_text() == "", ax.get_title()
        if ax.get_title():
            assert _inside(fig, ax.title), ax.get_title()
        for legend in [c for c in ax.get_children() if isinstance(c, Legend)]:
            assert _inside(fig, legend)
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            assert len(labels) == len(set(labels)), labels
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        assert _inside(fig, suptitle)


def _legends(fig: Figure) -> list[Legend]:
    return [c for ax in fig.axes for c in ax.get_children() if isinstance(c, Legend)] + list(fig.legends)


# ---- the style module ------------------------------------------------------------------


def test_product_colours_are_fixed_for_known_ids_and_stable_for_others():
    assert style.product_colour("waste_heat") == style.PRODUCT_COLOURS["waste_heat"]
    assert style.product_colour("steam") != style.product_colour("waste_heat")
    assert style.product_colour("some_new_residue") in style.PALETTE
    code = "from symbiosim.report.style import product_colour as c; print(c('some_new_residue'), c('zz_other'))"
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1  # the same id, the same colour, in every run


def test_unique_labels_keep_labels_apart_and_short():
    labels = [
        "exchange:norsk_kylling->furumoen_feed:chicken_offcuts",
        "exchange:norsk_kylling->orkland_biogas:chicken_offcuts",
        "build:thamshavn_greenhouse/greenhouse_electric_boiler",
        "build:thamshavn_greenhouse/greenhouse_growing",
        "entry:a",
    ]
    short = style.unique_labels(labels, 30)
    assert len(set(short)) == len(labels)
    assert short[-1] == "entry:a"
    assert all(len(s) <= 40 for s in short)


def test_money_axis_puts_currency_and_scale_in_the_label_and_plain_ticks():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [4.80e9, 4.9e9, 4.99e9])
    label = style.money_axis(ax, "NOK", "NPV")
    fig.canvas.draw()
    assert label == "NPV (M NOK)"
    assert ax.yaxis.get_offset_text().get_text() == ""
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all("e" not in t for t in ticks) and len(set(ticks)) == len(ticks)
    assert any("," in t for t in ticks)  # 4,800 M, thousands separated
    plt.close(fig)
    assert style.snap([-4.7e-14, 0.5, 1.0]) == [0.0, 0.5, 1.0]


# ---- flows and links -------------------------------------------------------------------


def _plan(flows: list[tuple[str, str, str, float]]) -> Plan:
    tables = {n: empty_table(n) for n in ("activities", "purchases", "sales", "disposals", "storage", "builds")}
    rows = [(s, t, p, y, y, v, np.nan) for s, t, p, v in flows for y in (0, 1)]
    return Plan(flows=make_table("flows", rows), **tables)


def test_a_product_has_one_colour_in_the_plan_and_the_simulator_flow_figures(heat, tmp_path):
    from symbiosim.report.figures import flow_figure

    # the plan moves a product sorted before the heat, the decentralised run only the heat
    with style.capture_figures() as figs:
        flow_figure(heat, _plan([("smelter", "greenhouse", "gas", 5.0), ("smelter", "greenhouse", "heat", 80.0)]), tmp_path / "a.png")
        flow_figure(heat, _plan([("smelter", "greenhouse", "heat", 60.0)]), tmp_path / "b.png", title="decentralised")
    colours = []
    for fig in figs:
        _check(fig)
        legends = {lg.get_title().get_text(): lg for lg in _legends(fig)}
        assert {"product", "actor"} <= set(legends)  # product colours and node colours both explained
        colours.append({t.get_text().split(" (")[0]: h.get_color() for t, h in  # type: ignore[union-attr]
                        zip(legends["product"].get_texts(), legends["product"].legend_handles, strict=True)})
    assert colours[0]["heat"] == colours[1]["heat"] == style.product_colour("heat")
    assert colours[0]["gas"] != colours[0]["heat"]
    assert "MWh" in legends["product"].get_texts()[0].get_text()  # the unit of the product


def test_flow_and_links_figures_of_real_runs(heat, tmp_path):
    from symbiosim.planner import optimise
    from symbiosim.report.figures import flow_figure, links_figure
    from symbiosim.simulator import simulate

    plan = optimise(heat)
    result = simulate(heat, 0)
    with style.capture_figures() as figs:
        flow_figure(heat, plan, tmp_path / "flows.png")
        links_figure(heat, result.contracts, result.series, tmp_path / "links.png")
    flows, links = figs
    for fig in figs:
        _check(fig)
    assert flows.axes[0].get_xlabel() == "longitude (°E)"
    assert [lg.get_title().get_text() for lg in _legends(links)] == ["contract"]
    assert links.axes[1].get_ylabel() == "links active (count)"
    for t in links.axes[0].get_yticklabels():
        assert t.get_text() == "" or f"{CURRENCY}/" in t.get_text()  # prices with currency per unit


def test_flow_figure_keeps_names_and_quantities_apart(tmp_path):
    """Two actors at one place with long names and flows both ways: after placement no two texts overlap and
    no text covers an actor's node (without it, the quantity labels sit on each other between the nodes)."""
    from symbiosim.report.figures import flow_figure

    raw = copy.deepcopy(HEAT_LINK)
    raw["actors"][0]["name"] = "A smelter with a long name (silicon metal)"
    raw["actors"][1]["name"] = "A greenhouse with a long name (tomatoes)"
    scenario = build(raw, settings={"currency": CURRENCY})
    plan = _plan([("smelter", "greenhouse", "heat", 80_000.0), ("greenhouse", "smelter", "gas", 12_345.0),
                  ("smelter", "greenhouse", "warmth", 4_321.0)])
    with style.capture_figures() as figs:
        flow_figure(scenario, plan, tmp_path / "flows.png")
    fig = _one(figs)
    _check(fig)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = [t for t in ax.texts if t.get_text().strip()]
    assert len(texts) == 5  # two names, three quantities
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[:i]):
            assert not a.overlaps(b), (texts[i].get_text(), texts[j].get_text())
    nodes = ax.transData.transform([(a.lon, a.lat) for a in scenario.actors])
    for t, box in zip(texts, boxes, strict=True):
        for x, y in nodes:
            assert not box.contains(x, y), t.get_text()


# ---- comparison and incentives ---------------------------------------------------------


def _kpis() -> pd.DataFrame:
    return pd.DataFrame(
        {"baseline": [4.80e9, 1.72e10, 843.5, 4.7e6], "decentralised": [4.80e9, 1.72e10, 843.5, 4.7e6],
         "optimum": [4.99e9, 1.80e10, 884.9, 4.71e6]},
        index=["cluster_npv", "value_added", "jobs", "emissions"],
    )


def test_gap_figure_has_no_zero_baseline_bar_and_units_on_every_axis(tmp_path):
    from symbiosim.report.compare_figures import gap_figure

    with style.capture_figures() as figs:
        gap_figure(_kpis(), tmp_path / "gap.png", CURRENCY)
    fig = _one(figs)
    _check(fig)
    assert fig.legends  # the outcome colours are explained
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert f"M {CURRENCY}" in labels[0] and f"M {CURRENCY}" in labels[1]
    assert "FTE" in labels[2] and "t CO2e" in labels[3]
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["decentralised", "optimum"]  # no always-zero baseline bar
        assert "baseline" in ax.get_title()


def test_actors_and_decomposition_figures_carry_the_currency(tmp_path):
    from symbiosim.report.compare_figures import actors_figure, decomposition_figure

    actors = pd.DataFrame({"actor": ["a_long_actor_name_one", "a_long_actor_name_two"], "baseline_profit": [1e8, 2e8],
                           "decentralised_profit": [1e8, 2e8], "coordinated_profit": [1.5e8, 1.9e8],
                           "coordinated_profit_shapley": [1.2e8, 2.2e8]})
    table = pd.DataFrame({"friction": ["discovery", "transaction cost", "residual", "all frictions"],
                          "closed_shapley": [6e7, 3e7, 1e7, 1e8]})
    table.attrs["gap"] = 1e8
    with style.capture_figures() as figs:
        actors_figure(actors, ["shapley"], tmp_path / "actors.png", CURRENCY)
        decomposition_figure(table, tmp_path / "dec.png", CURRENCY)
    a, d = figs
    for fig in figs:
        _check(fig)
    assert CURRENCY in a.axes[0].get_ylabel() and _legends(a)
    assert f"M {CURRENCY}" in d.axes[0].get_xlabel() and f"M {CURRENCY}" in d.axes[0].get_title()


def test_incentive_cost_figure_snaps_noise_and_shows_a_sensible_share_range(tmp_path):
    from symbiosim.report.compare_figures import cost_figure

    tried = pd.DataFrame({"instrument": "exchange_subsidy", "level": [0.0, 100.0, 200.0, 400.0],
                          "share_of_potential": [-4.7e-14, -4.5e-14, -4.3e-14, -4.4e-14], "share_sd": [0.0, 0.0, 1e-15, 0.0],
                          "public_cost": [0.0, 1.2e8, 2.5e8, 4.1e8]})
    with style.capture_figures() as figs:
        cost_figure(tried, tmp_path / "cost.png", CURRENCY)
    fig = _one(figs)
    _check(fig)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo <= 0.0 and hi >= 1.0 and hi - lo < 1.5  # [0, 100 %], not -4.7e-14 to -4.3e-14
    assert f"M {CURRENCY}" in ax.get_ylabel()
    assert "%" in ax.get_xlabel()
    assert f"{CURRENCY}/unit" in ax.get_title()  # the unit of the level labels


# ---- decision support ------------------------------------------------------------------


def test_alternatives_figure_has_a_fitting_title_distinct_labels_and_a_legend(tmp_path):
    from symbiosim.decide.figures import decisions_figure

    names = ["exchange:norsk_kylling->furumoen_feed:chicken_offcuts", "exchange:norsk_kylling->orkland_biogas:chicken_offcuts",
             "build:thamshavn_greenhouse/greenhouse_electric_boiler", "build:thamshavn_greenhouse/greenhouse_growing",
             "entry:orkland_biogas"]
    kinds = ["exchange", "exchange", "build", "build", "entry"]
    rows = [{"plan": p, "kind": k, "decision": d, "chosen": (i + j) % 2 == 0, "in_optimum": i % 2 == 0}
            for j, p in enumerate(["optimum", "alt_1", "alt_2"]) for i, (d, k) in enumerate(zip(names, kinds, strict=True))]
    title = "a_scenario_with_a_long_name: decisions per near-optimal plan, five of them, slack 5 %"
    with style.capture_figures() as figs:
        decisions_figure(pd.DataFrame(rows), tmp_path / "alternatives.png", title)
    fig = _one(figs)
    _check(fig)
    ax = fig.axes[0]
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert len(set(shown)) == len(names)
    (legend,) = _legends(fig)
    assert {t.get_text() for t in legend.get_texts()} == {"chosen: entry", "chosen: build", "chosen: exchange", "not chosen"}
    assert ax.get_title().replace("\n", " ") == title


def test_pareto_figure_has_money_axes_and_no_overlapping_notes(tmp_path):
    from symbiosim.decide.figures import pareto_figure

    changed = ["", "+entry:a, -exchange:x->y:heat", "+entry:a, +build:b/c, -exchange:x->y:heat", "+entry:b"]
    points = pd.DataFrame({"point": ["A", "P1", "P2", "B"], "order": [0, 1, 2, 3], "decisions_changed": changed,
                           "cluster_npv_objective": [4.99e9, 4.98e9, 4.97e9, 4.96e9], "jobs_objective": [880.0, 881.0, 882.0, 883.0]})
    with style.capture_figures() as figs:
        pareto_figure(points, "cluster_npv", "jobs", tmp_path / "pareto.png", "tiny: cluster_npv vs jobs", CURRENCY)
    fig = _one(figs)
    _check(fig)
    ax = fig.axes[0]
    assert f"M {CURRENCY}" in ax.get_ylabel() and "FTE" in ax.get_xlabel()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_cases_and_robustness_figures(tmp_path):
    from symbiosim.decide.figures import cases_figure, robustness_figure

    comparison = pd.DataFrame({"case_id": ["base", "high_gas_price", "carbon_tax"], "cluster_profit": [4.8e9, 4.9e9, 4.7e9],
                               "value_added_regional": [1.7e10, 1.8e10, 1.7e10], "value_added_national": [1.9e10, 2.0e10, 1.9e10],
                               "jobs": [843.0, 850.0, 845.0], "emissions": [4.7e6, 4.6e6, 4.5e6], "public_cost": [0.0, 0.0, -2e8]})
    decisions = pd.DataFrame({"decision": ["exchange:norsk_kylling->furumoen_feed:chicken_offcuts_and_more_words",
                                           "exchange:norsk_kylling->orkland_biogas:chicken_offcuts_and_more_words"],
                              "share_kept": [0.9, 0.2], "in_reference": [True, False]})
    with style.capture_figures() as figs:
        cases_figure(comparison, tmp_path / "cases.png", "tiny: cases", CURRENCY)
        robustness_figure(decisions, tmp_path / "robustness.png", "tiny: decisions under +-10% noise")
    cases, robust = figs
    for fig in figs:
        _check(fig)
    ylabels = [ax.get_ylabel() for ax in cases.axes]
    assert sum(CURRENCY in y for y in ylabels) == 4 and any("FTE" in y for y in ylabels)
    assert _legends(robust)


# ---- experiments -----------------------------------------------------------------------


def _ci(mean: float, half: float) -> dict[str, float]:
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def _result(samples: int) -> dict:
    names = ["in_purchases_product_wood_chips_price", "in_sales_actor_allskog_product_wood_chips_limit", "in_settings_discount_rate"]
    from symbiosim.experiments.analysis import sample_advice

    arms = {"none": {n: {"S1": s, "S1_conf": c} for n, s, c in zip(names, [0.003, -0.32, 0.62], [1.03, 0.94, 0.88], strict=True)}}
    sensitivity = {"method": "SALib RBD-FAST first-order indices (S1) on the given sample", "output": "gap", "arms": arms,
                   **sample_advice(False, {"none": samples, "tax": samples}, len(names), arms)}
    arm = {"share_of_potential": _ci(0.66, 0.1), "public_cost": _ci(0.0, 0.0)}
    tax = {"share_of_potential": _ci(0.8, 0.05), "public_cost": _ci(-2.5e7, 1e6)}
    return {"arms": {"none": arm, "tax": tax}, "sensitivity": sensitivity,
            "paired": {"reference": "none", "arms": {"tax": {"share_of_potential": _ci(0.14, 0.05), "public_cost": _ci(-2.5e7, 1e6)}}}}


def test_sensitivity_advice_states_the_samples_the_method_needs():
    from symbiosim.experiments.analysis import MIN_BASE_SOBOL, sample_advice

    few = sample_advice(False, {"none": 20}, 7, {})
    assert not few["trusted"] and "20 samples" in few["warning"] and "500" in few["warning"]
    sobol = sample_advice(True, {"none": 40}, 3, {})
    assert f"{MIN_BASE_SOBOL * 5:,}" in sobol["needs"] and "N * (D + 2)" in sobol["needs"]
    wide = sample_advice(False, {"none": 2000}, 1, {"none": {"x": {"S1": 0.5, "S1_conf": 0.4}}})
    assert not wide["trusted"] and "+-0.40" in wide["warning"]
    fine = sample_advice(False, {"none": 2000}, 1, {"none": {"x": {"S1": 0.5, "S1_conf": 0.03}}})
    assert fine["trusted"] and "warning" not in fine


def test_experiment_figures_warn_clip_and_label(tmp_path):
    from symbiosim.experiments.analysis import figures, format_summary

    frame = pd.DataFrame({"arm": ["none", "tax"] * 10, "status": "ok", "share_of_potential": np.linspace(0.5, 0.9, 20)})
    result = _result(20)
    labels = {"in_sales_actor_allskog_product_wood_chips_limit": "limit of sales (allskog, wood_chips)"}
    with style.capture_figures() as figs:
        figures(frame, result, tmp_path, labels=labels, currency=CURRENCY)
    dist, paired, sens, cost = figs
    for fig in figs:
        _check(fig)
    ax = sens.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "limit of sales (allskog, wood_chips)" in ticks and not any(t.startswith("in_") for t in ticks)
    assert all(p.get_width() >= 0 for p in ax.patches)  # type: ignore[attr-defined]  # no negative S1 bars
    assert ax.get_xlim() == (0.0, 1.0)
    texts = " ".join(t.get_text() for t in sens.texts)
    assert "WARNING" in texts and "500" in texts and "drawn as 0" in texts
    (legend,) = [lg for lg in _legends(sens)]
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())  # the legend is beside the bars
    assert f"M {CURRENCY}" in cost.axes[0].get_ylabel() and "%" in cost.axes[0].get_xlabel()
    summary = {"experiment": "x", "finished": 20, "runs": 20, "failed": 0, "failure_boxes": {"arms": {}},
               **{k: v for k, v in result.items()}}
    summary["arms"] = {a: {**e, "gap": _ci(1e6, 0), "emissions": _ci(1.0, 0), "p_no_actor_below_standalone": _ci(1.0, 0)}
                       for a, e in result["arms"].items()}
    assert "not to be trusted" in format_summary(summary)


def test_enough_samples_draw_no_warning(tmp_path):
    from symbiosim.experiments.analysis import figures

    result = _result(5000)
    for arm in result["sensitivity"]["arms"].values():
        for v in arm.values():
            v["S1_conf"] = 0.05
    from symbiosim.experiments.analysis import sample_advice

    result["sensitivity"].pop("warning", None)
    result["sensitivity"].update(sample_advice(False, {"none": 5000}, 3, result["sensitivity"]["arms"]))
    frame = pd.DataFrame({"arm": ["none", "tax"] * 10, "status": "ok", "share_of_potential": np.linspace(0.5, 0.9, 20)})
    with style.capture_figures() as figs:
        figures(frame, result, tmp_path)
    assert "WARNING" not in " ".join(t.get_text() for t in figs[2].texts)


def test_ripple_figure_stacks_the_parts_with_units_and_a_legend(tmp_path):
    """Per outcome and scope, the bars stack direct + indirect + induced: each bar's top is their sum (a missing
    regional part counts 0); money axis in the currency, jobs in jobs/yr, the parts in a legend."""
    from symbiosim.report.ripple_figures import ripple_figure

    def totals(d: float) -> dict[str, float]:
        return {"value_added_direct": d, "value_added_indirect_national": 2 * d, "value_added_induced_national": d,
                "value_added_indirect_regional": 0.5 * d, "value_added_induced_regional": float("nan"),
                "jobs_direct": d / 1e6, "jobs_indirect_national": d / 1e6, "jobs_induced_national": 0.0,
                "jobs_indirect_regional": 0.0, "jobs_induced_regional": 0.0}

    with style.capture_figures() as figs:
        ripple_figure({"baseline": totals(1e8), "optimum": totals(2e8)}, tmp_path / "ripple.png", CURRENCY, regional=True)
    fig = _one(figs)
    _check(fig)
    va, jobs = fig.axes
    assert f"M {CURRENCY}" in va.get_ylabel() and "jobs/yr" in jobs.get_ylabel()
    tops: dict[float, float] = {}
    for p in va.patches:
        x = round(p.get_x() + p.get_width() / 2, 6)
        tops[x] = max(tops.get(x, 0.0), p.get_y() + p.get_height())
    # baseline national, regional (NaN induced counts 0), optimum national, regional
    assert [round(tops[x]) for x in sorted(tops)] == [400_000_000, 150_000_000, 800_000_000, 300_000_000]
    assert {t.get_text() for t in _legends(fig)[0].get_texts()} == {"direct (the actors' own)", "indirect", "induced"}
