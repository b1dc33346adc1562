"""The data side of one browser tab: the scenario being edited, its checks, uploads, downloads, cases.

Plain functions over the scenario as plain data (``dict``), so that the page
only wires widgets to them and the tests need no browser. Everything from
the browser is untrusted:

* an upload is size-limited before it is read, written under the app's own
  working folder with a name the app makes up (never the browser's), and
  read with the same bounded loader as ``symbiosim validate`` (safe YAML;
  Excel read as values, formulas never executed);
* cell edits and case entries are data: they go through the scenario's
  schema and the case file's checks, never ``eval``, a shell or a path.
"""

from __future__ import annotations

import copy
import io
import math
import tempfile
import uuid
from pathlib import Path
from typing import Any

import yaml

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.schema import Policies, Scenario

UPLOAD_LIMIT = 4 * 1024 * 1024  # bytes; a cluster's scenario is tens of kB
SUFFIXES = (".yaml", ".yml", ".xlsx")
ROW_TABLES = ("products", "actors", "processes", "actor_processes", "purchases", "sales", "links", "storage", "behaviour", "uncertainty")


def workdir() -> Path:
    """The app's own working folder: uploads and downloads live here and nowhere else."""
    root = Path(tempfile.gettempdir()) / "symbiosim-app"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def as_raw(scenario: Scenario) -> dict[str, Any]:
    """A scenario as the plain data the page edits (the same keys as a YAML file)."""
    return scenario.model_dump(by_alias=True, exclude_none=True, mode="json")


def check(raw: dict[str, Any]) -> tuple[Scenario | None, list[Issue]]:
    """Validate like ``symbiosim validate``: the scenario, or every issue found."""
    from symbiosim.scenario.load import scenario_from_dict

    try:
        return scenario_from_dict(copy.deepcopy(raw), "scenario"), []
    except ScenarioError as exc:
        return None, list(exc.issues)


def read_upload(name: str, data: bytes, *, limit: int = UPLOAD_LIMIT) -> tuple[dict[str, Any] | None, list[Issue]]:
    """An uploaded scenario file: its plain data, or the located issues (the file named as uploaded)."""
    from symbiosim.scenario.load import load_scenario

    shown = Path(name).name or "upload"
    suffix = Path(shown).suffix.lower()
    if suffix not in SUFFIXES:
        return None, [Issue("(file)", None, None, f"{shown}: expected a .yaml, .yml or .xlsx scenario file")]
    if len(data) > limit:
        return None, [Issue("(file)", None, None, f"{shown} is {len(data):,} bytes, more than the app's limit of {limit:,} bytes")]
    path = workdir() / f"upload-{uuid.uuid4().hex}{suffix}"
    try:
        path.write_bytes(data)
        return as_raw(load_scenario(path, max_bytes=limit)), []
    except ScenarioError as exc:
        return None, [Issue(i.table, i.row, i.column, i.message, source=shown) for i in exc.issues]
    finally:
        path.unlink(missing_ok=True)


def to_yaml(raw: dict[str, Any]) -> bytes:
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True).encode()


def to_xlsx(scenario: Scenario) -> bytes:
    """The scenario as a workbook (the same writer as ``symbiosim export``)."""
    from symbiosim.scenario.excel.write import write_workbook

    path = workdir() / f"download-{uuid.uuid4().hex}.xlsx"
    try:
        write_workbook(scenario, path)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


# ------------------------------------------------------------------ editing tables


def parse_cell(text: str, before: Any) -> Any:
    """What a typed cell means: a number where the column held one, true/false, empty = none, else text.

    A typed value is only ever data for the schema to judge (no ``eval``);
    mappings (a recipe's inputs) are typed as YAML flow text, read with safe_load."""
    t = text.strip()
    if t == "":
        return None
    if isinstance(before, bool) or t.lower() in ("true", "false"):
        return {"true": True, "false": False}.get(t.lower(), t)
    if isinstance(before, dict | list):
        try:
            return yaml.safe_load(io.StringIO(t))
        except yaml.YAMLError:
            return t
    try:
        number = float(t.replace(",", "")) if any(c.isdigit() for c in t) else None
    except ValueError:
        number = None
    if number is not None and math.isfinite(number):
        return int(number) if number.is_integer() and isinstance(before, int) else number
    return t


def show_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
    return str(value)


def set_cell(raw: dict[str, Any], table: str, row: int, column: str, text: str) -> dict[str, Any]:
    """A copy of ``raw`` with one cell changed (``settings``/``policies`` are one-row tables)."""
    new = copy.deepcopy(raw)
    target = new.setdefault(table, {}) if table in ("settings", "policies") else new[table][row]
    value = parse_cell(text, target.get(column))
    if value is None:
        target.pop(column, None)
    else:
        target[column] = value
    return new


def table_rows(raw: dict[str, Any], table: str) -> list[dict[str, Any]]:
    if table in ("settings", "policies"):
        return [dict(raw.get(table) or {})]
    return [dict(r) for r in raw.get(table) or []]


def row_key(raw: dict[str, Any], table: str, index: int) -> set[str]:
    """The names an issue may use for a row: its id, its position, and its label."""
    rows = raw.get(table) or []
    keys = {str(index), str(index + 1)}
    if table not in ("settings", "policies") and index < len(rows) and isinstance(rows[index], dict):
        row = rows[index]
        keys |= {str(row[k]) for k in ("id", "actor", "product", "process") if k in row}
    return keys


