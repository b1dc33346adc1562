"""Transferable-utility (TU) cooperative games: Shapley value, nucleolus, least core and core checks.

A game is a list of ``players`` (hashable ids) and a characteristic function ``v``
given either as a mapping ``frozenset -> float`` or as a callable
``v(frozenset) -> float``. A callable is evaluated lazily and each coalition at
most once per function call (memoised); wrap it in :class:`TUGame` to share the
cache across several calls. ``v(frozenset())`` is taken as 0 and is never asked
of a callable.

Every solution concept returns ``{player: value}`` with float values.

Limits (stated once, enforced with a ``ValueError``):

* exact Shapley sums over all 2^n coalitions: n <= ``MAX_EXACT_SHAPLEY_PLAYERS`` (12);
  beyond that pass ``samples`` for Monte Carlo permutation sampling;
* the nucleolus, the least core, the core tests and the least subsidy enumerate
  all 2^n - 2 proper coalitions as LP rows or checks: n <= ``MAX_ENUMERATION_PLAYERS`` (15).

Linear programs are solved by HiGHS (``scipy.optimize.linprog(method="highs")``)
on values scaled to magnitude 1, so results carry its tolerances (about 1e-9
relative to the largest |v(S)|).

References: Shapley (1953); Schmeidler (1969); Maschler, Peleg & Shapley (1979);
Maschler, Solan & Zamir (2013) "Game Theory", ch. 17-20.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from symbiosim.errors import SymbiosimError

__all__ = [
    "MAX_ENUMERATION_PLAYERS",
    "MAX_EXACT_SHAPLEY_PLAYERS",
    "GameError",
    "LeastCore",
    "ShapleyEstimate",
    "TUGame",
    "core_is_empty",
    "core_violations",
    "equal_split",
    "in_core",
    "individually_rational",
    "least_core",
    "least_subsidy_for_core",
    "nucleolus",
    "proportional",
    "shapley",
    "shapley_sampled",
]

MAX_EXACT_SHAPLEY_PLAYERS = 12
MAX_ENUMERATION_PLAYERS = 15

Player = Hashable
Allocation = dict[Any, float]
CharacteristicFunction = Mapping[frozenset[Any], float] | Callable[[frozenset[Any]], float]

_DUAL_TOL = 1e-8  # a constraint with a larger LP dual is tight in every optimum
_SLACK_TOL = 1e-6  # ... and must be tight (scaled units) in the solution at hand
_SPAN_TOL = 1e-8  # residual below which a 0/1 coalition vector lies in a span


class GameError(SymbiosimError, ValueError):
    """A game, an allocation or a request is malformed or outside the stated limits."""


class ShapleyEstimate(NamedTuple):
    """Monte Carlo Shapley values and their standard errors (unpacks as ``values, std_errors``)."""

    values: Allocation
    std_errors: Allocation
    samples: int


class LeastCore(NamedTuple):
    """The least-core epsilon and a point of the least core (unpacks as ``allocation, epsilon``)."""

    allocation: Allocation
    epsilon: float


class TUGame:
    """A TU game whose characteristic function is checked and memoised.

    Coalitions are held internally as bit masks over ``players`` (bit i = player i).
    A ``TUGame`` is itself callable, so passing one as ``v`` to the functions of this
    module shares its cache across calls (each coalition is evaluated once in total).

    Args:
        players: Distinct hashable player ids (at least one).
        v: A mapping ``frozenset -> float`` (every coalition asked for must be present;
            ``frozenset()`` may be omitted and must be 0 if given) or a callable
            ``v(frozenset) -> float`` (never called with the empty set).

    Attributes:
        players: The players, in the given order.
        n: The number of players.
        calls: How many times the underlying callable or mapping was consulted.
    """

    def __init__(self, players: Sequence[Player], v: CharacteristicFunction) -> None:
        self.players: tuple[Any, ...] = tuple(players)
        self.n = len(self.players)
        if self.n == 0:
            raise GameError("a game needs at least one player")
        if len(set(self.players)) != self.n:
            raise GameError(f"players must be distinct, got {list(self.players)!r}")
        self._index = {p: i for i, p in enumerate(self.players)}
        self._cache: dict[int, float] = {0: 0.0}
        self.calls = 0
        if isinstance(v, Mapping):
            self._mapping: Mapping[frozenset[Any], float] | None = v
            self._function: Callable[[frozenset[Any]], float] | None = None
            self._check_mapping(v)
        elif callable(v):
            self._mapping, self._function = None, v
        else:
            raise GameError(f"v must be a mapping frozenset -> float or a callable, got {type(v).__name__}")

    def _check_mapping(self, v: Mapping[frozenset[Any], float]) -> None:
        for key in v:
            if not isinstance(key, frozenset):
                raise GameError(f"coalitions in v must be frozensets, got {key!r}")
            unknown = [p for p in key if p not in self._index]
            if unknown:
                raise GameError(f"coalition {self.describe(key)} in v names unknown players {unknown!r}")
        if frozenset() in v and self._finite(v[frozenset()], frozenset()) != 0.0:
            raise GameError(f"v(empty coalition) must be 0, got {v[frozenset()]!r}")

    def _finite(self, value: Any, coalition: frozenset[Any]) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise GameError(f"v{self.describe(coalition)} is not a number: {value!r}") from exc
        if not math.isfinite(number):
            raise GameError(f"v{self.describe(coalition)} is not finite: {value!r}")
        return number

    def describe(self, coalition: Iterable[Any]) -> str:
        """The coalition as ``{a, b}`` with members in player order (for messages)."""
        members = sorted(coalition, key=lambda p: self._index.get(p, self.n))
        return "{" + ", ".join(repr(p) for p in members) + "}"

    def coalition(self, mask: int) -> frozenset[Any]:
        """The coalition (frozenset of players) of a bit mask."""
        return frozenset(p for i, p in enumerate(self.players) if mask >> i & 1)

    def mask(self, coalition: Iterable[Any]) -> int:
        """The bit mask of a coalition; unknown players are an error."""
        mask = 0
        for p in coalition:
            if p not in self._index:
                raise GameError(f"{p!r} is not a player of this game")
            mask |= 1 << self._index[p]
        return mask

    def value_of_mask(self, mask: int) -> float:
        """v of the coalition with this bit mask (memoised)."""
        cached = self._cache.get(mask)
        if cached is not None:
            return cached
        coalition = self.coalition(mask)
        self.calls += 1
        if self._mapping is not None:
            if coalition not in self._mapping:
                raise GameError(f"the characteristic function has no value for coalition {self.describe(coalition)}")
            raw = self._mapping[coalition]
        else:
            assert self._function is not None
            raw = self._function(coalition)
        value = self._finite(raw, coalition)
        self._cache[mask] = value
        return value

    def value(self, coalition: Iterable[Any]) -> float:
        """v(coalition) for any iterable of players."""
        return self.value_of_mask(self.mask(coalition))

    __call__ = value

    def grand(self) -> float:
        """v(N)."""
        return self.value_of_mask((1 << self.n) - 1)

    def singles(self) -> np.ndarray:
        """The stand-alone values v({i}) in player order."""
        return np.array([self.value_of_mask(1 << i) for i in range(self.n)])

    def all_values(self, limit: int, what: str) -> np.ndarray:
        """v of every coalition, indexed by bit mask (raises beyond ``limit`` players)."""
        if self.n > limit:
            raise GameError(
                f"{what} enumerates all 2^n coalitions and is limited to {limit} players; this game has {self.n}"
            )
        return np.array([self.value_of_mask(m) for m in range(1 << self.n)])

    def allocation(self, x: Iterable[float]) -> Allocation:
        """``{player: float}`` from a vector in player order."""
        return {p: float(xi) + 0.0 for p, xi in zip(self.players, x, strict=True)}  # + 0.0: no -0.0

    def vector(self, allocation: Mapping[Any, float]) -> np.ndarray:
        """An allocation as a vector in player order; every player, and only players, must appear."""
        missing = [p for p in self.players if p not in allocation]
        extra = [p for p in allocation if p not in self._index]
        if missing or extra:
            raise GameError(f"the allocation must name every player exactly: missing {missing!r}, unknown {extra!r}")
        x = np.array([float(allocation[p]) for p in self.players])
        if not np.all(np.isfinite(x)):
            raise GameError("the allocation has non-finite values")
        return x


def _incidence(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit masks 1 .. 2^n - 2 of the proper non-empty coalitions and their 0/1 incidence matrix."""
    masks = np.arange(1, (1 << n) - 1)
    return masks, ((masks[:, None] >> np.arange(n)) & 1).astype(float)


