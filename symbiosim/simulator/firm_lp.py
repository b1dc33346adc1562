"""One firm's own best operation, given its contracts: a small LP per firm.

A firm decides its activities, purchases, sales, disposals and storage to
maximise its own discounted cash flow (at its own discount rate), with the
quantities it has contracted to send or receive fixed. Contract payments,
transport and investments are booked by the caller. The money per unit of
each decision is the ledger's (``symbiosim.ledger.unit_value``). It knows only its own
recipes, capacities, prices and costs, the same numbers the planner uses
(``ModelData``), so a firm's plan is a feasible slice of the planner's model.

Built with numpy and solved with highspy directly: a firm's LP has a few
thousand columns at most and is solved many times per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from symbiosim import ledger
from symbiosim.scenario.data import ModelData

INF = highspy.kHighsInf


@dataclass
class Prices:
    """Per-period multipliers of a firm's prices (1 = the scenario's value)."""

    purchase: dict[str, np.ndarray] = field(default_factory=dict)  # product -> factor per period
    sale: dict[str, np.ndarray] = field(default_factory=dict)
    disposal: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Extra:
    """An optional flow the firm may take (inflow) or give (outflow), per period, up to ``bound``."""

    product: str
    inflow: bool
    bound: np.ndarray  # per period of the window
    unit_value: np.ndarray  # money per unit to the firm (e.g. -transport + subsidy), per period


@dataclass
class FirmSolution:
    ok: bool
    value: float  # discounted operating cash flow at the firm's rate (+ extras' unit values)
    start: int
    activity: dict[str, np.ndarray]
    purchase: dict[str, np.ndarray]
    sale: dict[str, np.ndarray]
    disposal: dict[str, np.ndarray]
    storage: dict[str, np.ndarray]
    extra: list[np.ndarray]
    per_period: np.ndarray = field(default_factory=lambda: np.zeros(0))  # objective contribution of each period

    def value_from(self, t: int, end: int | None = None) -> float:
        """Value of periods t .. end-1 (the tail of an optimal plan is optimal for the tail)."""
        stop = len(self.per_period) if end is None else end - self.start
        return float(self.per_period[t - self.start : stop].sum())


def _csc(vals: np.ndarray, rows: np.ndarray, cols: np.ndarray, nrow: int, ncol: int) -> _Triplets:
    """Column-wise sparse matrix from triplets (duplicates summed), in plain numpy:
    scipy's constructor checks cost more than the solve of a small firm LP."""
    lin = cols.astype(np.int64) * max(nrow, 1) + rows
    order = np.argsort(lin, kind="stable")
    lin, vals = lin[order], vals[order]
    if len(lin) > 1 and (lin[1:] == lin[:-1]).any():
        lin, first = np.unique(lin, return_index=True)
        vals = np.add.reduceat(vals, first)
    col = lin // max(nrow, 1)
    indptr = np.zeros(ncol + 1, dtype=np.int32)
    np.cumsum(np.bincount(col, minlength=ncol), out=indptr[1:])
    return _Triplets(indptr, (lin - col * max(nrow, 1)).astype(np.int32), vals)


class _Triplets:
    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        self.indptr, self.indices, self.data = indptr, indices, data


