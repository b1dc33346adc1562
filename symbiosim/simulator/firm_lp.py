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
from typing import NamedTuple

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


class _CscMatrix(NamedTuple):
    """A sparse matrix in compressed sparse column form (HiGHS's ``kColwise``)."""

    column_start: np.ndarray  # column j's entries are column_start[j] .. column_start[j + 1] - 1
    row_index: np.ndarray  # row of each entry
    value: np.ndarray


def _csc(vals: np.ndarray, rows: np.ndarray, cols: np.ndarray, nrow: int, ncol: int) -> _CscMatrix:
    """Column-wise sparse matrix from triplets (duplicates summed), in plain numpy:
    scipy's constructor checks cost more than the solve of a small firm LP."""
    lin = cols.astype(np.int64) * max(nrow, 1) + rows
    order = np.argsort(lin, kind="stable")
    lin, vals = lin[order], vals[order]
    if len(lin) > 1 and (lin[1:] == lin[:-1]).any():
        lin, first = np.unique(lin, return_index=True)
        vals = np.add.reduceat(vals, first)
    col = lin // max(nrow, 1)
    start = np.zeros(ncol + 1, dtype=np.int32)
    np.cumsum(np.bincount(col, minlength=ncol), out=start[1:])
    return _CscMatrix(start, (lin - col * max(nrow, 1)).astype(np.int32), vals)


class _Window(NamedTuple):
    """The periods one solve decides: ``start .. stop - 1``."""

    start: int
    stop: int
    n: int  # stop - start
    discount: np.ndarray  # discount factor per period of the window
    years: np.ndarray  # year of each period of the window
    steps: np.ndarray  # 0 .. n - 1


BlockKey = tuple[str, str]  # (kind: act, buy, sell, dump, store, extra; process, product or extra number)