def _scale(values: np.ndarray) -> float:
    top = float(np.max(np.abs(values))) if values.size else 0.0
    return top if top > 0.0 else 1.0


def _solve(what: str, c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, bounds: list[Any], **eq: Any) -> Any:
    """HiGHS on ``min c x s.t. a_ub x <= b_ub`` (plus ``A_eq``/``b_eq`` in ``eq``) with a clear error on failure."""
    res = linprog(c, A_ub=sparse.csr_array(a_ub), b_ub=b_ub, bounds=bounds, method="highs", **eq)
    if res.status != 0:
        raise GameError(f"{what}: the LP failed ({res.message})")
    return res


# --------------------------------------------------------------------------- Shapley


def shapley(
    players: Sequence[Player], v: CharacteristicFunction, *, samples: int | None = None, seed: int = 0
) -> Allocation:
    """The Shapley value.

    With ``samples=None`` it is exact: phi_i = sum over S not containing i of
    |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)), which needs all 2^n coalitions and
    is limited to n <= ``MAX_EXACT_SHAPLEY_PLAYERS``; the values sum to v(N).
    With ``samples=K`` it is the Monte Carlo estimate of :func:`shapley_sampled`
    (use that function to also get standard errors).

    Args:
        players: Distinct player ids.
        v: Characteristic function (mapping or callable).
        samples: Number of random permutations, or None for the exact value.
        seed: Seed of ``numpy.random.default_rng`` (sampling only).

    Returns:
        ``{player: Shapley value}``.

    Raises:
        GameError: (a ValueError) for n > 12 without ``samples`` or a malformed game.
    """
    if samples is not None:
        return shapley_sampled(players, v, samples, seed).values
    game = TUGame(players, v)
    n = game.n
    if n > MAX_EXACT_SHAPLEY_PLAYERS:
        raise GameError(
            f"exact Shapley values are limited to {MAX_EXACT_SHAPLEY_PLAYERS} players (this game has {n}); "
            "pass samples=K for a Monte Carlo estimate"
        )
    vals = game.all_values(MAX_EXACT_SHAPLEY_PLAYERS, "the exact Shapley value")
    masks = np.arange(1 << n)
    sizes = np.array([bin(m).count("1") for m in range(1 << n)])
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    phi = np.empty(n)
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        phi[i] = float(np.sum(weight[sizes[without]] * (vals[without | (1 << i)] - vals[without])))
    return game.allocation(phi)


