"""The experiment's design table: uncertain inputs x policy arms x replications.

* **Samples.** Every row of the scenario's ``uncertainty`` section is one
  input. N points in the unit cube are drawn by plain Monte Carlo
  (``numpy.random.default_rng``), a Latin hypercube
  (``scipy.stats.qmc.LatinHypercube``, one stratum of width 1/N per sample and
  input) or, for Sobol sensitivity indices, Saltelli's scheme
  (``SALib.sample.sobol``, first and total order: N (D + 2) samples for D
  inputs, N best a power of 2), and mapped through each row's inverse distribution: uniform(low,
  high), triangular(low, mode, high), normal(mean, sd), lognormal (mean and sd
  of the log). ``as: factor`` multiplies the target's current value, ``as:
  value`` replaces it. Inputs are independent.
* **Arms.** A YAML file ``arms: {name: {instrument: value, ...}}`` (read with
  ``safe_load``) of policy settings applied on top of the scenario's own
  ``policies``; instruments are the fields of ``Policies`` (values checked by
  its schema) plus ``facilitator: true|false`` (the simulator's platform).
  Without a file there is one arm, ``none`` (the scenario as it is).
* **Seeds.** ``SeedSequence(root).spawn(2)`` gives one stream for the sample
  points and one parent for the runs; the parent spawns one child per
  (sample, replication), and its first 32-bit word is the simulator's seed.
  The same sample and replication get the same seed in every arm (common
  random numbers), so arm differences are paired.

One row per run: ``run_id, sample_id, arm, replication, seed`` and one
column per input (``in_<target>``, the sampled number: a factor or a value as
the row says). ``run_id = (sample_id x arms + arm index) x K + replication``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError
from scipy import stats
from scipy.stats import qmc

from symbiosim.scenario.schema import Policies, Scenario, Uncertainty
from symbiosim.scenario.targets import current_values, parse_target, resolve_target

METHODS = ("mc", "lhs", "sobol")
DEFAULT_ARMS: dict[str, dict[str, Any]] = {"none": {}}
EXTRA_SETTINGS = ("facilitator",)


def input_columns(rows: tuple[Uncertainty, ...] | list[Uncertainty]) -> list[str]:
    """One column name per uncertainty row: ``in_`` + the target in letters, digits and _ (deduplicated)."""
    names: list[str] = []
    for u in rows:
        base = "in_" + re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", u.target.lower())).strip("_")
        name, i = base, 2
        while name in names:
            name, i = f"{base}_{i}", i + 1
        names.append(name)
    return names


def load_arms(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Read and check an arms file; ``{"none": {}}`` without one."""
    if path is None:
        return dict(DEFAULT_ARMS)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    if isinstance(raw, Mapping) and "arms" in raw:
        raw = raw["arms"]
    return validate_arms(raw, str(path))


def validate_arms(raw: Any, source: str = "arms") -> dict[str, dict[str, Any]]:
    """Check arm names, instrument names and values; ``ValueError`` naming every problem."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{source}: expected a mapping 'arms: {{name: {{instrument: value}}}}' with at least one arm")
    problems: list[str] = []
    arms: dict[str, dict[str, Any]] = {}
    known = [*Policies.model_fields, *EXTRA_SETTINGS]
    for name, setting in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            problems.append(f"arm {name!r}: expected a name of letters, digits, _ . -")
            continue
        setting = setting or {}
        if not isinstance(setting, Mapping):
            problems.append(f"arm {name}: expected a mapping of instrument: value, got {setting!r}")
            continue
        unknown = [k for k in setting if k not in known]
        if unknown:
            problems.append(f"arm {name}: unknown instrument(s) {', '.join(map(str, unknown))}; expected {', '.join(known)}")
            continue
        if "facilitator" in setting and not isinstance(setting["facilitator"], bool):
            problems.append(f"arm {name}.facilitator: expected true or false, got {setting['facilitator']!r}")
        policies = {k: v for k, v in setting.items() if k != "facilitator"}
        try:
            checked = Policies(**policies)
            for instrument in policies:
                value = getattr(checked, instrument)
                for key, number in (value.items() if isinstance(value, dict) else [("", value)]):
                    where = f"arm {name}.{instrument}" + (f"[{key}]" if key else "")
                    if number is None:
                        continue
                    if instrument == "investment_subsidy" and not 0 <= number <= 1:
                        problems.append(f"{where}: expected a share between 0 and 1, got {number!r}")
                    elif instrument != "carbon_price" and number < 0:
                        problems.append(f"{where}: expected >= 0, got {number!r}")
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(x) for x in err["loc"])
                problems.append(f"arm {name}.{where}: {err['msg']}")
            continue
        if not problems:
            arms[name] = dict(setting)
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return arms


def sample_count(n: int, d: int, method: str) -> int:
    """Samples in the design: n, or n (d + 2) for Saltelli's Sobol scheme."""
    return n * (d + 2) if method == "sobol" and d else n


