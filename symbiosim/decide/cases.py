"""Cases: named variants of a base scenario, solved side by side (report tables 11 and 12).

A case file (YAML, read with ``safe_load``; nothing in it is evaluated)::

    cases:
      - name: gas_80                       # required, unique, letters/digits/_/-
        description: gas price at 80       # optional
        set:                               # overrides of single cells
          - {target: "purchases[product=gas].price", value: 80}
          - {target: "links[from=a,to=b].capacity", factor: 1.5}
          - {target: "settings.discount_rate", value: 0.04}
        add:                               # rows appended to tables (same columns as a scenario file)
          actors: [{id: dryer, exists: false, entry_cost: 5e5}]
          processes: [...]
          actor_processes: [...]
          products / purchases / sales / links / storage / behaviour: [...]
          profiles: {name: [..]}
        policies: {exchange_subsidy: 10}   # replaces these instruments

Application order: ``policies``, then ``add``, then ``set`` (so ``set`` may
reach added rows). ``set`` targets use the ``uncertainty`` target syntax
(``table[column=value,...].column`` or ``settings.column``), resolved by
``symbiosim.scenario.targets``; every matching row is changed; ``value``
replaces (numbers, text or true/false), ``factor`` multiplies a number.
The result is validated like a scenario file, with the case named in every
error; every bad case of a file is reported at once (``read_cases`` for the
structure, ``apply_cases``/``run_cases`` for the edited scenarios), never
only the first. The base is never copied into the case file, nor mutated.

Outputs, per case (the base itself is the case ``base`` unless ``include_base`` is off):

* ``comparison`` (table 12): case_id, status, cluster_profit (cluster NPV),
  value_added_regional (actors in ``region``; default: the region most of
  the base's existing actors are in), value_added_national (all actors),
  jobs (final year), emissions, public_cost, then ``exchanged_<unit>`` and
  ``disposed_<unit>`` per unit.
* ``distribution`` (table 11): case_id, actor, product, period, receiver,
  channel (exchange / market / disposal), quantity, income: what each actor
  sends to each receiver (another actor, ``market`` or ``disposal``) and the
  undiscounted income of that period: sale price x quantity to the market,
  the link's contract price x quantity to an actor (0 without one), minus
  the disposal cost for disposals.
* ``key_figures``: long (case_id, key_figure, value), every key figure.

``write_store`` appends all three, with a ``run_id`` and the base's name, to
the DuckDB results store (tables ``case_comparison``, ``case_distribution``,
``case_key_figures``). The comparison table in the store keeps the fixed
columns only (units differ between scenarios); quantities by unit are in
``case_key_figures``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.errors import InfeasibleError, Issue, ModelError, ScenarioError, UnboundedError
from symbiosim.plan import Plan
from symbiosim.planner.solve import DEFAULT_MIP_GAP
from symbiosim.report.jsonable import records
from symbiosim.scenario.load import read_yaml, scenario_from_dict
from symbiosim.scenario.schema import ROW_TABLES, Policies, Scenario, number_problem, show
from symbiosim.scenario.targets import NUMERIC_TABLES, Target, _cell, _field_names, _matches, parse_target

CASE_KEYS = {"name", "description", "set", "add", "policies"}
ADD_TABLES = (*ROW_TABLES, "profiles")
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
COMPARISON_COLUMNS = (
    "case_id",
    "status",
    "cluster_profit",
    "value_added_regional",
    "value_added_national",
    "jobs",
    "emissions",
    "public_cost",
)
DISTRIBUTION_COLUMNS = ("case_id", "actor", "product", "period", "receiver", "channel", "quantity", "income")


@dataclass(frozen=True)
class Case:
    name: str
    description: str = ""
    set: tuple[dict[str, Any], ...] = ()
    add: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseResults:
    """``comparison`` (table 12), ``distribution`` (table 11), ``key_figures`` (long), ``plans``."""

    comparison: pd.DataFrame
    distribution: pd.DataFrame
    key_figures: pd.DataFrame
    plans: dict[str, Plan]
    scenarios: dict[str, Scenario]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "comparison": records(self.comparison), "distribution": records(self.distribution)}


def read_cases(path: str | Path, *, max_bytes: int | None = None) -> list[Case]:
    """Read and check a case file's structure.

    The file is read like a scenario file (bounded: ``max_bytes``, YAML aliases and
    depth; see ``symbiosim.scenario.load.read_yaml``).

    Raises:
        ScenarioError: every problem of every case at once, each located at its case
            (``cases[name].set[0]: ...``).
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Issue("(file)", None, None, f"no such file: {path}")], str(path))
    return parse_cases(read_yaml(path, max_bytes=max_bytes), str(path))


