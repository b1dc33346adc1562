"""Priors of the behaviour rules that ``symbiosim calibrate`` estimates.

``PRIORS`` is the documented default table; only rules that the simulator
has (``symbiosim.simulator.behaviour.DEFAULTS``, read at run time) are
calibrated, the others keep their value. Ranges are wide on purpose: the
literature values of ``behaviour.py`` sit inside each.

========================  ===========  =============  ===============================================
rule                      prior        range          why this range
========================  ===========  =============  ===============================================
discovery_rate            log-uniform  0.05 - 5 /yr   from one partner found in 20 years to five a
                                                      year (facilitated clusters)
transaction_cost_share    uniform      0 - 0.2        share of a deal's annual value per side; up to
                                                      20 % (about half of the 10-40 % savings
                                                      reported for symbiosis exchanges)
max_payback_years         uniform      1 - 10 yr      2-5 years reported for symbiosis projects;
                                                      utilities accept longer
hurdle_rate               uniform      0.02 - 0.25    from a public utility's rate to venture-like
                                                      corporate hurdles
bargaining_power          uniform      0.1 - 0.9      the supplier's share of the joint gain
contract_years            integer      2 - 20 yr      spot-like to pipeline-length contracts
========================  ===========  =============  ===============================================

Distributions: ``uniform`` (low, high), ``loguniform`` (uniform in log,
low > 0) and ``integer`` (whole numbers low..high, each equally likely; the
rule gets the rounded value). Internally every prior is a uniform box in a
*latent* space (log for ``loguniform``, [low - 0.5, high + 0.5) for
``integer``), where the ABC-SMC kernel perturbs particles.

Override with a YAML file (``--priors FILE``, read with the project's
bounded safe reader) or a Python dict of the same shape::

    priors:
      discovery_rate: {distribution: loguniform, low: 0.1, high: 2}
      hurdle_rate: null          # not calibrated: keeps the scenario's value
      attention: {distribution: uniform, low: 1, high: 6}

Rules named in the file replace (or add to) the default table; ``null``
removes one. Errors are located (``priors[hurdle_rate].low: ...``) and all
reported together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from symbiosim.errors import Issue, ScenarioError
from symbiosim.scenario.load import did_you_mean, read_yaml

PRIORS: dict[str, dict[str, Any]] = {
    "discovery_rate": {"distribution": "loguniform", "low": 0.05, "high": 5.0},
    "transaction_cost_share": {"distribution": "uniform", "low": 0.0, "high": 0.2},
    "max_payback_years": {"distribution": "uniform", "low": 1.0, "high": 10.0},
    "hurdle_rate": {"distribution": "uniform", "low": 0.02, "high": 0.25},
    "bargaining_power": {"distribution": "uniform", "low": 0.1, "high": 0.9},
    "contract_years": {"distribution": "integer", "low": 2, "high": 20},
}
SHARES = frozenset({"bargaining_power", "transaction_cost_share"})  # rules that are shares: high at most 1
INTEGER_RULES = frozenset({"contract_years"})  # the simulator takes whole numbers: only an integer prior


def _whole(default: Any) -> bool:
    """A rule whose default is an int (``contract_years``, ``attention``) takes whole numbers."""
    return isinstance(default, int) and not isinstance(default, bool)


class PriorRow(BaseModel):
    """One rule's prior, as written in a priors file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: Literal["uniform", "loguniform", "integer"]
    low: float
    high: float

    @model_validator(mode="after")
    def _bounds(self) -> PriorRow:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low < 0:
            raise ValueError(f"low must be >= 0 (every rule is a rate, share, length or count), got {self.low:g}")
        if self.high <= self.low:
            raise ValueError(f"high ({self.high:g}) must be greater than low ({self.low:g})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform prior needs low > 0")
        if self.distribution == "integer" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError(f"an integer prior needs whole-number bounds, got {self.low:g} and {self.high:g}")
        return self