def shapley_sampled(
    players: Sequence[Player], v: CharacteristicFunction, samples: int, seed: int = 0
) -> ShapleyEstimate:
    """Monte Carlo Shapley value by uniform random permutations (Castro, Gomez & Tejada 2009).

    Each of the ``samples`` permutations credits every player with its marginal
    contribution when joining its predecessors; the estimate is the mean and the
    standard error is the sample standard deviation (ddof=1) over sqrt(samples).
    Each permutation's contributions sum to v(N), so the estimate is exactly
    efficient. Only the prefix coalitions met are evaluated (memoised), so any n works.

    Args:
        players: Distinct player ids.
        v: Characteristic function (mapping or callable).
        samples: Number of permutations (at least 2).
        seed: Seed of ``numpy.random.default_rng``.

    Returns:
        ``ShapleyEstimate(values, std_errors, samples)``.
    """
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 2:
        raise GameError(f"samples must be an integer >= 2, got {samples!r}")
    game = TUGame(players, v)
    n = game.n
    rng = np.random.default_rng(seed)
    marginals = np.empty((int(samples), n))
    for k in range(int(samples)):
        mask, before = 0, 0.0
        for i in rng.permutation(n):
            mask |= 1 << int(i)
            after = game.value_of_mask(mask)
            marginals[k, i] = after - before
            before = after
    values = marginals.mean(axis=0)
    errors = marginals.std(axis=0, ddof=1) / math.sqrt(samples)
    return ShapleyEstimate(game.allocation(values), game.allocation(errors), int(samples))


