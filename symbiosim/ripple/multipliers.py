"""Input-output multipliers: technical coefficients, the Leontief inverse, simple output,
value-added and employment multipliers (type I, and type II with households), and FLQ
regionalisation of a national table.

Formulas (Miller & Blair 2009, *Input-Output Analysis*, 2nd ed., ch. 2, 6 and 8):

* technical coefficients ``A = Z x̂⁻¹`` (``a_ij = z_ij / x_j``: what sector j buys from i per
  unit of its output); Leontief inverse ``L = (I - A)⁻¹`` (``numpy.linalg.solve``), defined
  and >= 0 when the spectral radius of A is below 1 (checked; else a located error);
* simple output multiplier ``m_j = Σ_i L_ij``: output of every sector per unit of final demand
  for j;
* value-added and employment multipliers ``Σ_i v_i L_ij`` and ``Σ_i e_i L_ij`` with
  ``v_i = VA_i / x_i`` and ``e_i = employment_i / x_i``. These are the *simple* multipliers
  (effect per unit of final demand), not the "type I ratios" (simple / direct coefficient);
* type II: the model closed with households (Miller & Blair ch. 6.1-6.2): a household row
  ``h_r,j = wages_j / x_j`` (labour income per unit of output) and a household column
  ``h_c,i = consumption_i / Σ_k wages_k`` (purchases per unit of household income; household
  income is the wages of the table), household-to-household 0. ``L̄ = (I - Ā)⁻¹`` of the
  (n+1) x (n+1) matrix; type II multipliers are the same sums over the n producing sectors
  of the first n columns of L̄ (household income is not counted as output: it is part of
  value added already);
* FLQ (Flegg, Webber & Elliott 1995; Flegg & Webber 1997, 2000): with regional and national
  totals per sector (output or employment), ``SLQ_i = (r_i / r) / (n_i / n)``,
  ``CILQ_ij = SLQ_i / SLQ_j``, ``λ = [log2(1 + r / n)]^δ``, ``FLQ_ij = λ CILQ_ij`` (i ≠ j)
  and ``λ SLQ_i`` on the diagonal; regional ``a^r_ij = a_ij min(FLQ_ij, 1)``. δ = 0.3 by
  default (Flegg & Webber 1997 proposed 0.3; Flegg & Tohmo 2013 found 0.2-0.3 for Finnish
  regions; δ = 0 is the CILQ alone, larger δ larger import adjustments). With households, the
  household column is regionalised with the simple LQ (``h_c,i min(SLQ_i, 1)``), since the
  cross-industry term has no household sector.

pymrio (the field's library, v0.7.0) was evaluated: installed in a scratch directory, its
``calc_A`` and ``calc_L`` give the same A and L as the code here (to 1e-16 on the bundled
Orkland table): they are the two numpy lines above (``Z * 1/x`` with 1/0 set to 0,
``np.linalg.inv(I - A)``), but without a productivity check (an A of spectral radius above 1
silently gives a negative L; a singular one raises numpy's bare "Singular matrix"), and
installing it requires pyarrow (already a dependency), xlrd, docutils and faker. Its
strength (MRIO databases such as EXIOBASE, satellite accounts, downloads) does not apply to
a one-region table. It is not used; the few lines here are checked against the textbook
values in tests/test_multipliers.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symbiosim.errors import Issue, ScenarioError
from symbiosim.ripple.iotable import IOTable
from symbiosim.scenario.schema import number_problem, show

DEFAULT_DELTA = 0.3  # Flegg & Webber (1997); Flegg & Tohmo (2013): 0.2-0.3
MEASURES = ("output", "employment")
PER_MILLION = 1e6  # employment multipliers are reported per million currency units of final demand
_PRODUCTIVE = 1 - 1e-9  # spectral radius below this, else the inverse is (near) singular


@dataclass(frozen=True)
class Multipliers:
    """Simple multipliers per sector: effect (in the whole economy of the table) of one money
    unit of final demand for the sector's output.

    ``output`` and ``value_added``: money per money; ``employment``: jobs per money unit of the
    table (``jobs_per_million`` converts to jobs per million currency units)."""

    sectors: tuple[str, ...]
    type: str  # "I" or "II"
    output: np.ndarray
    value_added: np.ndarray
    employment: np.ndarray
    A: np.ndarray  # the (regional, if regionalised) technical coefficients
    L: np.ndarray  # the Leontief inverse used (type II: the n x n sector block of L̄)
    currency: str = ""
    unit: float = 1.0
    region: str | None = None  # the region when regionalised by FLQ
    delta: float | None = None
    flq: np.ndarray | None = field(default=None, repr=False)

    def jobs_per_million(self) -> np.ndarray:
        """Employment multipliers in jobs per million currency units of final demand."""
        return self.employment * PER_MILLION / self.unit

    def to_json(self) -> dict[str, Any]:
        """``{"sectors", "type", "output", "value_added", "employment"}``; employment in jobs per
        million currency units of final demand (whatever the table's unit)."""
        jobs = self.jobs_per_million()
        return {
            "sectors": list(self.sectors),
            "type": self.type,
            "output": {s: float(v) for s, v in zip(self.sectors, self.output, strict=True)},
            "value_added": {s: float(v) for s, v in zip(self.sectors, self.value_added, strict=True)},
            "employment": {s: float(v) for s, v in zip(self.sectors, jobs, strict=True)},
        }


def technical_coefficients(Z: np.ndarray, x: np.ndarray) -> np.ndarray:  # noqa: N803 - the textbook's names
    """``A = Z x̂⁻¹``: column j divided by the output of j (every x_j > 0: checked by the reader)."""
    return np.asarray(Z, dtype=float) / np.asarray(x, dtype=float)[None, :]


NOT_PRODUCTIVE = ("some sectors buy all their output's worth from each other (no value added, no imports)")
HOUSEHOLDS_NOT_PRODUCTIVE = ("households spend on the table's products so much of the income they earn that "
                             "every round of spending creates more than the last: check consumption against wages")


def leontief_inverse(A: np.ndarray, *, table: str = "intermediate", why: str = NOT_PRODUCTIVE) -> np.ndarray:  # noqa: N803
    """``L = (I - A)⁻¹``.

    Raises:
        ScenarioError: the spectral radius of A is 1 or more (the economy is not productive:
            some group of sectors needs at least its own output as input), so L is singular
            or has negative entries.
    """
    A = np.asarray(A, dtype=float)  # noqa: N806
    n = A.shape[0]
    rho = float(np.max(np.abs(np.linalg.eigvals(A)))) if n else 0.0
    if not rho < _PRODUCTIVE:
        raise ScenarioError([Issue(table, None, None,
                                   f"{'closed with households, ' if table == 'households' else ''}the table is not "
                                   "productive: the spectral radius of the technical coefficients "
                                   f"is {rho:.6g} (must be below 1), so (I - A) has no non-negative inverse: {why}")],
                            what="input-output table")
    try:
        return np.linalg.solve(np.eye(n) - A, np.eye(n))
    except np.linalg.LinAlgError as exc:  # pragma: no cover - excluded by the spectral check
        raise ScenarioError([Issue(table, None, None, f"I - A is singular: {exc}")], what="input-output table") from None


def multipliers(table: IOTable, kind: str = "I", *, region: RegionTotals | None = None,
                delta: float = DEFAULT_DELTA) -> Multipliers:
    """Simple output, value-added and employment multipliers of ``table`` (``kind`` "I" or "II").

    ``region``: regional totals; the table (taken as national) is regionalised by FLQ with ``delta``.

    Raises:
        ValueError: ``kind`` is neither "I" nor "II", or "II" for a table without households.
        ScenarioError: the table (or, for type II, the table closed with households) is not
            productive; or ``region`` does not fit the table.
    """
    if kind not in ("I", "II"):
        raise ValueError(f"type must be I or II, got {kind!r}")
    if kind == "II" and table.households is None:
        raise ValueError(f"type II multipliers need households (wages and consumption per sector); "
                         f"the table {table.name} has none")
    x = table.x
    A = technical_coefficients(table.Z, x)  # noqa: N806
    n = len(table.sectors)
    flq = None
    slq = np.ones(n)
    if region is not None:
        flq, slq = flq_matrix(table, region, delta)
        A = A * np.minimum(flq, 1.0)  # noqa: N806
    v = np.array(table.value_added) / x
    e = np.array(table.employment) / x
    if kind == "I":
        L = leontief_inverse(A)  # noqa: N806
    else:
        assert table.households is not None
        wages = np.array(table.households.wages)
        income = float(wages.sum())
        closed = np.zeros((n + 1, n + 1))
        closed[:n, :n] = A
        closed[n, :n] = wages / x
        closed[:n, n] = np.array(table.households.consumption) / income * np.minimum(slq, 1.0)
        L = leontief_inverse(A)  # noqa: N806 - the open model first: its own error if it is not productive
        L = leontief_inverse(closed, table="households", why=HOUSEHOLDS_NOT_PRODUCTIVE)[:n, :n]  # noqa: N806
    return Multipliers(
        sectors=table.sectors, type=kind, output=L.sum(axis=0), value_added=v @ L, employment=e @ L, A=A, L=L,
        currency=table.currency, unit=table.unit, region=region.region if region else None,
        delta=delta if region is not None else None, flq=flq,
    )


# --------------------------------------------------------------------------- FLQ


@dataclass(frozen=True)
class RegionTotals:
    """A region's total per sector of a table: ``measure`` is ``output`` (the table's money
    unit) or ``employment`` (persons)."""

    region: str
    measure: str
    totals: Mapping[str, float]


def flq_matrix(table: IOTable, region: RegionTotals, delta: float = DEFAULT_DELTA) -> tuple[np.ndarray, np.ndarray]:
    """``(FLQ, SLQ)``: Flegg's location quotients (n x n, rows sell to columns; not capped)
    and the simple location quotients (n) of ``region`` against the table.

    Raises:
        ScenarioError: a sector of the table missing from the totals, an unknown sector,
            a regional total above the national one; located in ``region``'s file.
    """
    if not 0 <= delta < 1:
        raise ValueError(f"delta must be in [0, 1), got {delta}")
    national = np.array(table.output if region.measure == "output" else table.employment, dtype=float)
    issues = []
    for s in region.totals:
        if s not in table.sectors:
            from symbiosim.scenario.load import did_you_mean

            issues.append(Issue("totals", s, None, f"unknown sector{did_you_mean(s, table.sectors)}; "
                                f"expected a sector of the table {table.name}"))
    for i, s in enumerate(table.sectors):
        if s not in region.totals:
            issues.append(Issue("totals", s, None, f"no regional {region.measure} for sector {s} (give 0 if the "
                                "region has none)"))
        elif region.totals[s] > national[i] * (1 + 1e-9):
            issues.append(Issue("totals", s, region.measure,
                                f"regional {region.measure} {region.totals[s]:g} is above the table's {national[i]:g}: "
                                "FLQ regionalises a national table with a region's share of it"))
    r = np.array([float(region.totals.get(s, 0.0)) for s in table.sectors])
    if not issues and r.sum() <= 0:
        issues.append(Issue("totals", None, None, f"every regional {region.measure} is 0"))
    if issues:
        raise ScenarioError(issues, what="regional totals")
    with np.errstate(divide="ignore", invalid="ignore"):
        slq = np.where(national > 0, (r / r.sum()) / (national / national.sum()), 0.0)
        cilq = np.where(slq[None, :] > 0, slq[:, None] / slq[None, :], 0.0)
    lam = math.log2(1 + r.sum() / national.sum()) ** delta
    flq = lam * cilq
    np.fill_diagonal(flq, lam * slq)
    # a buying sector absent from the region (SLQ_j = 0) buys nothing regionally: its column is 0 anyway
    return flq, slq


def load_region_totals(path: str | Path, *, max_bytes: int | None = None) -> RegionTotals:
    """Read regional totals: YAML ``{region: name, measure: output|employment, totals: {sector: value}}``
    or CSV with a header ``sector,output`` or ``sector,employment`` (one row per sector).

    Raises:
        ScenarioError: located problems (``totals[sector]``, CSV rows as ``row N``).
    """
    path = Path(path)
    source = str(path)
    issues: list[Issue] = []
    suffix = path.suffix.lower()

    def fail() -> ScenarioError:
        return ScenarioError(issues, source, what="regional totals")

    if suffix in (".yaml", ".yml"):
        from symbiosim.scenario.load import read_yaml

        try:
            raw = read_yaml(path, max_bytes=max_bytes)
        except ScenarioError as exc:
            raise ScenarioError(exc.issues, exc.source, what="regional totals") from None
        if not isinstance(raw, Mapping):
            issues.append(Issue("(file)", None, None, f"expected a mapping with region, measure and totals, got {show(raw)}"))
            raise fail()
        for key in raw:
            if key not in ("region", "measure", "totals"):
                issues.append(Issue(str(key), None, None, "unknown key; expected: region, measure, totals"))
        region = str(raw.get("region") or path.stem)
        measure = raw.get("measure")
        items = raw.get("totals")
        if not isinstance(items, Mapping):
            issues.append(Issue("totals", None, None, f"expected a mapping sector: value, got {show(items)}"))
            items = {}
        pairs: list[tuple[str | int, Any, Any]] = [(str(k), k, v) for k, v in items.items()]
    elif suffix == ".csv":
        import csv

        from symbiosim.scenario.load import check_file_size, max_scenario_bytes

        check_file_size(path, max_scenario_bytes(max_bytes))
        region = path.stem
        try:
            with path.open(newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
        except (UnicodeDecodeError, csv.Error) as exc:
            issues.append(Issue("(file)", None, None, f"cannot read the file as UTF-8 CSV: {exc}"))
            raise fail() from None
        header = [h.strip() for h in rows[0]] if rows else []
        measure = header[1] if len(header) == 2 and header[0] == "sector" else None
        if measure is None:
            issues.append(Issue("(file)", "row 1", None, "expected the header sector,output or sector,employment, "
                                f"got {','.join(header) or '(empty)'}"))
            raise fail()
        pairs = []
        for r, row in enumerate(rows[1:], start=2):
            if not any(c.strip() for c in row):
                continue
            if len(row) != 2:
                issues.append(Issue("(file)", f"row {r}", None, f"expected 2 values (sector, {measure}), got {len(row)}"))
                continue
            try:
                value: Any = float(row[1])
            except ValueError:
                value = row[1]
            pairs.append((f"row {r}", row[0].strip(), value))
    else:
        issues.append(Issue("(file)", None, None, f"unknown file type {suffix!r}: expected .yaml, .yml or .csv"))
        raise fail()
    if measure not in MEASURES:
        issues.append(Issue("measure", None, None, f"expected output or employment, got {show(measure)}"))
    totals: dict[str, float] = {}
    for where, sector, value in pairs:
        name = str(sector).strip()
        at: str | int = name if isinstance(where, str) and not where.startswith("row ") else where
        if not name:
            issues.append(Issue("totals", at, "sector", "expected a sector name"))
        elif name in totals:
            issues.append(Issue("totals", at, "sector", f"sector {name} appears twice"))
        if isinstance(value, bool) or not isinstance(value, int | float) or number_problem(value) or value < 0:
            issues.append(Issue("totals", at, str(measure), f"expected a finite number >= 0, got {show(value)}"))
            continue
        totals[name] = float(value)
    if issues:
        raise fail()
    return RegionTotals(region, str(measure), totals)
