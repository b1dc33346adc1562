"""ABC-SMC, one generation at a time (Toni et al. 2009; Beaumont et al. 2009), as pure numpy.

Particles live in the priors' latent space, where every prior is a uniform
box (``priors.Prior.latent_bounds``), so the prior density is constant
inside the box and zero outside.

* Generation 0: ``n`` particles from the prior; epsilon_0 is the ``quantile``
  (default 0.5) of their finite distances; particles with a distance <=
  epsilon_0 are accepted, with equal weights.
* Generation t > 0: ``n`` proposals, each a particle of generation t - 1 drawn
  by weight and moved by a Gaussian kernel with twice the population's
  weighted covariance (Beaumont et al. 2009; Filippi et al. 2013), redrawn
  while outside the prior box; epsilon_t is the ``quantile`` of generation
  t - 1's accepted distances; proposals with a distance <= epsilon_t are
  accepted with importance weights
  ``w_i = prior(theta_i) / sum_j w_j K(theta_i | theta_j)`` (normalised).
* Every generation is a fixed batch of ``n`` runs (the budget ``--samples`` is
  split over the generations), evaluated together; when fewer than
  ``min_accepted`` proposals reach epsilon_t, epsilon_t is raised to the
  ``min_accepted``-th smallest distance of the batch (recorded), so a
  population never collapses. A failed run has distance infinity and is
  never accepted.

Determinism: every draw comes from a ``numpy.random.Generator`` the caller
seeds (``run.py``: one per generation from the root seed) and the batch's
distances are used in particle order, so the result does not depend on how
or where the runs were computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symbiosim.calibrate.priors import Prior

MAX_TRIES = 1000  # proposal rounds before falling back to the prior (a kernel far wider than the box)


@dataclass(frozen=True)
class Population:
    """The accepted particles of one generation: latent coordinates, weights (sum 1), distances."""

    theta: np.ndarray  # (n, d)
    weights: np.ndarray  # (n,)
    distances: np.ndarray  # (n,)
    epsilon: float

    @property
    def ess(self) -> float:
        """Effective sample size 1 / sum w^2."""
        return float(1.0 / np.sum(self.weights**2)) if len(self.weights) else 0.0


def bounds(priors: list[Prior]) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = zip(*(p.latent_bounds for p in priors), strict=True)
    return np.array(lo, dtype=float), np.array(hi, dtype=float)


def from_prior(priors: list[Prior], n: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = bounds(priors)
    return lo + (hi - lo) * rng.random((n, len(priors)))


def values(priors: list[Prior], theta: np.ndarray) -> np.ndarray:
    """The rules' values (integer rules rounded, log-uniform ones exponentiated) of latent particles."""
    return np.column_stack([p.value(theta[:, j]) for j, p in enumerate(priors)]) if len(theta) else np.empty((0, len(priors)))


def kernel_cov(pop: Population, priors: list[Prior]) -> np.ndarray:
    """Twice the weighted covariance, with a floor of (1e-3 x the box width)^2 per axis (a collapsed population)."""
    lo, hi = bounds(priors)
    d = len(priors)
    if len(pop.theta) > 1:
        cov = np.atleast_2d(np.cov(pop.theta, rowvar=False, aweights=pop.weights))
    else:
        cov = np.zeros((d, d))
    cov = 2.0 * cov + np.diag((1e-3 * (hi - lo)) ** 2)
    return cov


def propose(pop: Population, priors: list[Prior], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` perturbed particles inside the prior box, and the kernel covariance used."""
    lo, hi = bounds(priors)
    cov = kernel_cov(pop, priors)
    chol = np.linalg.cholesky(cov)
    out: list[np.ndarray] = []
    got = 0
    for _ in range(MAX_TRIES):
        idx = rng.choice(len(pop.weights), size=n, p=pop.weights)
        moved = pop.theta[idx] + rng.standard_normal((n, len(priors))) @ chol.T
        inside = moved[np.all((moved >= lo) & (moved < hi), axis=1)]
        out.append(inside[: n - got])
        got += len(out[-1])
        if got >= n:
            break
    else:  # pragma: no cover - only with a kernel far wider than the box
        out.append(from_prior(priors, n - got, rng))
    return np.vstack(out), cov


def importance_weights(theta: np.ndarray, pop: Population, cov: np.ndarray) -> np.ndarray:
    """``1 / sum_j w_j K(theta_i | theta_j)`` normalised (the prior is constant inside the box)."""
    if len(theta) == 0:
        return np.empty(0)
    inv = np.linalg.inv(cov)
    diff = theta[:, None, :] - pop.theta[None, :, :]
    log_k = -0.5 * np.einsum("ijk,kl,ijl->ij", diff, inv, diff)  # constants cancel in the normalisation
    log_mix = np.log(np.maximum(pop.weights, 1e-300))[None, :] + log_k
    top = log_mix.max(axis=1, keepdims=True)
    log_den = top[:, 0] + np.log(np.exp(log_mix - top).sum(axis=1))
    log_w = -log_den
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def threshold(distances: np.ndarray, previous: Population | None, quantile: float, min_accepted: int) -> float:
    """epsilon of a generation (see the module docstring)."""
    finite = np.sort(distances[np.isfinite(distances)])
    if len(finite) == 0:
        return math.inf
    base = previous.distances if previous is not None else finite
    eps = float(np.quantile(base, quantile)) if len(base) else float(finite[-1])
    k = min(min_accepted, len(finite))
    return max(eps, float(finite[k - 1]))


def accept(theta: np.ndarray, distances: np.ndarray, previous: Population | None, cov: np.ndarray | None,
           quantile: float, min_accepted: int) -> Population:
    """The accepted population of a generation's batch (``cov``: the kernel of the proposals; None in generation 0)."""
    eps = threshold(distances, previous, quantile, min_accepted)
    keep = np.isfinite(distances) & (distances <= eps)
    kept = theta[keep]
    if previous is None or cov is None:
        weights = np.full(len(kept), 1.0 / max(len(kept), 1))
    else:
        weights = importance_weights(kept, previous, cov)
    return Population(kept, weights, distances[keep], eps)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``x`` weighted by ``w`` (inverse of the weighted CDF, midpoint rule)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order] / w.sum()
    cdf = np.cumsum(ws) - 0.5 * ws
    return float(np.interp(q, cdf, xs))