def unit_sample(n: int, d: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """``sample_count(n, d, method)`` points in (0, 1)^d: plain Monte Carlo, Latin hypercube or Saltelli."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: expected one of {', '.join(METHODS)}")
    if d == 0:
        return np.zeros((n, 0))
    if method == "sobol":
        import warnings

        from SALib.sample import sobol as saltelli

        problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
        with warnings.catch_warnings():  # SALib warns when n is not a power of 2: documented, not an error
            warnings.simplefilter("ignore")
            u = saltelli.sample(problem, n, calc_second_order=False, scramble=True, seed=int(rng.integers(2**31)))
    else:
        u = qmc.LatinHypercube(d=d, seed=rng).random(n) if method == "lhs" else rng.random((n, d))
    return np.clip(u, 1e-12, 1 - 1e-12)


def inverse_cdf(u: Uncertainty, q: np.ndarray) -> np.ndarray:
    """Map probabilities ``q`` through the row's distribution."""
    if u.dist == "uniform":
        assert u.low is not None and u.high is not None
        return u.low + q * (u.high - u.low)
    if u.dist == "triangular":
        assert u.low is not None and u.high is not None and u.mode is not None
        width = u.high - u.low
        if width <= 0:
            return np.full_like(q, u.low)
        return np.asarray(stats.triang.ppf(q, c=(u.mode - u.low) / width, loc=u.low, scale=width))
    assert u.mean is not None and u.sd is not None
    z = np.asarray(stats.norm.ppf(q))
    if u.dist == "normal":
        return u.mean + u.sd * z
    return np.exp(u.mean + u.sd * z)


def run_seeds(root: int, samples: int, replications: int) -> np.ndarray:
    """Seed of (sample, replication): shape (samples, replications), the same in every arm."""
    _, runs = np.random.SeedSequence(root).spawn(2)
    children = runs.spawn(samples * replications)
    seeds = np.array([int(c.generate_state(1, dtype=np.uint32)[0]) for c in children], dtype=np.int64)
    return seeds.reshape(samples, replications)


def make_design(
    scenario: Scenario,
    samples: int,
    *,
    method: str = "lhs",
    arms: Mapping[str, Mapping[str, Any]] | None = None,
    replications: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """The design table (one row per run); see the module docstring."""
    if samples < 1 or replications < 1:
        raise ValueError("samples and replications must be at least 1")
    arms = dict(arms or DEFAULT_ARMS)
    rows = list(scenario.uncertainty)
    for u in rows:  # fail early on a target that hits nothing
        resolve_target(scenario, parse_target(u.target))
    sample_ss, _ = np.random.SeedSequence(seed).spawn(2)
    unit = unit_sample(samples, len(rows), method, np.random.default_rng(sample_ss))
    samples = sample_count(samples, len(rows), method)
    values = np.column_stack([inverse_cdf(u, unit[:, j]) for j, u in enumerate(rows)]) if rows else np.zeros((samples, 0))
    seeds = run_seeds(seed, samples, replications)
    names = input_columns(rows)
    arm_names = list(arms)
    n_arms, k = len(arm_names), replications
    sample_id = np.repeat(np.arange(samples), n_arms * k)
    arm_idx = np.tile(np.repeat(np.arange(n_arms), k), samples)
    rep = np.tile(np.arange(k), samples * n_arms)
    design = pd.DataFrame(
        {
            "run_id": np.arange(samples * n_arms * k, dtype=np.int64),
            "sample_id": sample_id.astype(np.int64),
            "arm": np.array(arm_names, dtype=object)[arm_idx],
            "replication": rep.astype(np.int64),
            "seed": seeds[sample_id, rep],
        }
    )
    for j, name in enumerate(names):
        design[name] = values[sample_id, j]
    return design


def apply_sample(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """The scenario with one sample applied (``values``: input column -> number); validated.

    ``as: factor`` multiplies each hit cell's current value, ``as: value``
    replaces it. The result goes through the full validation (schema and
    cross-table checks), so a sample that breaks the scenario raises
    ``ScenarioError`` like a bad file would.
    """
    from symbiosim.scenario.load import scenario_from_dict

    rows = list(scenario.uncertainty)
    raw = scenario.model_dump(by_alias=True, exclude_none=True, mode="json")
    for u, name in zip(rows, input_columns(rows), strict=True):
        x = float(values[name])
        if not math.isfinite(x):
            raise ValueError(f"sample value for {u.target} is not finite")
        target = parse_target(u.target)
        current = current_values(scenario, target)
        if target.table == "settings":
            cells = [(raw["settings"], current[0])]
        else:
            hits = resolve_target(scenario, target)
            cells = [(raw[target.table][i], c) for i, c in zip(hits, current, strict=True)]
        for row, now in cells:
            if u.as_ == "factor":
                if now is None:
                    raise ValueError(f"{u.target}: as factor, but the cell is empty (give a value or use as: value)")
                new: float = float(now) * x
            else:
                new = x
            if isinstance(now, int) and not isinstance(now, bool) and float(new).is_integer():
                row[target.column] = int(new)
            else:
                row[target.column] = new
    return scenario_from_dict(raw, source=f"{scenario.settings.name} (sample)")


def with_arm(scenario: Scenario, setting: Mapping[str, Any]) -> tuple[Scenario, bool]:
    """The scenario under one arm's policies, and whether the arm adds a facilitator."""
    policies = {k: v for k, v in setting.items() if k != "facilitator"}
    s = scenario.with_policies(**policies) if policies else scenario
    return s, bool(setting.get("facilitator", False))