# --------------------------------------------------------------------------- nucleolus and least core


def _lexicographic_centre(game: TUGame, imputations: bool, what: str) -> tuple[np.ndarray, float]:
    """Maximise the sorted excess vector lexicographically by sequential LPs.

    Stage k solves max t s.t. x(S) - v(S) >= t for every free coalition S,
    x(S) - v(S) = t_j for the coalitions fixed at earlier stages j, x(N) = v(N)
    (and x_i >= v({i}) when ``imputations``). A free coalition whose LP dual is
    positive is tight in every optimum (complementary slackness), so it is fixed
    at t_k; coalitions whose incidence vector lies in the span of the fixed ones
    have a constant excess and leave the free set. Each stage fixes at least one
    coalition (the duals of the free rows sum to 1) and the procedure ends when
    the fixed coalitions span R^n, which pins x down.

    Returns:
        The allocation vector (player order) and t_1 (the first-stage value, i.e.
        minus the least-core epsilon when ``imputations`` is False).
    """
    n = game.n
    vals = game.all_values(MAX_ENUMERATION_PLAYERS, what)
    if n == 1:
        return np.array([vals[1]]), 0.0
    scale = _scale(vals)
    masks, incidence = _incidence(n)
    b = vals[masks] / scale
    singles = vals[[1 << i for i in range(n)]] / scale
    basis = [np.ones(n)]
    rhs = [vals[-1] / scale]
    free = np.ones(len(masks), dtype=bool)
    bounds: list[tuple[float | None, float | None]] = [
        ((float(s), None) if imputations else (None, None)) for s in singles
    ]
    bounds.append((None, None))  # t
    c = np.zeros(n + 1)
    c[-1] = -1.0
    first_t: float | None = None
    while len(basis) < n:
        idx = np.flatnonzero(free)
        a_ub = np.hstack([-incidence[idx], np.ones((len(idx), 1))])
        a_eq = np.hstack([np.array(basis), np.zeros((len(basis), 1))])
        res = _solve(what, c, a_ub, -b[idx], bounds, A_eq=a_eq, b_eq=np.array(rhs))
        t = float(res.x[-1])
        if first_t is None:
            first_t = t
        duals = -np.asarray(res.ineqlin.marginals)
        slack = np.asarray(res.ineqlin.residual)
        tight = idx[(duals > _DUAL_TOL) & (slack < _SLACK_TOL)]
        if tight.size == 0:  # cannot happen in exact arithmetic; fall back on the most binding row
            tight = idx[[int(np.argmax(duals))]]
        q = np.linalg.qr(np.array(basis).T)[0]
        rows = incidence[tight]
        while True:  # add the tight rows that enlarge the span, most independent first
            residual = np.linalg.norm(rows - (rows @ q) @ q.T, axis=1)
            best = int(np.argmax(residual))
            if residual[best] <= _SPAN_TOL:
                break
            basis.append(rows[best])
            rhs.append(b[tight[best]] + t)
            q = np.linalg.qr(np.array(basis).T)[0]
        remaining = np.flatnonzero(free)
        rows = incidence[remaining]
        in_span = np.linalg.norm(rows - (rows @ q) @ q.T, axis=1) <= _SPAN_TOL
        free[remaining[in_span]] = False
    x = np.linalg.solve(np.array(basis), np.array(rhs))
    return x * scale, (first_t if first_t is not None else 0.0) * scale