@dataclass
class _LpBuilder:
    """A firm LP as it is built: blocks of ``n`` columns (one per period of the window),
    the product balance rows (product i, period j: row ``i * n + j``), further rows, and
    the matrix as triplets."""

    n: int
    steps: np.ndarray
    balance_row: dict[str, int]  # product -> its first balance row
    nrow: int  # rows so far (the balance rows first)
    ncol: int = 0
    blocks: dict[BlockKey, int] = field(default_factory=dict)  # -> first column
    cost: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)

    def add_block(self, key: BlockKey, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> int:
        """One column per period; returns the first column."""
        first = self.blocks[key] = self.ncol
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.ncol += self.n
        return first

    def add_entries(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(vals)

    def add_to_balance(self, product: str, first_col: int, coef: float) -> None:
        """A block enters ``product``'s balance with ``coef`` in each period."""
        self.add_entries(self.balance_row[product] * self.n + self.steps, first_col + self.steps, np.full(self.n, coef))

    def add_rows(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.nrow += len(lower)

    def objective(self) -> np.ndarray:
        return np.concatenate(self.cost) if self.cost else np.zeros(0)

    def to_highs(self, objective: np.ndarray) -> highspy.HighsLp:
        a = _csc(
            np.concatenate(self.vals) if self.vals else np.zeros(0),
            np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64),
            np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64),
            self.nrow,
            self.ncol,
        )
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.ncol, self.nrow
        lp.col_cost_ = objective
        lp.col_lower_ = np.concatenate(self.lower) if self.lower else np.zeros(0)
        lp.col_upper_ = np.concatenate(self.upper) if self.upper else np.zeros(0)
        lp.row_lower_ = np.concatenate(self.row_lower)
        lp.row_upper_ = np.concatenate(self.row_upper)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.column_start
        lp.a_matrix_.index_ = a.row_index
        lp.a_matrix_.value_ = a.value
        return lp


class FirmLP:
    """The operating problem of one actor over periods ``start .. T-1``."""

    def __init__(self, data: ModelData, actor: str, discount_rate: float) -> None:
        self.data = data
        self.actor = actor
        self.discount = np.array([(1 + discount_rate) ** -data.year_of(t) for t in range(data.periods)])
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
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
        for kind, trades, limits in (("buy", data.scenario.purchases, data.purchase_limit), ("sell", data.scenario.sales, data.sale_limit)):
            for trade in trades:
                if trade.actor == actor:
                    lim = limits[(actor, trade.product)]
                    self.limit[(kind, trade.product)] = np.array(
                        [lim / data.ppy * data.factor(trade.profile, t) if lim is not None else INF for t in range(T)]
                    )
        self._steps: dict[int, np.ndarray] = {}  # n -> 0 .. n - 1
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
            value = self.unit[(kind, key)] = ledger.unit_value(self.data, kind, (self.actor, key))
        return value

    def products(self, processes: list[str], flows: dict[str, np.ndarray], extras: list[Extra]) -> list[str]:
        ps: set[str] = set(self.purchases) | set(self.sales) | set(self.stores) | set(flows) | {e.product for e in extras}
        for k in processes:
            ps |= set(self.data.processes[k].inputs) | set(self.data.processes[k].outputs)
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
        window = self._window(start, end)
        extras = extras or []
        prices = prices or Prices()
        procs = [k for k in self.processes_all if k in processes]
        products = self.products(procs, net_inflow, extras)
        lp = _LpBuilder(window.n, window.steps, {p: i for i, p in enumerate(products)}, nrow=len(products) * window.n)
        self._add_activities(lp, window, procs, processes)
        self._add_trades(lp, window, prices)
        self._add_disposals(lp, window, products, prices)
        rhs = np.zeros(len(products) * window.n)  # balance: inflows - outflows = -contracted net inflow
        self._add_storage(lp, window, rhs, storage0 or {})
        extra_cols = self._add_extras(lp, window, extras)
        for p, flow in net_inflow.items():
            first_row = lp.balance_row[p] * window.n
            rhs[first_row : first_row + window.n] -= flow[start : window.stop]
        lp.row_lower.append(rhs)
        lp.row_upper.append(rhs.copy())
        self._add_min_activity(lp, window, procs, processes, done_this_year or {})
        self._add_use_rules(lp, window, procs, net_inflow, extras, extra_cols, use_rules or {})
        return self._run(lp, window, extra_cols)

    # ---- the steps of a solve -----------------------------------------------
    def _window(self, start: int, end: int | None) -> _Window:
        stop = self.data.periods if end is None else end
        n = stop - start
        steps = self._steps.setdefault(n, np.arange(n))
        return _Window(start, stop, n, self.discount[start:stop], self.year[start:stop], steps)

    def _add_activities(self, lp: _LpBuilder, w: _Window, procs: list[str], processes: dict[str, int]) -> None:
        """One block per process: fixed production, or 0 .. capacity once available; its recipe in the balances."""
        data = self.data
        for k in procs:
            r = data.actor_processes[(self.actor, k)]
            available = w.years >= processes[k]
            if k in self.fixed:
                level = self.fixed[k][w.start : w.stop] * available
                lower, upper = level, level.copy()
            else:
                lower = np.zeros(w.n)
                upper = np.where(available, r.capacity / data.ppy if r.capacity is not None else INF, 0.0)
            first = lp.add_block(("act", k), self.unit[("act", k)] * w.discount, lower, upper)
            for p, coef in data.processes[k].outputs.items():
                lp.add_to_balance(p, first, coef)
            for p, coef in data.processes[k].inputs.items():
                lp.add_to_balance(p, first, -coef)

    def _add_trades(self, lp: _LpBuilder, w: _Window, prices: Prices) -> None:
        """Purchases and sales up to their limits, at the expected prices."""
        T = self.data.periods
        for p in self.purchases:
            upper = self.limit[("buy", p)][w.start : w.stop]
            factor = prices.purchase.get(p, np.ones(T))[w.start : w.stop]
            first = lp.add_block(("buy", p), self.unit[("buy", p)] * factor * w.discount, np.zeros(w.n), upper)
            lp.add_to_balance(p, first, 1.0)
        for p in self.sales:
            upper = self.limit[("sell", p)][w.start : w.stop]
            factor = prices.sale.get(p, np.ones(T))[w.start : w.stop]
            first = lp.add_block(("sell", p), self.unit[("sell", p)] * factor * w.discount, np.zeros(w.n), upper)
            lp.add_to_balance(p, first, -1.0)

    def _add_disposals(self, lp: _LpBuilder, w: _Window, products: list[str], prices: Prices) -> None:
        """Any product with a disposal cost may be disposed of, without limit."""
        T = self.data.periods
        for p in products:
            if p in self.data.disposal_cost:
                factor = prices.disposal.get(p, np.ones(T))[w.start : w.stop]
                first = lp.add_block(("dump", p), self.unit_value("dump", p) * factor * w.discount, np.zeros(w.n), np.full(w.n, INF))
                lp.add_to_balance(p, first, -1.0)

    def _add_storage(self, lp: _LpBuilder, w: _Window, rhs: np.ndarray, storage0: dict[str, float]) -> None:
        """The level at the end of t leaves t's balance and comes back in t + 1; the level before
        the window comes in at its first period."""
        for p in self.stores:
            capacity = self.data.storage_capacity[(self.actor, p)]
            first = lp.add_block(("store", p), self.unit[("store", p)] * w.discount, np.zeros(w.n), np.full(w.n, capacity))
            lp.add_to_balance(p, first, -1.0)
            lp.add_entries(lp.balance_row[p] * w.n + np.arange(1, w.n), first + np.arange(w.n - 1), np.ones(w.n - 1))
            rhs[lp.balance_row[p] * w.n] -= storage0.get(p, 0.0)

    def _add_extras(self, lp: _LpBuilder, w: _Window, extras: list[Extra]) -> list[int]:
        """The optional flows of a deal being valued; returns each one's first column."""
        extra_cols: list[int] = []
        for e in extras:
            first = lp.add_block(("extra", str(len(extra_cols))), e.unit_value * w.discount, np.zeros(w.n), e.bound.astype(float))
            lp.add_to_balance(e.product, first, 1.0 if e.inflow else -1.0)
            extra_cols.append(first)
        return extra_cols

    def _add_min_activity(
        self, lp: _LpBuilder, w: _Window, procs: list[str], processes: dict[str, int], done_this_year: dict[str, float]
    ) -> None:
        """Minimum activity per (remaining part of a) year, once a process is available."""
        for k in procs:
            r = self.data.actor_processes[(self.actor, k)]
            if r.min_activity <= 0 or r.fixed_activity is not None:
                continue
            for y in np.unique(w.years):
                if y < processes[k]:
                    continue
                in_year = np.nonzero(w.years == y)[0]
                need = r.min_activity - done_this_year.get(k, 0.0) if y == w.years[0] else r.min_activity
                lp.add_entries(np.full(len(in_year), lp.nrow), lp.blocks[("act", k)] + in_year, np.ones(len(in_year)))
                lp.add_rows(np.array([max(need, 0.0)]), np.array([INF]))

    def _add_use_rules(
        self,
        lp: _LpBuilder,
        w: _Window,
        procs: list[str],
        net_inflow: dict[str, np.ndarray],
        extras: list[Extra],
        extra_cols: list[int],
        use_rules: dict[str, str],
    ) -> None:
        """Subsidy safeguards, as in the planner. send: sent <= produced, i.e. produced >= -net;
        receive: received <= used - produced, i.e. used - produced (+ sold - extra inflow) >= net."""
        data, n = self.data, w.n
        for p, rule in use_rules.items():
            made = [(k, c) for k in procs for q, c in data.processes[k].outputs.items() if q == p]
            used = [(k, c) for k in procs for q, c in data.processes[k].inputs.items() if q == p]
            flow = net_inflow.get(p, np.zeros(data.periods))[w.start : w.stop]
            rule_rows = lp.nrow + np.arange(n)
            sign = -1.0 if rule == "send" else 1.0
            for k, c in made:
                lp.add_entries(rule_rows, lp.blocks[("act", k)] + np.arange(n), np.full(n, -sign * c))
            if rule == "receive":
                for k, c in used:
                    lp.add_entries(rule_rows, lp.blocks[("act", k)] + np.arange(n), np.full(n, c))
                if ("sell", p) in lp.blocks:
                    lp.add_entries(rule_rows, lp.blocks[("sell", p)] + np.arange(n), np.ones(n))
                for e, first in zip(extras, extra_cols, strict=True):
                    if e.product == p and e.inflow:
                        lp.add_entries(rule_rows, first + np.arange(n), np.full(n, -1.0))
            # a rule binds only in periods with a receipt (or a delivery), as the planner's role binary
            takes_extra = any(e.product == p and e.inflow for e in extras)
            if rule == "receive":
                lower = np.where(flow > 0, flow, 0.0 if takes_extra else -INF)
            else:
                lower = np.where(flow < 0, -flow, -INF)
            lp.add_rows(lower, np.full(n, INF))

    def _run(self, lp: _LpBuilder, w: _Window, extra_cols: list[int]) -> FirmSolution:
        """Solve with HiGHS; the solution per kind of block, and each period's part of the objective."""
        objective = lp.objective()
        if lp.ncol == 0:  # nothing to decide (a firm whose only processes are candidates): HiGHS calls it empty
            x, value = np.zeros(0), 0.0
        else:
            self.highs.clearModel()
            self.highs.passModel(lp.to_highs(objective))
            self.highs.run()
            if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return FirmSolution(False, -np.inf, w.start, {}, {}, {}, {}, {}, [])
            x = np.asarray(self.highs.getSolution().col_value)
            value = float(self.highs.getInfo().objective_function_value)
        n = w.n
        per_period = (objective * x).reshape(-1, n).sum(axis=0) if lp.ncol else np.zeros(n)

        def take(kind: str) -> dict[str, np.ndarray]:
            return {key[1]: x[first : first + n] for key, first in lp.blocks.items() if key[0] == kind}

        return FirmSolution(
            True,
            value,
            w.start,
            take("act"),
            take("buy"),
            take("sell"),
            take("dump"),
            take("store"),
            [x[first : first + n] for first in extra_cols],
            per_period,
        )
