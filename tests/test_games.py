"""Cooperative-game solutions against textbook games with known answers, plus properties.

Sources: Maschler, Solan & Zamir (2013) "Game Theory" (MSZ), ch. 17-20; Peleg & Sudhölter
(2007) "Introduction to the Theory of Cooperative Games"; Osborne & Rubinstein (1994)
"A Course in Game Theory", ch. 13-14; Aumann & Maschler (1985) "Game theoretic analysis
of a bankruptcy problem from the Talmud"; Littlechild & Owen (1973) "A simple expression
for the Shapley value in a special case".
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbiosim.compare.games import (
    GameError,
    TUGame,
    core_is_empty,
    core_violations,
    equal_split,
    in_core,
    individually_rational,
    least_core,
    least_subsidy_for_core,
    nucleolus,
    proportional,
    shapley,
    shapley_sampled,
)

F = frozenset


def table(players, fn):
    """The game as a dict over every non-empty coalition."""
    return {F(c): float(fn(F(c))) for r in range(1, len(players) + 1) for c in itertools.combinations(players, r)}


def approx(allocation, expected, tol=1e-6):
    assert allocation.keys() == expected.keys()
    for p, value in expected.items():
        assert allocation[p] == pytest.approx(value, abs=tol), (p, allocation, expected)


def bankruptcy(estate, claims):
    """O'Neill (1982) bankruptcy game: v(S) = max(0, E - claims of the others)."""
    players = list(range(len(claims)))
    return players, table(players, lambda s: max(0.0, estate - sum(c for i, c in enumerate(claims) if i not in s)))


def talmud(estate, claims):
    """Aumann & Maschler (1985) Talmud rule: constrained equal awards of half-claims when E <= sum/2,
    else each gets its claim minus the constrained equal award of the half-claim losses."""
    half = np.asarray(claims, dtype=float) / 2
    total = float(np.sum(claims))

    def cea(amount):
        lo, hi = 0.0, float(half.max())
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.minimum(half, mid).sum() < amount else (lo, mid)
        return np.minimum(half, hi)

    if estate <= total / 2:
        return cea(estate)
    return np.asarray(claims, dtype=float) - cea(total - estate)


MAJORITY = table([1, 2, 3], lambda s: 1.0 if len(s) >= 2 else 0.0)
GLOVE_PLAYERS = ["L", "R1", "R2"]
GLOVE = table(GLOVE_PLAYERS, lambda s: min(len(s & {"L"}), len(s - {"L"})))


# --------------------------------------------------------------------------- textbook games


@pytest.mark.parametrize(
    ("estate", "expected"),
    [(100, (100 / 3, 100 / 3, 100 / 3)), (200, (50, 75, 75)), (300, (50, 100, 150))],
)
def test_talmud_bankruptcy_nucleolus(estate, expected):
    """Aumann & Maschler (1985): the Mishna's division of an estate of 100/200/300 among claims
    100, 200, 300 is the nucleolus of the bankruptcy game. For E = 200: v(23) = 100, v(N) = 200,
    all else 0; stage 1 maximises min(x1, x2, x3, x1+x2, x1+x3, x2+x3-100) -> x1 = 50 (t = 50),
    stage 2 maximises min(x2, x3) with x2 + x3 = 150 -> (50, 75, 75)."""
    players, v = bankruptcy(estate, [100, 200, 300])
    want = dict(zip(players, expected, strict=True))
    approx(nucleolus(players, v), want)
    approx(least_core(players, v).allocation, want)  # convex game: prenucleolus = nucleolus


def test_talmud_nucleolus_differs_from_shapley():
    """E = 200: Shapley phi_1 = 1/3 * (v(N) - v(23)) = 100/3 and phi_2 = phi_3 = (200 - 100/3)/2,
    which is not the nucleolus (50, 75, 75)."""
    players, v = bankruptcy(200, [100, 200, 300])
    approx(shapley(players, v), {0: 100 / 3, 1: 250 / 3, 2: 250 / 3})


def test_majority_game():
    """3-player majority game (MSZ ch. 17; O&R ex. 259.3): v(S) = 1 iff |S| >= 2. The core is empty:
    x_i + x_j >= 1 - e for all pairs with sum 1 gives x_k <= e, so e >= 1/3; the least core is the
    single point (1/3, 1/3, 1/3), which is also the nucleolus and the Shapley value.
    min x(N) s.t. all pairs >= 1 is 3/2 (sum the three pair constraints), so the subsidy is 1/2."""
    third = {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}
    approx(nucleolus([1, 2, 3], MAJORITY), third)
    approx(shapley([1, 2, 3], MAJORITY), third)
    lc = least_core([1, 2, 3], MAJORITY)
    assert lc.epsilon == pytest.approx(1 / 3)
    approx(lc.allocation, third)
    assert core_is_empty([1, 2, 3], MAJORITY)
    assert least_subsidy_for_core([1, 2, 3], MAJORITY) == pytest.approx(0.5)
    # with the subsidy the core is the single point (1/2, 1/2, 1/2)
    subsidised = {**MAJORITY, F({1, 2, 3}): 1.5}
    assert not core_is_empty([1, 2, 3], subsidised)
    assert in_core([1, 2, 3], subsidised, {1: 0.5, 2: 0.5, 3: 0.5})