def nucleolus(players: Sequence[Player], v: CharacteristicFunction) -> Allocation:
    """The nucleolus (Schmeidler 1969) over the imputation set.

    The unique imputation (x(N) = v(N), x_i >= v({i})) that lexicographically
    maximises the vector of excesses e(S, x) = x(S) - v(S) sorted from smallest,
    computed by the Maschler-Peleg-Shapley / Kohlberg sequence of LPs (see
    ``_lexicographic_centre``). It lies in the core whenever the core is non-empty.
    Exact up to LP tolerances; enumerates all 2^n - 2 proper coalitions, so
    n <= ``MAX_ENUMERATION_PLAYERS`` (15).

    Args:
        players: Distinct player ids.
        v: Characteristic function (mapping or callable).

    Returns:
        ``{player: nucleolus payoff}``.

    Raises:
        GameError: (a ValueError) if n > 15 or the imputation set is empty
            (sum of v({i}) > v(N)).
    """
    game = TUGame(players, v)
    if game.n > MAX_ENUMERATION_PLAYERS:
        raise GameError(f"the nucleolus is limited to {MAX_ENUMERATION_PLAYERS} players; this game has {game.n}")
    singles, total = game.singles(), game.grand()
    if float(np.sum(singles)) > total + 1e-9 * max(1.0, abs(total), float(np.sum(np.abs(singles)))):
        raise GameError(
            f"the imputation set is empty: the stand-alone values sum to {float(np.sum(singles)):g} > v(N) = {total:g}, "
            "so no allocation is both efficient and individually rational"
        )
    x, _ = _lexicographic_centre(game, imputations=True, what="the nucleolus")
    return game.allocation(x)


def least_core(players: Sequence[Player], v: CharacteristicFunction) -> LeastCore:
    """The least core (Maschler, Peleg & Shapley 1979) and a deterministic point of it.

    epsilon = min e such that some x with x(N) = v(N) has x(S) >= v(S) - e for every
    proper non-empty S. epsilon <= 0 iff the core is non-empty (negative: the core
    has room to spare). The allocation returned is the prenucleolus: the unique
    point of the least core that then maximises the sorted excesses
    lexicographically (no individual-rationality bounds; it equals the nucleolus
    whenever the core is non-empty). For one player there is no proper coalition:
    epsilon is reported as 0.0 and the allocation is v(N).
    n <= ``MAX_ENUMERATION_PLAYERS`` (15).

    Args:
        players: Distinct player ids.
        v: Characteristic function (mapping or callable).

    Returns:
        ``LeastCore(allocation, epsilon)``.
    """
    game = TUGame(players, v)
    x, t = _lexicographic_centre(game, imputations=False, what="the least core")
    return LeastCore(game.allocation(x), -t)


def core_is_empty(players: Sequence[Player], v: CharacteristicFunction, tol: float = 1e-9) -> bool:
    """Whether the core is empty, i.e. the least-core epsilon exceeds ``tol`` (n <= 15).

    ``tol`` is relative to the largest |v(S)| (absolute when all values are within 1).
    """
    game = TUGame(players, v)
    vals = game.all_values(MAX_ENUMERATION_PLAYERS, "the core test")
    if game.n == 1:
        return False
    scale = _scale(vals)
    masks, incidence = _incidence(game.n)
    c = np.zeros(game.n + 1)
    c[-1] = 1.0  # minimise epsilon
    a_ub = np.hstack([-incidence, -np.ones((len(masks), 1))])  # -x(S) - e <= -v(S)
    a_eq = np.append(np.ones(game.n), 0.0)[None, :]
    b_eq = np.array([vals[-1] / scale])
    res = _solve("the core test", c, a_ub, -vals[masks] / scale, [(None, None)] * (game.n + 1), A_eq=a_eq, b_eq=b_eq)
    return bool(res.fun > tol)


def least_subsidy_for_core(players: Sequence[Player], v: CharacteristicFunction) -> float:
    """The smallest amount that, added to v(N), makes the core non-empty (n <= 15).

    Solves min x(N) s.t. x(S) >= v(S) for every proper non-empty S; the subsidy is
    max(0, min - v(N)) (Bondareva-Shapley: the gap of the best balanced cover).
    Values within 1e-9 of the largest |v(S)| are reported as 0.
    """
    game = TUGame(players, v)
    vals = game.all_values(MAX_ENUMERATION_PLAYERS, "the least subsidy for the core")
    if game.n == 1:
        return 0.0
    scale = _scale(vals)
    masks, incidence = _incidence(game.n)
    what = "the least subsidy for the core"
    res = _solve(what, np.ones(game.n), -incidence, -vals[masks] / scale, [(None, None)] * game.n)
    gap = float(res.fun) - vals[-1] / scale
    return float(gap * scale) if gap > 1e-9 else 0.0