@dataclass(frozen=True)
class Prior:
    """A rule's prior: a uniform box in the latent space (see the module docstring)."""

    rule: str
    distribution: str
    low: float
    high: float

    @property
    def latent_bounds(self) -> tuple[float, float]:
        if self.distribution == "loguniform":
            return math.log(self.low), math.log(self.high)
        if self.distribution == "integer":
            return self.low - 0.5, self.high + 0.5
        return self.low, self.high

    def value(self, latent: np.ndarray) -> np.ndarray:
        """The rule's values (what the simulator gets) of latent coordinates."""
        if self.distribution == "loguniform":
            return np.exp(latent)
        if self.distribution == "integer":
            return np.clip(np.floor(latent + 0.5), self.low, self.high)
        return np.asarray(latent, dtype=float)

    def to_json(self) -> dict[str, Any]:
        return {"distribution": self.distribution, "low": self.low, "high": self.high}


def _issues(exc: ValidationError, rule: str) -> list[Issue]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if str(x) != "__root__"]
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            message = "unknown column; expected distribution, low, high"
        out.append(Issue("priors", rule, loc[0] if loc else None, message))
    return out


def validate_priors(raw: Any, rules: Mapping[str, Any], source: str = "priors") -> dict[str, Prior]:
    """The prior table: ``PRIORS`` (rules of ``rules`` only) updated by ``raw``.

    ``raw``: ``None``, or ``{"priors": {rule: {...} | None}}`` (a file's content),
    or ``{rule: {...} | None}`` (a Python dict). ``rules``: the simulator's rule
    names (``behaviour.DEFAULTS``).

    Raises:
        ScenarioError: every problem, located ``priors[rule].column`` (``what="priors"``).
    """
    table: dict[str, Any] = {k: v for k, v in PRIORS.items() if k in rules}
    issues: list[Issue] = []
    if raw is not None:
        if isinstance(raw, Mapping) and set(raw) == {"priors"}:
            raw = raw["priors"]
        if not isinstance(raw, Mapping):
            raise ScenarioError([Issue("priors", None, None, "expected a mapping `priors: {rule: {distribution, low, high}}`")],
                                source, what="priors")
        for rule, row in raw.items():
            name = str(rule)
            if name not in rules:
                issues.append(Issue("priors", name, None,
                                    f"unknown rule{did_you_mean(name, list(rules))} (the rules are: {', '.join(rules)})"))
            elif row is None:
                table.pop(name, None)
            elif not isinstance(row, Mapping):
                issues.append(Issue("priors", name, None, "expected {distribution, low, high} or null (not calibrated)"))
            else:
                table[name] = dict(row)
    out: dict[str, Prior] = {}
    for rule, row in table.items():
        try:
            p = PriorRow.model_validate(row)
        except ValidationError as exc:
            issues += _issues(exc, rule)
            continue
        if rule in SHARES and p.high > 1:
            issues.append(Issue("priors", rule, "high", f"{rule} is a share: expected at most 1, got {p.high:g}"))
        elif (rule in INTEGER_RULES or _whole(rules.get(rule))) and p.distribution != "integer":
            issues.append(Issue("priors", rule, "distribution", f"{rule} takes whole numbers: expected integer, got {p.distribution}"))
        else:
            out[rule] = Prior(rule, p.distribution, float(p.low), float(p.high))
    if not issues and not out:
        issues.append(Issue("priors", None, None, "no rule left to calibrate"))
    if issues:
        raise ScenarioError(issues, source, what="priors")
    return out


def load_priors(path: str | Path | None, rules: Mapping[str, Any], *, max_bytes: int | None = None) -> dict[str, Prior]:
    """The default table, or the one a priors file makes of it (see ``validate_priors``)."""
    if path is None:
        return validate_priors(None, rules)
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ScenarioError([Issue("(file)", None, None, f"unknown file type {path.suffix!r}: expected .yaml or .yml")],
                            str(path), what="priors")
    try:
        raw = read_yaml(path, max_bytes=max_bytes)
    except ScenarioError as exc:
        raise ScenarioError(exc.issues, exc.source, what="priors") from None
    if raw is None or (isinstance(raw, Mapping) and set(raw) != {"priors"}):
        extra = sorted(str(k) for k in raw) if isinstance(raw, Mapping) else []
        raise ScenarioError([Issue("(file)", None, None, "expected one top-level key `priors`"
                                   + (f", got: {', '.join(extra)}" if extra else ""))], str(path), what="priors")
    return validate_priors(raw, rules, source=str(path))