def test_glove_game():
    """Glove game (MSZ ch. 17; O&R ex. 260.1) with one left and two right gloves: v(S) = pairs in S.
    The core is {(1, 0, 0)} (x_L + x_Ri >= 1 for both i with sum 1 forces x_R1 = x_R2 = 0), so the
    nucleolus is (1, 0, 0); Shapley gives L 1/3 * 0 + 2/3 * 1 = 2/3 (L is pivotal unless first)."""
    approx(nucleolus(GLOVE_PLAYERS, GLOVE), {"L": 1, "R1": 0, "R2": 0})
    approx(shapley(GLOVE_PLAYERS, GLOVE), {"L": 2 / 3, "R1": 1 / 6, "R2": 1 / 6})
    lc = least_core(GLOVE_PLAYERS, GLOVE)
    assert lc.epsilon == pytest.approx(0.0, abs=1e-9)
    assert not core_is_empty(GLOVE_PLAYERS, GLOVE)
    assert least_subsidy_for_core(GLOVE_PLAYERS, GLOVE) == 0.0
    assert in_core(GLOVE_PLAYERS, GLOVE, {"L": 1, "R1": 0, "R2": 0})
    assert not in_core(GLOVE_PLAYERS, GLOVE, shapley(GLOVE_PLAYERS, GLOVE))


def test_airport_game():
    """Airport game (Littlechild & Owen 1973): c(S) = largest runway cost in S. Shapley shares each
    increment of runway equally among the players that need it: costs 3, 5, 8 ->
    (3/3, 3/3 + 2/2, 3/3 + 2/2 + 3/1) = (1, 2, 5). On the savings game v(S) = sum c_i - c(S)
    Shapley is c_i minus that: (2, 3, 3)."""
    cost = {"a": 3.0, "b": 5.0, "c": 8.0}
    players = list(cost)
    approx(shapley(players, lambda s: max(cost[p] for p in s)), {"a": 1, "b": 2, "c": 5})
    approx(shapley(players, lambda s: sum(cost[p] for p in s) - max(cost[p] for p in s)), {"a": 2, "b": 3, "c": 3})


@pytest.mark.parametrize(("v1", "v2", "v12"), [(0, 0, 10), (2, 5, 13), (-4, 1, -1), (-3, -2, -8)])
def test_two_player_games_agree(v1, v2, v12):
    """2 players (MSZ ch. 18-20): Shapley, nucleolus, least core and equal split all give each player
    its stand-alone value plus half the surplus v(12) - v(1) - v(2) (negative values included)."""
    v = {F({1}): v1, F({2}): v2, F({1, 2}): v12}
    surplus = (v12 - v1 - v2) / 2
    want = {1: v1 + surplus, 2: v2 + surplus}
    approx(shapley([1, 2], v), want)
    approx(equal_split([1, 2], v), want)
    approx(least_core([1, 2], v).allocation, want)
    if surplus >= 0:
        approx(nucleolus([1, 2], v), want)
    else:
        with pytest.raises(ValueError, match="imputation set is empty"):
            nucleolus([1, 2], v)


def test_one_player():
    assert shapley(["a"], {F({"a"}): 3.0}) == {"a": 3.0}
    assert nucleolus(["a"], {F({"a"}): 3.0}) == {"a": 3.0}
    assert least_core(["a"], {F({"a"}): 3.0}) == ({"a": 3.0}, 0.0)
    assert not core_is_empty(["a"], {F({"a"}): 3.0})