class FirmLP:
    """The operating problem of one actor over periods ``start .. T-1``."""

    def __init__(self, data: ModelData, actor: str, discount_rate: float) -> None:
        self.d = data
        self.actor = actor
        rate = discount_rate
        self.discount = np.array([(1 + rate) ** -data.year_of(t) for t in range(data.periods)])
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.processes_all = [k for (a, k) in data.actor_processes if a == actor]
        # static per-period arrays over the whole horizon, sliced per solve
        T = data.periods
        self.year = np.array([data.year_of(t) for t in range(T)])
        self.fixed: dict[str, np.ndarray] = {}
        for k in self.processes_all:
            r = data.actor_processes[(actor, k)]
            if r.fixed_activity is not None:
                self.fixed[k] = np.array([r.fixed_activity / data.ppy * data.factor(r.profile, t) for t in range(T)])
        self.limit: dict[tuple[str, str], np.ndarray] = {}
        for kind, rows_, limits in (("buy", data.scenario.purchases, data.purchase_limit), ("sell", data.scenario.sales, data.sale_limit)):
            for trade in rows_:
                if trade.actor == actor:
                    lim = limits[(actor, trade.product)]
                    self.limit[(kind, trade.product)] = np.array(
                        [lim / data.ppy * data.factor(trade.profile, t) if lim is not None else INF for t in range(T)]
                    )
        self._ranges: dict[int, np.ndarray] = {}
        self.purchases = [p for (a, p) in data.purchase_limit if a == actor]
        self.sales = [p for (a, p) in data.sale_limit if a == actor]
        self.stores = [p for (a, p) in data.storage_capacity if a == actor]
        # money per unit of each own decision, from the ledger (disposals: filled on first use)
        self.unit: dict[tuple[str, str], float] = {("act", k): ledger.unit_value(data, "act", (actor, k)) for k in self.processes_all}
        self.unit |= {("buy", p): ledger.unit_value(data, "buy", (actor, p)) for p in self.purchases}
        self.unit |= {("sell", p): ledger.unit_value(data, "sell", (actor, p)) for p in self.sales}
        self.unit |= {("store", p): ledger.unit_value(data, "store", (actor, p)) for p in self.stores}

    def unit_value(self, kind: str, key: str) -> float:
        """Money per unit of the firm's own ``kind`` (act, buy, sell, dump, store) of ``key`` per period."""
        value = self.unit.get((kind, key))
        if value is None:
            value = self.unit[(kind, key)] = ledger.unit_value(self.d, kind, (self.actor, key))
        return value

    def products(self, processes: list[str], flows: dict[str, np.ndarray], extras: list[Extra]) -> list[str]:
        ps: set[str] = set(self.purchases) | set(self.sales) | set(self.stores) | set(flows) | {e.product for e in extras}
        for k in processes:
            ps |= set(self.d.processes[k].inputs) | set(self.d.processes[k].outputs)
        return sorted(ps)

    def solve(
        self,
        processes: dict[str, int],
        net_inflow: dict[str, np.ndarray],
        start: int = 0,
        storage0: dict[str, float] | None = None,
        done_this_year: dict[str, float] | None = None,
        prices: Prices | None = None,
        extras: list[Extra] | None = None,
        use_rules: dict[str, str] | None = None,
        end: int | None = None,
    ) -> FirmSolution:
        """Solve the firm's LP from period ``start`` to the end of the horizon.

        Args:
            processes: process id -> first year it is available (existing: 0).
            net_inflow: product -> contracted (received - sent) per period (length T).
            start: first period decided; earlier periods are history.
            storage0: storage levels at the end of period ``start - 1``.
            done_this_year: activity already done this year (for min_activity).
            prices: per-period price multipliers.
            extras: optional flows with their unit values (deal evaluation).
            use_rules: product -> "send" or "receive": subsidised goods must be
                own output when sent, and used (net of own output) when received.
            end: first period not decided (default: the end of the horizon);
                deals are valued over their contract window only.
        """
        d, T = self.d, self.d.periods
        stop = T if end is None else end
        periods = np.arange(start, stop)
        n = len(periods)
        extras = extras or []
        prices = prices or Prices()
        disc = self.discount[start:stop]
        procs = [k for k in self.processes_all if k in processes]
        products = self.products(procs, net_inflow, extras)
        pidx = {p: i for i, p in enumerate(products)}

        cost: list[np.ndarray] = []
        lower: list[np.ndarray] = []
        upper: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        ncol = 0
        blocks: dict[tuple[str, str], int] = {}

        def add_block(key: tuple[str, str], c: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> int:
            nonlocal ncol
            blocks[key] = ncol
            cost.append(c)
            lower.append(lb)
            upper.append(ub)
            ncol += n
            return blocks[key]

        steps = self._ranges.setdefault(n, np.arange(n))

        def balance(product: str, first_col: int, coef: float) -> None:
            rows.append(pidx[product] * n + steps)
            cols.append(first_col + steps)
            vals.append(np.full(n, coef))

        years = self.year[start:stop]
        for k in procs:
            r = d.actor_processes[(self.actor, k)]
            available = years >= processes[k]
            if k in self.fixed:
                level = self.fixed[k][start:stop] * available
                lb, ub = level, level.copy()
            else:
                lb = np.zeros(n)
                ub = np.where(available, r.capacity / d.ppy if r.capacity is not None else INF, 0.0)
            first = add_block(("act", k), self.unit[("act", k)] * disc, lb, ub)
            for p, coef in d.processes[k].outputs.items():
                balance(p, first, coef)
            for p, coef in d.processes[k].inputs.items():
                balance(p, first, -coef)
        for p in self.purchases:
            ub = self.limit[("buy", p)][start:stop]
            factor = prices.purchase.get(p, np.ones(T))[start:stop]
            first = add_block(("buy", p), self.unit[("buy", p)] * factor * disc, np.zeros(n), ub)
            balance(p, first, 1.0)
        for p in self.sales:
            ub = self.limit[("sell", p)][start:stop]
            factor = prices.sale.get(p, np.ones(T))[start:stop]
            first = add_block(("sell", p), self.unit[("sell", p)] * factor * disc, np.zeros(n), ub)
            balance(p, first, -1.0)
        for p in products:
            if p in d.disposal_cost:
                factor = prices.disposal.get(p, np.ones(T))[start:stop]
                first = add_block(("dump", p), self.unit_value("dump", p) * factor * disc, np.zeros(n), np.full(n, INF))
                balance(p, first, -1.0)
        rhs = np.zeros(len(products) * n)
        for p in self.stores:
            cap = d.storage_capacity[(self.actor, p)]
            first = add_block(("store", p), self.unit[("store", p)] * disc, np.zeros(n), np.full(n, cap))
            balance(p, first, -1.0)  # level at the end of t leaves the balance ...
            rows.append(pidx[p] * n + np.arange(1, n))  # ... and comes back in t + 1
            cols.append(first + np.arange(n - 1))
            vals.append(np.ones(n - 1))
            rhs[pidx[p] * n] -= (storage0 or {}).get(p, 0.0)
        extra_cols: list[int] = []
        for e in extras:
            first = add_block(("extra", str(len(extra_cols))), e.unit_value * disc, np.zeros(n), e.bound.astype(float))
            balance(e.product, first, 1.0 if e.inflow else -1.0)
            extra_cols.append(first)
        for p, flow in net_inflow.items():
            rhs[pidx[p] * n : (pidx[p] + 1) * n] -= flow[start:stop]

        nbal = len(products) * n
        row_lo, row_up = [rhs], [rhs.copy()]
        nrow = nbal
        # minimum activity per (remaining part of a) year
        for k in procs:
            r = d.actor_processes[(self.actor, k)]
            if r.min_activity <= 0 or r.fixed_activity is not None:
                continue
            for y in np.unique(years):
                if y < processes[k]:
                    continue
                in_year = np.nonzero(years == y)[0]
                need = r.min_activity - (done_this_year or {}).get(k, 0.0) if y == years[0] else r.min_activity
                rows.append(np.full(len(in_year), nrow))
                cols.append(blocks[("act", k)] + in_year)
                vals.append(np.ones(len(in_year)))
                row_lo.append(np.array([max(need, 0.0)]))
                row_up.append(np.array([INF]))
                nrow += 1
        # subsidy safeguards, as in the planner
        for p, rule in (use_rules or {}).items():
            made = [(k, c) for k in procs for q, c in d.processes[k].outputs.items() if q == p]
            used = [(k, c) for k in procs for q, c in d.processes[k].inputs.items() if q == p]
            flow = net_inflow.get(p, np.zeros(T))[start:stop]
            r_idx = nrow + np.arange(n)
            sign = -1.0 if rule == "send" else 1.0
            # send:    sent <= produced            -> produced >= -net
            # receive: received <= used - produced -> used - produced >= net (+ extra inflow)
            for k, c in made:
                rows.append(r_idx)
                cols.append(blocks[("act", k)] + np.arange(n))
                vals.append(np.full(n, -sign * c))
            if rule == "receive":
                for k, c in used:
                    rows.append(r_idx)
                    cols.append(blocks[("act", k)] + np.arange(n))
                    vals.append(np.full(n, c))
                if ("sell", p) in blocks:
                    rows.append(r_idx)
                    cols.append(blocks[("sell", p)] + np.arange(n))
                    vals.append(np.ones(n))
                for e, first in zip(extras, extra_cols, strict=True):
                    if e.product == p and e.inflow:
                        rows.append(r_idx)
                        cols.append(first + np.arange(n))
                        vals.append(np.full(n, -1.0))
            # a rule binds only in periods with a receipt (or a delivery), as the planner's role binary
            takes_extra = any(e.product == p and e.inflow for e in extras)
            if rule == "receive":
                row_lo.append(np.where(flow > 0, flow, 0.0 if takes_extra else -INF))
            else:
                row_lo.append(np.where(flow < 0, -flow, -INF))
            row_up.append(np.full(n, INF))
            nrow += n

        objective = np.concatenate(cost) if cost else np.zeros(0)
        a = _csc(
            np.concatenate(vals) if vals else np.zeros(0),
            np.concatenate(rows) if rows else np.zeros(0, np.int64),
            np.concatenate(cols) if cols else np.zeros(0, np.int64),
            nrow,
            ncol,
        )
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_ = objective
        lp.col_lower_ = np.concatenate(lower) if lower else np.zeros(0)
        lp.col_upper_ = np.concatenate(upper) if upper else np.zeros(0)
        lp.row_lower_ = np.concatenate(row_lo)
        lp.row_upper_ = np.concatenate(row_up)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        self.h.clearModel()
        self.h.passModel(lp)
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            return FirmSolution(False, -np.inf, start, {}, {}, {}, {}, {}, [])
        x = np.asarray(self.h.getSolution().col_value)
        value = float(self.h.getInfo().objective_function_value)
        per_period = (objective * x).reshape(-1, n).sum(axis=0) if ncol else np.zeros(n)

        def take(kind: str) -> dict[str, np.ndarray]:
            return {key[1]: x[first : first + n] for key, first in blocks.items() if key[0] == kind}

        return FirmSolution(
            True,
            value,
            start,
            take("act"),
            take("buy"),
            take("sell"),
            take("dump"),
            take("store"),
            [x[first : first + n] for first in extra_cols],
            per_period,
        )
