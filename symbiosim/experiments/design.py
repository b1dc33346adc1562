"""The experiment's design table: uncertain inputs x policy arms x replications.

* **Samples.** Every row of the scenario's ``uncertainty`` section is one
  input. N points in the unit cube are drawn by plain Monte Carlo
  (``numpy.random.default_rng``), a Latin hypercube
  (``scipy.stats.qmc.LatinHypercube``, one stratum of width 1/N per sample and
  input) or, for Sobol sensitivity indices, Saltelli's scheme
  (``SALib.sample.sobol``, first and total order: N (D + 2) samples for D
  inputs, N best a power of 2), and mapped through each row's inverse distribution
  (``ppf`` of the frozen ``scipy.stats`` distribution that
  ``symbiosim.scenario.edit.distributions`` makes of it): uniform(low, high),
  triangular(low, mode, high), normal(mean, sd), lognormal (mean and sd of the
  log). ``apply_sample`` applies one sample with ``symbiosim.scenario.edit``:
  ``as: factor`` multiplies the target's current value, ``as: value`` replaces
  it; the edited rows and the cross-table checks are validated, errors name
  the sample and the input. Inputs are independent.
* **Arms.** A YAML file ``arms: {name: {instrument: value, ...}}`` (read with
  ``safe_load``) of policy settings applied on top of the scenario's own
  ``policies``; the file is checked by the pydantic models ``ArmsFile`` and
  ``Arm``: instruments are the fields of ``Policies`` (values checked by its
  schema, shares 0..1, no negative tax or subsidy) plus ``facilitator:
  true|false`` (the simulator's platform).
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

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from scipy.stats import qmc

from symbiosim.scenario.edit import apply_edits, distributions, sample_edits
from symbiosim.scenario.schema import Policies, Scenario, Uncertainty, col

METHODS = ("mc", "lhs", "sobol")
DEFAULT_ARMS: dict[str, dict[str, Any]] = {"none": {}}


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


class Arm(Policies):
    """One policy arm: the ``policies`` instruments it sets, plus ``facilitator``."""

    facilitator: StrictBool = col(False, doc="true: a platform makes every firm known to every other (simulator)")

    @model_validator(mode="after")
    def _ranges(self) -> Arm:
        problems = []
        for instrument in self.model_fields_set - {"facilitator"}:
            value = getattr(self, instrument)
            for key, number in value.items() if isinstance(value, dict) else [("", value)]:
                where = f"{instrument}[{key}]" if key else instrument
                if number is None:
                    continue
                if instrument == "investment_subsidy" and not 0 <= number <= 1:
                    problems.append(f"{where}: expected a share between 0 and 1, got {number!r}")
                elif instrument != "carbon_price" and number < 0:
                    problems.append(f"{where}: expected >= 0, got {number!r}")
        if problems:
            raise PydanticCustomError("arm_range", "{message}", {"message": "; ".join(problems)})
        return self


ARM_NAME = r"^[A-Za-z0-9_.-]+$"


class ArmsFile(BaseModel):
    """An arms file: ``arms: {name: {instrument: value, ...}}`` (names of letters, digits, _ . -)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arms: dict[Annotated[str, StringConstraints(pattern=ARM_NAME)], Arm | None] = Field(min_length=1)


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
    """Check arm names, instrument names and values (``ArmsFile``); ``ValueError`` naming every problem.

    Returns each arm's settings as written (``{name: {instrument: value}}``).
    """
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{source}: expected a mapping 'arms: {{name: {{instrument: value}}}}' with at least one arm")
    problems: list[str] = []
    known = list(Arm.model_fields)
    for name, setting in raw.items():
        try:
            ArmsFile.model_validate({"arms": {name: setting}})
        except ValidationError as exc:
            problems += _arm_problems(name, setting, exc, known)
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return {str(name): dict(setting or {}) for name, setting in raw.items()}


def _arm_problems(name: Any, setting: Any, exc: ValidationError, known: list[str]) -> list[str]:
    """The validation errors of one arm, in words."""
    if not isinstance(name, str) or not re.fullmatch(ARM_NAME, name):
        return [f"arm {name!r}: expected a name of letters, digits, _ . -"]
    if not isinstance(setting, Mapping):
        return [f"arm {name}: expected a mapping of instrument: value, got {setting!r}"]
    unknown = [str(k) for k in setting if k not in known]
    if unknown:
        return [f"arm {name}: unknown instrument(s) {', '.join(unknown)}; expected {', '.join(known)}"]
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"][2:]]  # ("arms", name, instrument, ...)
        if len(loc) > 1 and loc[1] in ("float", "dict[str,float]"):  # a number-or-mapping column: one branch is enough
            if (loc[1] == "float") == isinstance(setting.get(loc[0]), Mapping):
                continue
            loc = [loc[0], *loc[2:]]
        if err["type"] == "arm_range":
            out += [f"arm {name}.{p}" for p in err["msg"].split("; ")]
        elif loc and loc[0] == "facilitator":
            out.append(f"arm {name}.facilitator: expected true or false, got {setting['facilitator']!r}")
        else:
            out.append(f"arm {name}" + (f".{'.'.join(loc)}" if loc else "") + f": {err['msg']}")
    return out


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
    inputs = distributions(scenario)  # fails early on a target that hits nothing
    sample_ss, _ = np.random.SeedSequence(seed).spawn(2)
    unit = unit_sample(samples, len(rows), method, np.random.default_rng(sample_ss))
    samples = sample_count(samples, len(rows), method)
    values = np.column_stack([inp.dist.ppf(unit[:, j]) for j, inp in enumerate(inputs)]) if rows else np.zeros((samples, 0))
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


def apply_sample(scenario: Scenario, values: Mapping[str, Any], *, name: str | None = None) -> Scenario:
    """The scenario with one sample applied (``values``: input column -> number), validated.

    ``as: factor`` multiplies each hit cell's value, ``as: value`` replaces it
    (``symbiosim.scenario.edit``: the edited rows and every cross-table check are
    validated), so a sample that breaks the scenario raises ``ScenarioError`` naming
    the sample and the input, e.g. ``sample 12: purchases[product=wood_chips].price:
    purchases[allskog/wood_chips].price: ...``. ``name`` defaults to ``sample <sample_id>``
    when ``values`` holds a design row's ``sample_id``, else ``sample``.
    """
    rows = scenario.uncertainty
    if name is None:
        name = f"sample {int(values['sample_id'])}" if "sample_id" in values else "sample"
    numbers = [values[c] for c in input_columns(rows)]
    return apply_edits(scenario, sample_edits(rows, numbers), name=name)


def with_arm(scenario: Scenario, setting: Mapping[str, Any]) -> tuple[Scenario, bool]:
    """The scenario under one arm's policies, and whether the arm adds a facilitator."""
    policies = {k: v for k, v in setting.items() if k != "facilitator"}
    s = scenario.with_policies(**policies) if policies else scenario
    return s, bool(setting.get("facilitator", False))