def test_simple_rules():
    """Equal split of the surplus over stand-alone values; proportional split by weights."""
    v = {F({1}): 1.0, F({2}): 3.0, F({1, 2}): 8.0}
    assert equal_split([1, 2], v) == {1: 3.0, 2: 5.0}
    assert proportional([1, 2], v) == {1: 2.0, 2: 6.0}  # weights = stand-alone values: 1 + 4/4, 3 + 4*3/4
    assert proportional([1, 2], v, weights={1: 3, 2: 1}) == {1: 4.0, 2: 4.0}
    zero = {F({1}): 0.0, F({2}): 0.0, F({1, 2}): 8.0}
    assert proportional([1, 2], zero) == equal_split([1, 2], zero) == {1: 4.0, 2: 4.0}
    with pytest.raises(ValueError, match="weights"):
        proportional([1, 2], v, weights={1: 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        proportional([1, 2], v, weights={1: -1.0, 2: 2.0})


def test_core_checks():
    """Majority game at (1/3, 1/3, 1/3): every pair falls 1/3 short. Glove game: (1/2, 1/4, 1/4) is
    blocked by {L, R1} and {L, R2} by 1/4 each."""
    third = {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}
    found = core_violations([1, 2, 3], MAJORITY, third)
    assert {c for c, _ in found} == {F({1, 2}), F({1, 3}), F({2, 3})}
    assert all(s == pytest.approx(1 / 3) for _, s in found)
    assert individually_rational([1, 2, 3], MAJORITY, third)
    assert not individually_rational([1, 2, 3], MAJORITY, {1: -0.1, 2: 0.6, 3: 0.5})
    found = core_violations(GLOVE_PLAYERS, GLOVE, {"L": 0.5, "R1": 0.25, "R2": 0.25})
    assert found == [(F({"L", "R1"}), pytest.approx(0.25)), (F({"L", "R2"}), pytest.approx(0.25))]
    # inefficient allocations are reported through the grand coalition
    over = core_violations(GLOVE_PLAYERS, GLOVE, {"L": 2.0, "R1": 0.0, "R2": 0.0})
    assert over == [(F(GLOVE_PLAYERS), pytest.approx(-1.0))]
    assert not in_core(GLOVE_PLAYERS, GLOVE, {"L": 0.9, "R1": 0.0, "R2": 0.0})
    with pytest.raises(ValueError, match="every player"):
        in_core(GLOVE_PLAYERS, GLOVE, {"L": 1.0})


# --------------------------------------------------------------------------- API behaviour


def test_shapley_sampling_converges():
    """6 players: the Monte Carlo estimate is within 3 standard errors of the exact value and,
    like every permutation's marginals, sums to v(N)."""
    w = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 0.2])
    players = list(range(6))

    def v(s):
        return float(w[list(s)].sum() ** 1.5 - (2.0 if 0 in s and 3 in s else 0.0))

    exact = shapley(players, v)
    est = shapley_sampled(players, v, samples=3000, seed=7)
    values, errors = est.values, est.std_errors
    for p in players:
        assert 0 < errors[p] < 0.2
        assert abs(values[p] - exact[p]) <= 3 * errors[p]
    assert sum(values.values()) == pytest.approx(v(F(players)))
    assert shapley(players, v, samples=3000, seed=7) == values
    assert shapley_sampled(players, v, 50, seed=1) == shapley_sampled(players, v, 50, seed=1)


def test_callable_is_memoised():
    calls: Counter = Counter()

    def v(s):
        calls[s] += 1
        return float(len(s) ** 2)

    players = list("abcd")
    shapley(players, v)
    assert len(calls) == 15 and set(calls.values()) == {1}  # 2^4 - 1 coalitions, never the empty one
    calls.clear()
    shapley_sampled(players, v, samples=200)
    assert set(calls.values()) == {1}
    calls.clear()
    game = TUGame(players, v)  # shares one cache across calls
    shapley(players, game)
    nucleolus(players, game)
    least_core(players, game)
    in_core(players, game, equal_split(players, game))
    assert len(calls) == 15 and set(calls.values()) == {1} and game.calls == 15


def test_errors_are_clear():
    v = {F({1}): 0.0, F({2}): 0.0, F({1, 2}): 1.0}  # no {3}, {1,3}, ...
    with pytest.raises(ValueError, match=r"no value for coalition \{3\}"):
        shapley([1, 2, 3], v)
    with pytest.raises(GameError, match=r"unknown players"):
        shapley([1, 2], {**v, F({1, 9}): 1.0})
    with pytest.raises(ValueError, match="distinct"):
        shapley([1, 1], v)
    with pytest.raises(ValueError, match="not finite"):
        shapley([1, 2], {**v, F({1, 2}): float("nan")})
    with pytest.raises(ValueError, match="must be 0"):
        shapley([1, 2], {**v, F(): 1.0})
    with pytest.raises(ValueError, match="imputation set is empty"):
        nucleolus([1, 2], {F({1}): 1.0, F({2}): 1.0, F({1, 2}): 1.5})
    players = list(range(13))
    with pytest.raises(ValueError, match="samples"):
        shapley(players, len)
    assert sum(shapley(players, len, samples=20).values()) == pytest.approx(13)
    with pytest.raises(ValueError, match="limited to 15 players"):
        nucleolus(list(range(16)), len)
    with pytest.raises(ValueError, match="samples must be"):
        shapley_sampled([1, 2], v, samples=1)


# --------------------------------------------------------------------------- properties


def excesses(players, v, x):
    """Sorted excesses x(S) - v(S) over the proper non-empty coalitions."""
    return sorted(
        sum(x[p] for p in s) - v[F(s)] for r in range(1, len(players)) for s in itertools.combinations(players, r)
    )