def parse_cases(raw: Any, source: str = "") -> list[Case]:
    """Check the structure of plain case data (see the module docstring); all bad cases are reported at once."""
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list) or set(raw) - {"cases"}:
        raise ScenarioError([Issue("(file)", None, None, "expected a mapping with one key 'cases': a list of cases")], source)
    cases: list[Case] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["cases"]):
        found = _case_issues(i, item, seen)
        if found:
            issues += found
            continue
        cases.append(Case(item["name"], str(item.get("description", "")), tuple(item.get("set") or []),
                          dict(item.get("add") or {}), dict(item.get("policies") or {})))
    if issues:
        raise ScenarioError(issues, source, what="cases")
    return cases


def _case_issues(index: int, item: Any, seen: set[str]) -> list[Issue]:
    """Every structural problem of one case, located at ``cases[name]`` (or its index without a usable name)."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not _NAME.match(item["name"]):
        return [Issue("cases", index, "name", "each case needs a name of letters, digits, _ or -")]
    name = item["name"]
    issues: list[Issue] = []

    def bad(where: str, message: str) -> None:
        issues.append(Issue("cases", name, where, message))

    if name in seen or name == "base":
        bad("name", "case names must be unique and not 'base'")
    seen.add(name)
    unknown = set(item) - CASE_KEYS
    if unknown:
        bad(",".join(sorted(map(str, unknown))), f"unknown key(s); expected {', '.join(sorted(CASE_KEYS))}")
    sets = item.get("set") or []
    if not isinstance(sets, list):
        bad("set", "expected a list of {target, value} or {target, factor}")
        sets = []
    for j, s in enumerate(sets):
        if not isinstance(s, dict) or "target" not in s or len(set(s) & {"value", "factor"}) != 1 or set(s) - {"target", "value", "factor"}:
            bad(f"set[{j}]", "expected {target: ..., value: ...} or {target: ..., factor: number}")
        elif "factor" in s and (isinstance(s["factor"], bool) or not isinstance(s["factor"], int | float)):
            bad(f"set[{j}].factor", "expected a number")
        elif "factor" in s and number_problem(s["factor"]):
            bad(f"set[{j}].factor", f"{number_problem(s['factor'])}, got {show(s['factor'])}")
    add = item.get("add") or {}
    if not isinstance(add, dict) or set(add) - set(ADD_TABLES):
        bad("add", f"expected a mapping of tables ({', '.join(ADD_TABLES)}) to rows")
        add = {}
    for table, rows in add.items():
        if table == "profiles":
            if not isinstance(rows, dict):
                bad("add.profiles", "expected a mapping of profile name to factors")
        elif not isinstance(rows, list):
            bad(f"add.{table}", "expected a list of rows")
    policies = item.get("policies") or {}
    if not isinstance(policies, dict) or set(policies) - set(Policies.model_fields):
        bad("policies", f"expected a mapping of {', '.join(Policies.model_fields)}")
    return issues


def _rows(scenario: Scenario, target: Target) -> list[int]:
    """Rows a target hits: like ``resolve_target`` but any column (numbers, text, flags)."""
    if target.table == "settings":
        if target.column not in _field_names(type(scenario.settings)):
            raise ValueError(f"settings has no column {target.column!r}")
        return [0]
    if target.table not in NUMERIC_TABLES:
        raise ValueError(f"unknown table {target.table!r}: expected settings or one of {', '.join(NUMERIC_TABLES)}")
    names = _field_names(ROW_TABLES[target.table])
    for col in [c for c, _ in target.filters] + [target.column]:
        if col not in names:
            raise ValueError(f"table {target.table} has no column {col!r}")
    hits = [i for i, row in enumerate(getattr(scenario, target.table)) if all(_matches(_cell(row, c), v) for c, v in target.filters)]
    if not hits:
        raise ValueError(f"no row of {target.table} matches {dict(target.filters)}")
    return hits


def apply_case(base: Scenario, case: Case) -> Scenario:
    """The base with the case applied, validated (errors name the case; every bad ``set`` entry is reported)."""
    raw = base.to_dict()
    if case.policies:
        raw["policies"] = {**raw.get("policies", {}), **copy.deepcopy(case.policies)}
    for table, rows in case.add.items():
        if table == "profiles":
            raw["profiles"] = {**raw.get("profiles", {}), **copy.deepcopy(rows)}
        else:
            raw[table] = [*raw.get(table, []), *copy.deepcopy(rows)]
    source = f"case {case.name}"
    if not case.set:
        return scenario_from_dict(raw, source=source)
    draft = scenario_from_dict(raw, source=source)
    full: dict[str, Any] = {"settings": draft.settings.model_dump(by_alias=True)}
    for table in ROW_TABLES:
        full[table] = [r.model_dump(by_alias=True) for r in getattr(draft, table)]
    issues: list[Issue] = []
    for j, s in enumerate(case.set):
        try:
            target = parse_target(str(s["target"]))
            hits = _rows(draft, target)
        except ValueError as exc:
            issues.append(Issue("cases", case.name, f"set[{j}]", str(exc)))
            continue
        for i in hits:
            cell = full["settings"] if target.table == "settings" else full[target.table][i]
            key = target.column
            if "factor" in s:
                if not isinstance(cell.get(key), int | float) or isinstance(cell.get(key), bool):
                    message = f"{s['target']}: factor needs a number, the cell holds {cell.get(key)!r}"
                    issues.append(Issue("cases", case.name, f"set[{j}]", message))
                    break
                cell[key] = cell[key] * float(s["factor"])
            else:
                cell[key] = copy.deepcopy(s["value"])
    if issues:
        raise ScenarioError(issues, source)
    raw.update({k: v for k, v in full.items() if k == "settings" or v})
    return scenario_from_dict(raw, source=source)


def apply_cases(base: Scenario, cases: list[Case]) -> dict[str, Scenario]:
    """Every case applied to the base (``apply_case``), in order.

    Raises:
        ScenarioError: the problems of every bad case at once, each issue naming its
            case (``case gas_80: purchases[...].price: ...``).
    """
    variants: dict[str, Scenario] = {}
    issues: list[Issue] = []
    bad: list[str] = []
    for c in cases:
        try:
            variants[c.name] = apply_case(base, c)
        except ScenarioError as exc:
            bad.append(c.name)
            issues += [dataclasses.replace(i, source=i.source or f"case {c.name}") for i in exc.issues]
    if issues:
        raise ScenarioError(issues, what=f"{len(bad)} case{'s' if len(bad) != 1 else ''} ({', '.join(bad)})")
    return variants


def home_region(scenario: Scenario) -> str:
    """The region most existing actors are in ('' if none is set)."""
    counts = Counter(a.region for a in scenario.actors if a.exists and a.region)
    return counts.most_common(1)[0][0] if counts else ""


def distribution(scenario: Scenario, plan: Plan, case_id: str) -> pd.DataFrame:
    """Table 11: per actor, product, period and receiver, the quantity sent and its income."""
    from symbiosim.scenario.data import build_model_data

    data = build_model_data(scenario)
    parts = []
    s = plan.sales
    if len(s):
        price = [data.sale_price[(a, p)] for a, p in zip(s.actor, s["product"], strict=True)]
        parts.append(pd.DataFrame({"actor": s.actor, "product": s["product"], "period": s.period, "receiver": "market",
                                   "channel": "market", "quantity": s.value, "income": s.value.to_numpy(float) * price}))
    f = plan.flows
    if len(f):
        parts.append(pd.DataFrame({"actor": f.source, "product": f["product"], "period": f.period, "receiver": f.target,
                                   "channel": "exchange", "quantity": f.value, "income": f.value * f.price.fillna(0.0)}))
    w = plan.disposals
    if len(w):
        cost = w["product"].map(data.disposal_cost).to_numpy(float)
        parts.append(pd.DataFrame({"actor": w.actor, "product": w["product"], "period": w.period, "receiver": "disposal",
                                   "channel": "disposal", "quantity": w.value, "income": -cost * w.value.to_numpy(float)}))
    if not parts:
        return pd.DataFrame(columns=list(DISTRIBUTION_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "case_id", case_id)
    out = out.groupby(list(DISTRIBUTION_COLUMNS[:6]), as_index=False)[["quantity", "income"]].sum()
    return out.sort_values(["actor", "product", "period", "receiver"]).reset_index(drop=True)[list(DISTRIBUTION_COLUMNS)]


def run_cases(
    base: Scenario,
    cases: list[Case],
    *,
    include_base: bool = True,
    region: str | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
    time_limit: float | None = None,
) -> CaseResults:
    """Apply and solve every case (cluster NPV optimum); a case without a plan gets its status and no figures."""
    from symbiosim.accounts import evaluate
    from symbiosim.planner import optimise

    region = home_region(base) if region is None else region
    variants: dict[str, Scenario] = {"base": base} if include_base else {}
    variants.update(apply_cases(base, cases))  # all validated before any solve; all bad cases reported at once
    comp, dist, long, plans = [], [], [], {}
    for name, scen in variants.items():
        try:
            plan = optimise(scen, mip_gap=mip_gap, time_limit=time_limit)
        except (InfeasibleError, UnboundedError, ModelError) as exc:
            status = "infeasible" if isinstance(exc, InfeasibleError) else ("unbounded" if isinstance(exc, UnboundedError) else "error")
            comp.append({"case_id": name, "status": status})
            continue
        plans[name] = plan
        acc = evaluate(scen, plan)
        k = acc.kpis
        regions = {a.id: a.region for a in scen.actors}
        va_region = float(acc.actors.loc[acc.actors.actor.map(regions) == region, "value_added"].sum())
        row: dict[str, Any] = {
            "case_id": name,
            "status": plan.meta["status"],
            "cluster_profit": k["cluster_npv"],
            "value_added_regional": va_region,
            "value_added_national": k["value_added"],
            "jobs": k["jobs"],
            "emissions": k["emissions"],
            "public_cost": k["public_cost"],
        }
        row.update({key: v for key, v in k.items() if key.startswith(("exchanged_", "disposed_"))})
        comp.append(row)
        long += [{"case_id": name, "key_figure": key, "value": float(v)} for key, v in k.items()]
        long.append({"case_id": name, "key_figure": "value_added_regional", "value": va_region})
        dist.append(distribution(scen, plan, name))
    comparison = pd.DataFrame(comp)
    for col in COMPARISON_COLUMNS:
        if col not in comparison:
            comparison[col] = math.nan
    extra = sorted(c for c in comparison.columns if c not in COMPARISON_COLUMNS)
    comparison = comparison[[*COMPARISON_COLUMNS, *extra]]
    distribution_table = pd.concat(dist, ignore_index=True) if dist else pd.DataFrame(columns=list(DISTRIBUTION_COLUMNS))
    meta = {"base": base.settings.name, "region": region, "cases": list(variants), "currency": base.settings.currency}
    return CaseResults(comparison, distribution_table, pd.DataFrame(long, columns=["case_id", "key_figure", "value"]), plans, variants, meta)


def write_store(results: CaseResults, path: str | Path = "results/cases.duckdb", run_id: str | None = None) -> str:
    """Append the three tables to the DuckDB results store; returns the run id."""
    from symbiosim.store import ResultsStore

    run_id = run_id or uuid.uuid4().hex[:12]
    stamp = pd.Timestamp.now(tz="UTC").isoformat()

    def tag(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.insert(0, "base", results.meta["base"])
        out.insert(0, "created", stamp)
        out.insert(0, "run_id", run_id)
        return out

    with ResultsStore(path) as store:
        comparison = results.comparison[list(COMPARISON_COLUMNS)].astype({c: float for c in COMPARISON_COLUMNS[2:]})
        store.append("case_comparison", tag(comparison))
        dist = results.distribution.astype({"period": "int64", "quantity": float, "income": float})
        store.append("case_distribution", tag(dist))
        store.append("case_key_figures", tag(results.key_figures))
    return run_id