# --------------------------------------------------------------------------- simple rules


def equal_split(players: Sequence[Player], v: CharacteristicFunction) -> Allocation:
    """Stand-alone value plus an equal share of the surplus: x_i = v({i}) + (v(N) - sum_j v({j})) / n.

    Only the singletons and N are evaluated. With v({i}) = 0 this is v(N) / n each.
    """
    game = TUGame(players, v)
    singles = game.singles()
    return game.allocation(singles + (game.grand() - float(np.sum(singles))) / game.n)


def proportional(
    players: Sequence[Player], v: CharacteristicFunction, weights: Mapping[Any, float] | None = None
) -> Allocation:
    """Stand-alone value plus the surplus split in proportion to weights.

    x_i = v({i}) + w_i / sum_j w_j * (v(N) - sum_j v({j})). By default the weights
    are the stand-alone values v({i}) when all are strictly positive (then
    x_i = v({i}) * v(N) / sum_j v({j})), and equal otherwise (= :func:`equal_split`,
    e.g. when v({i}) = 0 as for gains over a baseline). Given weights must name
    every player, be finite and non-negative, and have a positive sum.
    """
    game = TUGame(players, v)
    singles = game.singles()
    if weights is None:
        w = singles.copy() if np.all(singles > 0) else np.ones(game.n)
    else:
        try:
            w = game.vector(weights)
        except GameError as exc:
            raise GameError(f"weights: {exc}") from exc
        if np.any(w < 0) or float(np.sum(w)) <= 0:
            raise GameError("weights must be non-negative with a positive sum")
    surplus = game.grand() - float(np.sum(singles))
    return game.allocation(singles + w / float(np.sum(w)) * surplus)


# --------------------------------------------------------------------------- checks


def core_violations(
    players: Sequence[Player], v: CharacteristicFunction, allocation: Mapping[Any, float], tol: float = 1e-9
) -> list[tuple[frozenset[Any], float]]:
    """Coalitions that block ``allocation``, with their shortfall v(S) - x(S), largest first.

    A proper coalition S is listed when v(S) - x(S) > tol (largest shortfall first,
    ties in bit-mask order). If efficiency fails, |v(N) - x(N)| > tol, the grand
    coalition comes first; its "shortfall" is negative when the allocation hands out
    more than v(N). n <= 15.
    """
    game = TUGame(players, v)
    x = game.vector(allocation)
    vals = game.all_values(MAX_ENUMERATION_PLAYERS, "the core test")
    masks, incidence = _incidence(game.n)
    shortfalls = vals[masks] - incidence @ x
    order = sorted((-s, m) for m, s in zip(masks.tolist(), shortfalls.tolist(), strict=True) if s > tol)
    found = [(game.coalition(m), -s) for s, m in order]
    gap = float(vals[-1] - np.sum(x))
    return [(game.coalition(len(vals) - 1), gap), *found] if abs(gap) > tol else found


def in_core(
    players: Sequence[Player], v: CharacteristicFunction, allocation: Mapping[Any, float], tol: float = 1e-9
) -> bool:
    """Whether ``allocation`` is efficient and no coalition gets less than v(S) (within ``tol``). n <= 15."""
    return not core_violations(players, v, allocation, tol)


def individually_rational(
    players: Sequence[Player], v: CharacteristicFunction, allocation: Mapping[Any, float], tol: float = 1e-9
) -> bool:
    """Whether every player gets at least its stand-alone value: x_i >= v({i}) - tol (only singletons are evaluated)."""
    game = TUGame(players, v)
    return bool(np.all(game.vector(allocation) >= game.singles() - tol))
