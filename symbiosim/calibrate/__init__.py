"""``symbiosim calibrate``: approximate Bayesian computation of the simulator's behaviour rules
against an observed history (issue 11, item 6).

* **Priors** (``priors.py``): a documented table for discovery_rate,
  transaction_cost_share, max_payback_years, hurdle_rate, bargaining_power
  and contract_years (only the rules ``behaviour.DEFAULTS`` has at run time),
  overridable by a YAML file or a dict.
* **Distance** (``distance.py``): observed exchanges that did not form (1
  each), year differences of those that did (/ horizon, capped at 1), exchanges
  formed that the history does not have (``new_weight`` each), ``absent`` rows
  that formed by ``until`` (1), entries like exchanges; existing links skipped.
* **ABC-SMC** (``smc.py``): population Monte Carlo with an adaptive epsilon
  (the median of the previous generation's accepted distances), a Gaussian
  kernel of twice the weighted covariance and importance weights.
* **Runs** (``run.py``): a budget of ``samples`` simulator runs split into
  default-rule runs, generations and posterior-predictive runs; every seed from
  the root seed; batches through ``symbiosim.parallel`` (process pool or
  Dask), so the posterior is the same for any ``jobs``; an optional DuckDB
  store for resume.

Why not ``pyabc``: it installs with our locked versions, but its parallel
samplers re-seed every worker from the operating system (``np.random.seed()``
without a seed in ``sampler/multicore.py``, ``mapping.py``,
``eps_mixin.py``), draw proposals from numpy's global state and accept
particles in order of arrival, so a seed does not fix the posterior and
``--jobs 1`` and ``--jobs 2`` differ; it also brings a SQL history database
and IPython/Redis/scikit-learn dependencies. The algorithm is short; here it
is deterministic and uses our runner.
"""

from __future__ import annotations

from symbiosim.calibrate.distance import Outcome, Target, Targets, distance, outcome_of, targets_of
from symbiosim.calibrate.priors import PRIORS, Prior, load_priors, validate_priors
from symbiosim.calibrate.run import Calibration, CalibrationInterrupted, calibrate

__all__ = [
    "PRIORS",
    "Calibration",
    "CalibrationInterrupted",
    "Outcome",
    "Prior",
    "Target",
    "Targets",
    "calibrate",
    "distance",
    "load_priors",
    "outcome_of",
    "targets_of",
    "validate_priors",
]