def lex_at_least(a, b, tol=1e-6):
    for ai, bi in zip(a, b, strict=True):
        if abs(ai - bi) > tol:
            return ai > bi
    return True


@st.composite
def convex_games(draw):
    """v(S) = sum_k a_k (w_k(S))^2 + c(S) with a, w >= 0: a sum of a supermodular and an additive game."""
    n = draw(st.integers(2, 5))
    k = draw(st.integers(1, 2))
    floats = st.floats(0, 5, allow_nan=False)
    a = draw(st.lists(floats, min_size=k, max_size=k))
    w = [draw(st.lists(floats, min_size=n, max_size=n)) for _ in range(k)]
    c = draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n))
    players = list(range(n))
    return players, table(
        players, lambda s: sum(a[j] * sum(w[j][i] for i in s) ** 2 for j in range(k)) + sum(c[i] for i in s)
    )


@st.composite
def superadditive_games(draw):
    """Random integer values made superadditive bottom-up: v(S) >= v(A) + v(S - A)."""
    n = draw(st.integers(3, 5))
    raw = draw(st.lists(st.integers(-5, 10), min_size=2**n, max_size=2**n))
    vals = [0.0] * 2**n
    for m in sorted(range(1, 2**n), key=lambda m: bin(m).count("1")):
        vals[m] = float(raw[m])
        sub = (m - 1) & m
        while sub:
            vals[m] = max(vals[m], vals[sub] + vals[m ^ sub])
            sub = (sub - 1) & m
    players = list(range(n))
    return players, {F(i for i in players if m >> i & 1): vals[m] for m in range(1, 2**n)}


@settings(max_examples=25, deadline=None)
@given(
    st.integers(3, 5).flatmap(
        lambda n: st.tuples(st.lists(st.integers(1, 100), min_size=n, max_size=n), st.floats(0.02, 0.98))
    )
)
def test_bankruptcy_nucleolus_is_talmud_rule(problem):
    """Aumann & Maschler (1985), Theorem A: the nucleolus of a bankruptcy game is the Talmud rule."""
    claims, share = problem
    estate = share * sum(claims)
    players, v = bankruptcy(estate, claims)
    want = dict(zip(players, talmud(estate, claims), strict=True))
    approx(nucleolus(players, v), want, tol=1e-6 * sum(claims))


@settings(max_examples=25, deadline=None)
@given(convex_games())
def test_convex_games(game):
    """Convex games (Shapley 1971): the core is non-empty and contains the Shapley value; the
    nucleolus is in the core and equals the least-core point; everything is efficient."""
    players, v = game
    total = v[F(players)]
    tol = 1e-7 * max(1.0, max(abs(x) for x in v.values()))
    sh, nu, lc = shapley(players, v), nucleolus(players, v), least_core(players, v)
    for x in (sh, nu, lc.allocation, equal_split(players, v), proportional(players, v)):
        assert sum(x.values()) == pytest.approx(total, abs=tol)
    assert not core_is_empty(players, v)
    assert lc.epsilon <= tol
    assert least_subsidy_for_core(players, v) == 0.0
    assert in_core(players, v, sh, tol) and in_core(players, v, nu, tol)
    approx(lc.allocation, nu, tol=1e-5 * max(1.0, max(abs(x) for x in v.values())))


@settings(max_examples=30, deadline=None)
@given(superadditive_games(), st.integers(0, 2**32 - 1))
def test_superadditive_games(game, seed):
    """The nucleolus is an imputation whose sorted excesses beat any other imputation's
    lexicographically; it is in the core iff the core is non-empty; the least-core epsilon, the
    core test and the least subsidy agree on emptiness."""
    players, v = game
    nu = nucleolus(players, v)
    lc = least_core(players, v)
    tol = 1e-7
    assert sum(nu.values()) == pytest.approx(v[F(players)], abs=tol)
    assert individually_rational(players, v, nu, tol)
    empty = core_is_empty(players, v)
    assert empty == (lc.epsilon > tol) == (least_subsidy_for_core(players, v) > 0)
    assert in_core(players, v, nu, tol) == (not empty)
    if not empty:
        approx(lc.allocation, nu, tol=1e-5)
    # lexicographic optimality against other imputations (random points of the imputation set)
    rng = np.random.default_rng(seed)
    singles = np.array([v[F({p})] for p in players])
    surplus = v[F(players)] - singles.sum()
    best = excesses(players, v, nu)
    for _ in range(5):
        other = dict(zip(players, singles + rng.dirichlet(np.ones(len(players))) * surplus, strict=True))
        assert lex_at_least(best, excesses(players, v, other))
    assert lex_at_least(best, excesses(players, v, equal_split(players, v)))
