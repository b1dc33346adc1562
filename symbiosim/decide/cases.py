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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from symbiosim.errors import InfeasibleError, Issue, ModelError, ScenarioError, UnboundedError
from symbiosim.plan import Plan
from symbiosim.planner.solve import DEFAULT_MIP_GAP
from symbiosim.report.jsonable import records
from symbiosim.scenario.edit import ADD_TABLES, Edit, add_rows, apply_edits, validate
from symbiosim.scenario.load import read_yaml
from symbiosim.scenario.schema import Policies, Scenario, number_problem, show

CASE_KEYS = {"name", "description", "set", "add", "policies"}
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


class SetEntry(BaseModel):
    """One ``set`` entry: ``{target, value}`` or ``{target, factor}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: Any
    value: Any = None
    factor: Any = None

    @field_validator("factor")
    @classmethod
    def _number(cls, factor: Any) -> Any:
        if factor is not None and (isinstance(factor, bool) or not isinstance(factor, int | float)):
            raise PydanticCustomError("case_factor", "expected a number")
        problem = number_problem(factor)
        if problem:
            raise PydanticCustomError("case_factor", "{message}", {"message": f"{problem}, got {show(factor)}"})
        return factor

    @model_validator(mode="after")
    def _one_of(self) -> SetEntry:
        if len(self.model_fields_set & {"value", "factor"}) != 1:
            raise ValueError("one of value, factor")
        return self


class AddTables(BaseModel):
    """``add``: rows per table (checked by the scenario schema when the case is applied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    products: list[Any] | None = None
    actors: list[Any] | None = None
    processes: list[Any] | None = None
    actor_processes: list[Any] | None = None
    purchases: list[Any] | None = None
    sales: list[Any] | None = None
    links: list[Any] | None = None
    storage: list[Any] | None = None
    behaviour: list[Any] | None = None
    uncertainty: list[Any] | None = None
    profiles: dict[str, Any] | None = None


class PolicySettings(BaseModel):
    """``policies``: the instruments a case replaces (values checked by ``Policies`` when applied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exchange_subsidy: Any = None
    disposal_tax: Any = None
    virgin_tax: Any = None
    carbon_price: Any = None
    investment_subsidy: Any = None



class CaseSpec(BaseModel):
    """One case of a case file (see the module docstring); values are checked when the case is applied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    description: Any = ""
    set: list[SetEntry] | None = None
    add: AddTables | None = None
    policies: PolicySettings | None = None


class CaseFile(BaseModel):
    """A case file: one key, ``cases``, a list of cases (each checked by ``CaseSpec``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: list[Any]


def parse_cases(raw: Any, source: str = "") -> list[Case]:
    """Check the structure of plain case data (see the module docstring); all bad cases are reported at once."""
    try:
        items = CaseFile.model_validate(raw).cases
    except ValidationError:
        raise ScenarioError([Issue("(file)", None, None, "expected a mapping with one key 'cases': a list of cases")], source) from None
    cases: list[Case] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        found = _case_issues(i, item, seen)
        if found:
            issues += found
            continue
        cases.append(Case(item["name"], str(item.get("description", "")), tuple(item.get("set") or []),
                          dict(item.get("add") or {}), dict(item.get("policies") or {})))
    if issues:
        raise ScenarioError(issues, source, what="cases")
    return cases


_ORDER = ("name", "(unknown)", "set", "add", "policies")


def _case_issues(index: int, item: Any, seen: set[str]) -> list[Issue]:
    """Every structural problem of one case (``CaseSpec``), located at ``cases[name]`` (or its index without a usable name)."""
    try:
        CaseSpec.model_validate(item)
        errors = []
    except ValidationError as exc:
        errors = exc.errors()
    if not isinstance(item, dict) or any(e["loc"][:1] == ("name",) for e in errors):
        return [Issue("cases", index, "name", "each case needs a name of letters, digits, _ or -")]
    name = item["name"]
    found: dict[str, tuple[str, str]] = {}  # where -> (kind, message), one per place, in order
    if name in seen or name == "base":
        found["name"] = ("name", "case names must be unique and not 'base'")
    seen.add(name)
    unknown = sorted(str(e["loc"][0]) for e in errors if len(e["loc"]) == 1 and e["type"] == "extra_forbidden")
    if unknown:
        found[",".join(unknown)] = ("(unknown)", f"unknown key(s); expected {', '.join(sorted(CASE_KEYS))}")
    for e in errors:
        loc = e["loc"]
        if loc[0] == "set":
            if len(loc) == 1:
                found["set"] = ("set", "expected a list of {target, value} or {target, factor}")
            elif loc[2:3] == ("factor",) and e["type"] == "case_factor":
                found.setdefault(f"set[{loc[1]}].factor", ("set", e["msg"]))
            elif f"set[{loc[1]}].factor" not in found:
                found[f"set[{loc[1]}]"] = ("set", "expected {target: ..., value: ...} or {target: ..., factor: number}")
        elif loc[0] == "add":
            if len(loc) == 1 or e["type"] == "extra_forbidden":
                found["add"] = ("add", f"expected a mapping of tables ({', '.join(ADD_TABLES)}) to rows")
            elif "add" not in found:
                what = "a mapping of profile name to factors" if loc[1] == "profiles" else "a list of rows"
                found[f"add.{loc[1]}"] = ("add", f"expected {what}")
        elif loc[0] == "policies":
            found["policies"] = ("policies", f"expected a mapping of {', '.join(Policies.model_fields)}")
    if "add" in found:
        found = {w: v for w, v in found.items() if not w.startswith("add.")}
    places = sorted(found, key=lambda w: _ORDER.index(found[w][0]))
    return [Issue("cases", name, where, found[where][1]) for where in places]


def apply_case(base: Scenario, case: Case) -> Scenario:
    """The base with the case applied (``symbiosim.scenario.edit``), validated; errors name the case.

    ``policies`` and ``add`` first (the whole result validated), then ``set``
    (every entry resolved against that result; the edited rows and every
    cross-table check validated); every bad ``set`` entry is reported.
    """
    name = f"case {case.name}"
    scenario = add_rows(base, case.add, policies=case.policies, name=name) if case.add or case.policies else base
    if not case.set:
        return scenario if scenario is not base else validate(base, name=name)
    edits = [
        Edit(str(s["target"]), factor=float(s["factor"]), where=("cases", case.name, f"set[{j}]")) if "factor" in s
        else Edit(str(s["target"]), value=copy.deepcopy(s["value"]), where=("cases", case.name, f"set[{j}]"))
        for j, s in enumerate(case.set)
    ]
    return apply_edits(scenario, edits, name=name)


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


def case_regions(cases: list[Any]) -> list[str]:
    """Regions that cases give actors (added rows, or ``set`` on an actor's region)."""
    out = [str(a.get("region")) for c in cases for a in c.add.get("actors", []) if isinstance(a, dict) and a.get("region")]
    out += [str(s["value"]) for c in cases for s in c.set if str(s.get("target", "")).endswith(".region") and "value" in s]
    return out