def issues_at(issues: list[Issue], raw: dict[str, Any], table: str, index: int, column: str) -> list[str]:
    """The messages of the issues located at one cell (shown next to it)."""
    keys = row_key(raw, table, index)
    out = []
    for i in issues:
        if i.table != table or (i.column or "") != column:
            continue
        if table in ("settings", "policies") or i.row is None or any(k in str(i.row) for k in keys):
            out.append(i.message)
    return out


# ------------------------------------------------------------------ cases


def recipe_prices(base: dict[str, Any], process: str) -> dict[str, dict[str, float]]:
    """Default prices for a new firm running ``process``: what other actors pay for its inputs and get for its outputs."""
    recipe = next((p for p in base.get("processes") or [] if p.get("id") == process), None)
    if recipe is None:
        return {"inputs": {}, "outputs": {}}

    def price(table: str, product: str) -> float:
        prices = [float(r["price"]) for r in base.get(table) or [] if r.get("product") == product and "price" in r]
        return sum(prices) / len(prices) if prices else 0.0

    return {"inputs": {x: price("purchases", x) for x in recipe.get("inputs") or {}},
            "outputs": {x: price("sales", x) for x in recipe.get("outputs") or {}}}


def fictive_firm(base: dict[str, Any], *, firm: str, lat: float, lon: float, process: str, capacity: float,
                 entry_cost: float, prices: dict[str, dict[str, float]] | None = None, fixed_cost: float = 0.0,
                 name: str = "") -> dict[str, Any]:
    """The ``add`` part of a case: a candidate firm at (lat, lon) running one of the scenario's recipes.

    It may buy its inputs from outside the cluster and sell its outputs at
    ``prices`` (default ``recipe_prices``: the average the scenario's other
    actors pay and get); other firms may supply or take them instead."""
    if not any(p.get("id") == process for p in base.get("processes") or []):
        raise ScenarioError([Issue("processes", process, "id", "no such recipe in the scenario")], "case")
    prices = prices or recipe_prices(base, process)
    return {
        "actors": [{"id": firm, "name": name or firm, "exists": False, "lat": float(lat), "lon": float(lon),
                    "entry_cost": float(entry_cost), "fixed_cost": float(fixed_cost)}],
        "actor_processes": [{"actor": firm, "process": process, "capacity": float(capacity), "exists": False}],
        "purchases": [{"actor": firm, "product": x, "price": float(v)} for x, v in prices.get("inputs", {}).items()],
        "sales": [{"actor": firm, "product": x, "price": float(v)} for x, v in prices.get("outputs", {}).items()],
    }


def case_spec(name: str, *, description: str = "", add: dict[str, Any] | None = None,
              set_: list[dict[str, Any]] | None = None, policies: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name}
    if description:
        spec["description"] = description
    if set_:
        spec["set"] = set_
    if add:
        spec["add"] = add
    if policies:
        spec["policies"] = policies
    return spec


def price_targets(raw: dict[str, Any]) -> list[str]:
    """Every price a case may change, in the target syntax of case files (``purchases[actor=a,product=p].price``)."""
    out = []
    for table in ("purchases", "sales"):
        for row in raw.get(table) or []:
            if "price" in row:
                out.append(f"{table}[actor={row['actor']},product={row['product']}].price")
    return out


POLICIES = tuple(Policies.model_fields)  # the instruments a case may set (the schema's, in its order)


def merge_case(specs: list[dict[str, Any]], name: str, *, add: dict[str, Any] | None = None, set_: dict[str, Any] | None = None,
               policies: dict[str, Any] | None = None, description: str = "") -> list[dict[str, Any]]:
    """The case list with case ``name`` extended (created if new): rows added, a cell set (one entry per target), policies."""
    specs = copy.deepcopy(specs)
    spec = next((s for s in specs if s["name"] == name), None)
    if spec is None:
        spec = {"name": name}
        specs.append(spec)
    if description:
        spec["description"] = "; ".join(filter(None, [spec.get("description", ""), description]))
    for table, rows in (add or {}).items():
        spec.setdefault("add", {}).setdefault(table, []).extend(rows)
    if set_:
        entries = [e for e in spec.get("set", []) if e["target"] != set_["target"]]
        spec["set"] = [*entries, set_]
    if policies:
        spec["policies"] = {**spec.get("policies", {}), **policies}
    return specs


def cases_yaml(specs: list[dict[str, Any]]) -> bytes:
    """A case file that ``symbiosim cases`` reads."""
    return yaml.safe_dump({"cases": specs}, sort_keys=False, allow_unicode=True).encode()


def check_case(base: dict[str, Any], spec: dict[str, Any]) -> list[Issue]:
    """Every issue of one case against the base (the CLI's checks: structure, then the edited scenario)."""
    from symbiosim.decide.cases import apply_case, parse_cases

    scenario, issues = check(base)
    if scenario is None:
        return issues
    try:
        (case,) = parse_cases({"cases": [spec]}, "case")
        apply_case(scenario, case)
    except ScenarioError as exc:
        return list(exc.issues)
    return []
