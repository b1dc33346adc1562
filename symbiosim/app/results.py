"""What a run of the web app computes, as plain data (it crosses a process boundary).

The same library calls as the CLI (``symbiosim.runs``); the page only draws
what comes back. Every source (baseline, optimum, decentralised) yields
the same three things: key figures, flows per year, and profit per actor,
so the map, the key-figure table and the case comparison read one shape.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.report.jsonable import clean, records

KEY_FIGURES = ("cluster_npv", "value_added", "jobs", "emissions", "public_cost")
Stage = Callable[[str], None]
# input-output tables the app offers for ripple effects: the bundled ones only (a name, never a path from the page)
IO_FOLDER = Path(__file__).resolve().parents[2] / "scenarios" / "io"
IO_TABLES = {"Orkland (illustrative, made-up numbers)": ("orkland_illustrative.yaml", "orkland_illustrative_region.yaml")}


def _effects_of(name: str) -> Callable[[Any, Any], dict[str, float]] | None:
    """The ripple effects' totals of one outcome (scenario, its accounts) with the bundled table ``name``;
    None for no table. Raises ValueError for a name the app does not offer."""
    if not name:
        return None
    if name not in IO_TABLES:
        raise ValueError(f"unknown input-output table {name!r}; the app offers: {', '.join(IO_TABLES)}")
    from symbiosim.ripple.effects import ripple_effects
    from symbiosim.ripple.iotable import load_io_table
    from symbiosim.ripple.multipliers import load_region_totals

    table_file, region_file = IO_TABLES[name]
    table, region = load_io_table(IO_FOLDER / table_file), load_region_totals(IO_FOLDER / region_file)
    return lambda scenario, accounts: ripple_effects(scenario, accounts.actors, table, region=region).totals


def _flows(plan: Any, source: str) -> list[dict[str, Any]]:
    f = plan.flows
    if not len(f):
        return []
    g = f.groupby(["source", "target", "product", "year"], as_index=False).value.sum()
    g = g[g.value > 1e-9].rename(columns={"source": "sender", "target": "receiver"})
    return records(g.assign(run=source))


def _png(draw: Callable[[Path], Any]) -> bytes:
    """A figure the CLI draws, as PNG bytes (drawn to a temporary file: the figure functions write files)."""
    with tempfile.TemporaryDirectory(prefix="symbiosim-app-fig-") as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return path.read_bytes()


def _builds(plan: Any) -> list[dict[str, Any]]:
    b = plan.builds
    return records(b) if len(b) else []


def _source(scenario: Any, plan: Any, accounts: Any, name: str,
            effects: Callable[[Any, Any], dict[str, float]] | None = None) -> dict[str, Any]:
    out = {
        "kpis": {k: float(v) for k, v in accounts.kpis.items()},
        "flows": _flows(plan, name),
        "builds": _builds(plan),
        "profit": {str(a): float(p) for a, p in zip(accounts.actors.actor, accounts.actors.profit, strict=True)},
    }
    if effects is not None:
        out["effects"] = effects(scenario, accounts)
    return out


def run(kind: str, raw: dict[str, Any], options: dict[str, Any], stage: Stage) -> dict[str, Any]:
    """Run ``kind`` (plan, simulate, compare, incentives) on a scenario given as plain data."""
    from symbiosim.accounts import evaluate
    from symbiosim.scenario.load import scenario_from_dict

    scenario = scenario_from_dict(raw, "scenario")
    seed = int(options.get("seed", 0))
    fx = _effects_of(str(options.get("io_table") or ""))
    out: dict[str, Any] = {"kind": kind, "seed": seed, "currency": scenario.settings.currency, "sources": {},
                           "io_table": str(options.get("io_table") or "")}
    if kind == "plan":
        from symbiosim.runs import run_plan

        stage("solving the coordinated optimum")
        r = run_plan(scenario)
        if r.error is not None:
            raise r.error
        assert r.plan is not None and r.accounts is not None
        out["sources"]["optimum"] = _source(scenario, r.plan, r.accounts, "optimum", fx)
        if r.baseline is not None:
            out["sources"]["baseline"] = {"kpis": dict(r.baseline.kpis), "flows": [], "builds": [],
                                          "profit": dict(zip(r.baseline.actors.actor, r.baseline.actors.profit, strict=True))}
            if fx is not None:
                out["sources"]["baseline"]["effects"] = fx(scenario, r.baseline)
    elif kind == "simulate":
        from symbiosim.runs import run_simulation

        stage("simulating the firms' own decisions")
        s = run_simulation(scenario, seed)
        out["sources"]["decentralised"] = _source(scenario, s.result.plan, s.accounts, "decentralised", fx)
        base = evaluate(scenario, s.baseline_plan)
        out["sources"]["baseline"] = _source(scenario, s.baseline_plan, base, "baseline", fx)
    elif kind in ("compare", "incentives"):
        from symbiosim.runs import run_compare

        stage("baseline, decentralised outcome and optimum")
        c = run_compare(scenario, seed, decomposition=False)
        res = c.result
        for name in ("baseline", "decentralised", "optimum"):
            out["sources"][name] = _source(scenario, res.plans[name], res.accounts[name], name, fx)
        obj = clean(res.to_json())
        out.update(share_of_potential=obj["share_of_potential"], actors=obj["actors"], allocation=obj["allocation"],
                   core=obj["core"], side_payments=obj["side_payments"])
        from symbiosim.compare.gap import RULES
        from symbiosim.report import compare_figures as figs

        currency = scenario.settings.currency
        out["figures"] = {"gap": _png(lambda path: figs.gap_figure(res.kpis, path, currency)),
                          "actors": _png(lambda path: figs.actors_figure(res.actors, list(RULES), path, currency))}
        if kind == "incentives":
            from symbiosim.runs import incentive_search

            instrument, target = str(options.get("instrument", "")), float(options.get("target", 0.8))
            stage(f"searching the least {instrument} that reaches {target:.0%} of the potential")
            search = incentive_search(scenario, instrument, target, [seed])
            out["incentives"] = {"summary": search.summary(), "tried": records(search.tried),
                                 "figure": _png(lambda path: figs.cost_figure(search.tried, path, currency))}
    elif kind == "cases":
        from symbiosim.decide.cases import parse_cases, run_cases

        cases = parse_cases({"cases": list(options.get("cases") or [])}, "cases")
        stage(f"solving the base and {len(cases)} case(s)")
        res = run_cases(scenario, cases)
        out["comparison"] = records(res.comparison)
        out["distribution"] = records(res.distribution)
    return clean(out)


def key_figures(result: dict[str, Any]) -> pd.DataFrame:
    """Table 12 of the report: key figures per source, with the gap and the share of potential."""
    sources = [s for s in ("baseline", "decentralised", "optimum") if s in result["sources"]]
    rows = []
    for k in KEY_FIGURES:
        row: dict[str, Any] = {"key figure": k}
        for s in sources:
            row[s] = result["sources"][s]["kpis"].get(k)
        if {"decentralised", "optimum"} <= set(sources):
            row["gap"] = (row["optimum"] or 0.0) - (row["decentralised"] or 0.0)
        rows.append(row)
    return pd.DataFrame(rows)


def exchanges(result: dict[str, Any], source: str) -> pd.DataFrame:
    """Table 11 of the report: who sends what to whom (totals over the horizon)."""
    flows = pd.DataFrame(result["sources"].get(source, {}).get("flows", []))
    if flows.empty:
        return pd.DataFrame(columns=["sender", "receiver", "product", "total", "first year"])
    g = flows.groupby(["sender", "receiver", "product"]).agg(total=("value", "sum"), first=("year", "min")).reset_index()
    return g.rename(columns={"first": "first year"}).sort_values(["sender", "receiver", "product"], ignore_index=True)


def ripple(result: dict[str, Any], name: str) -> pd.DataFrame:
    """The ripple effects of the outcomes a run has, for ``name`` (``value_added`` or ``jobs``): parts by
    outcome (``ripple.effects.parts_table``); empty without an input-output table."""
    from symbiosim.ripple.effects import parts_table

    totals = {s: v["effects"] for s, v in result["sources"].items() if v.get("effects")}
    return parts_table(totals, name) if totals else pd.DataFrame()


def actor_accounts(result: dict[str, Any]) -> pd.DataFrame:
    """Profit per actor: stand-alone, decentralised and coordinated (what the run has)."""
    names = {"baseline": "stand-alone", "decentralised": "decentralised", "optimum": "coordinated"}
    cols = {names[s]: pd.Series(v["profit"]) for s, v in result["sources"].items() if s in names}
    return pd.DataFrame(cols).rename_axis("actor").reset_index()
