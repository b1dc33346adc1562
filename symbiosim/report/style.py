"""One look for every figure of the package (a leaf: imports nothing from symbiosim).

* **Colours** keyed by meaning, the same in every figure and run: ``product_colour`` (a fixed
  colour for the products of the bundled scenarios, else a deterministic pick from a
  colour-blind-safe palette by a stable hash of the id: never Python's salted ``hash``),
  ``ACTOR_KIND_COLOURS`` (existing, candidate that enters, candidate that stays out),
  ``OUTCOME_COLOURS`` (baseline, decentralised, optimum) and ``series_colour`` for arms,
  cases and rules.
* **Axes** carry their unit in the label and plain tick numbers (``PlainFormatter``: thousands
  separators, never an offset such as ``1e8`` or scientific notation, rounding noise as 0):
  ``money_axis`` puts currency and scale in the label (``NPV (M NOK)``), ``quantity_axis``
  the unit, ``share_axis`` percent over a sensible range.
* **Legends** (``product_legend``, ``actor_kind_legend``, ``legend_outside``), **titles** that
  wrap to the figure's width (``fit_title``, ``fit_suptitle``) and **labels** shortened without
  two of them reading the same (``unique_labels``, ``readable``).
* ``capture_figures``: while active, ``save_figure`` keeps figures open and collects them
  (tests inspect the drawn ``Figure``).
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, PercentFormatter

# Okabe & Ito (2008) and Paul Tol's "muted" scheme: distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
PALETTE = (*TOL_MUTED, "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
# series (arms, cases, rules): strong colours only, no yellow on white
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#999933")

# Products of the bundled scenarios (and the usual ones of industrial symbiosis): heat in reds and
# oranges, organic residues in browns and greens, materials in blues and greys.
PRODUCT_COLOURS: dict[str, str] = {
    "waste_heat": "#D55E00",
    "district_heat": "#E69F00",
    "heat_sold": "#E69F00",
    "heat": "#E69F00",
    "steam": "#CC6677",
    "electricity": "#F0E442",
    "fossil_gas": "#882255",
    "heating_oil": "#332288",
    "raw_biogas": "#999933",
    "biogas": "#117733",
    "digestate": "#44AA99",
    "fish_offcuts": "#0072B2",
    "offcuts": "#0072B2",
    "chicken_offcuts": "#56B4E9",
    "animal_mass": "#88CCEE",
    "vegetable_mass": "#009E73",
    "animal_feed": "#DDCC77",
    "feed": "#DDCC77",
    "bio_residue": "#AA4499",
    "wood_chips": "#8C510A",
    "bark": "#BF812D",
    "timber": "#543005",
    "screening_residue": "#DFC27D",
    "microsilica": "#777777",
    "quartz": "#BBBBBB",
    "coke": "#222222",
    "petcoke": "#444444",
    "eps": "#CC79A7",
    "eps_insulation": "#CC79A7",
    "plastic_packaging": "#EE3377",
    "aluminium_packaging": "#9E9E9E",
    "steel_scrap": "#5E5E5E",
    "cement": "#A6A6A6",
    "aggregate": "#8E8E8E",
    "water": "#33BBEE",
    "waste_water": "#4477AA",
}

# Actors by what they are in a plan: in the cluster today, a candidate that enters, one that stays out.
ACTOR_KIND_COLOURS: dict[str, str] = {"existing": "#1F4E79", "entered": "#009E73", "candidate": "#CCCCCC"}
ACTOR_KIND_LABELS: dict[str, str] = {
    "existing": "existing actor",
    "entered": "candidate, enters",
    "candidate": "candidate, stays out",
}
# Contracts of the simulator: standing at the start, formed in the run.
CONTRACT_COLOURS: dict[str, str] = {"standing": "#999999", "formed": "#009E73"}
# The three outcomes of a comparison.
OUTCOME_COLOURS: dict[str, str] = {"baseline": "#999999", "decentralised": "#E69F00", "optimum": "#0072B2"}
# A decision chosen / not chosen.
CHOSEN, NOT_CHOSEN = "#117733", "#F2F2F2"

# Money scales (as ``symbiosim.report.numbers``): bn from 10 bn, M from 1 M, k from 10 k.
SCALE_FROM: tuple[tuple[str, float], ...] = (("bn", 1e10), ("M", 1e6), ("k", 1e4), ("", 0.0))
SCALES = {"": 1.0, "k": 1e3, "M": 1e6, "bn": 1e9}
NOISE = 1e-9  # relative: values this small against the largest one are rounding noise

_captured: list[Figure] | None = None


def _stable_index(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2s(key.encode("utf-8"), digest_size=4).digest(), "big") % n


def product_colour(product: str) -> str:
    """The colour of a product in every figure: a fixed one for known ids, else a stable hash pick."""
    return PRODUCT_COLOURS.get(product) or PALETTE[_stable_index(product, len(PALETTE))]


def series_colour(name: str) -> str:
    """A stable colour for an arm, case or rule name (outcomes keep theirs)."""
    return OUTCOME_COLOURS.get(name) or SERIES[_stable_index(name, len(SERIES))]


def series_colours(names: Sequence[str]) -> list[str]:
    """Distinct colours for the series of one figure, in order (cases, rules)."""
    return [SERIES[i % len(SERIES)] for i in range(len(names))]


def actor_kind(exists: bool, entered: bool) -> str:
    return "existing" if exists else ("entered" if entered else "candidate")


# ---------------------------------------------------------------------------------------- numbers


def snap(values: Iterable[float], tol: float = NOISE) -> list[float]:
    """Values that are rounding noise against the largest of them (or absolutely, below ``tol``) as 0."""
    xs = [float(v) for v in values]
    finite = [abs(x) for x in xs if math.isfinite(x)]
    top = max(finite, default=0.0)
    limit = max(tol, tol * top) if top >= 1 else tol
    return [0.0 if math.isfinite(x) and abs(x) < limit else x for x in xs]


def money_scale(values: Iterable[float]) -> str:
    """One scale (``""``, ``k``, ``M``, ``bn``) from the largest absolute finite value."""
    top = max((abs(float(v)) for v in values if v is not None and math.isfinite(float(v))), default=0.0)
    return next(name for name, low in SCALE_FROM if top >= low)


def plain(x: float, decimals: int = 0) -> str:
    """``x`` with thousands separators, ``decimals`` decimals, ``0`` (never ``-0``) when it rounds to zero."""
    if not math.isfinite(x):
        return "n/a"
    text = f"{x:,.{max(0, decimals)}f}"
    return "0" if not any(c in "123456789" for c in text) else text


class PlainFormatter(Formatter):
    """Tick labels as plain numbers (divided by ``factor``) with the decimals their spacing needs:
    thousands separators, no offset text, no scientific notation, noise shown as 0."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor
        self.decimals = 0
        self.step = 0.0

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        vals = sorted({float(v) / self.factor for v in locs})
        steps = [b - a for a, b in zip(vals, vals[1:], strict=False) if b - a > 0]
        self.step = min(steps) if steps else 0.0
        d = max(0, min(6, -math.floor(math.log10(self.step)))) if self.step else 0
        while self.step and d < 6 and abs(self.step * 10**d - round(self.step * 10**d)) > 1e-6 * self.step * 10**d:
            d += 1
        self.decimals = d

    def __call__(self, x: float, pos: int | None = None) -> str:
        v = x / self.factor
        if self.step and abs(v) < 1e-6 * self.step:
            v = 0.0
        return plain(v, self.decimals)

    def get_offset(self) -> str:
        return ""


def money_axis(ax: Axes, currency: str, what: str = "NPV", axis: str = "y", values: Iterable[float] | None = None) -> str:
    """Label the money axis ``what (scale currency)`` and give it plain ticks in that scale; the
    scale follows ``values`` (default: the data limits). Returns the label."""
    if values is None:
        lim = ax.dataLim
        values = (lim.y0, lim.y1) if axis == "y" else (lim.x0, lim.x1)
    scale = money_scale(snap(values))
    unit = f"{scale} {currency}".strip()
    label = f"{what} ({unit})"
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PlainFormatter(SCALES[scale]))
    target.set_label_text(label)
    return label


def quantity_axis(ax: Axes, what: str, unit: str = "", axis: str = "y") -> str:
    """Label a quantity axis ``what (unit)`` with plain ticks (quantities are never scaled)."""
    label = f"{what} ({unit})" if unit else what
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PlainFormatter())
    target.set_label_text(label)
    return label


def share_axis(ax: Axes, what: str = "share of the potential realised", axis: str = "x",
               values: Iterable[float] | None = None) -> str:
    """A share axis in percent covering at least [0, 100 %] (wider if the data are), noise-free."""
    vals = [v for v in snap(values or []) if math.isfinite(v)]
    lo, hi = min([0.0, *vals]), max([1.0, *vals])
    pad = 0.05 * (hi - lo)
    (ax.set_xlim if axis == "x" else ax.set_ylim)(lo - pad, hi + pad)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    label = f"{what} (%)"
    target.set_label_text(label)
    return label


# ---------------------------------------------------------------------------------------- legends


def product_handles(products: Iterable[str], units: dict[str, str] | None = None) -> list[Line2D]:
    units = units or {}
    return [
        Line2D([0], [0], color=product_colour(p), lw=3, label=f"{p} ({units[p]})" if p in units else p)
        for p in dict.fromkeys(products)
    ]


def actor_kind_handles(kinds: Iterable[str] = tuple(ACTOR_KIND_COLOURS)) -> list[Line2D]:
    return [
        Line2D([0], [0], marker="o", ls="", markersize=10, markerfacecolor=ACTOR_KIND_COLOURS[k], markeredgecolor="black",
               label=ACTOR_KIND_LABELS[k])
        for k in dict.fromkeys(kinds)
    ]


def patch_handles(colours: dict[str, str]) -> list[Patch]:
    """Legend patches for bars or cells coloured by meaning."""
    return [Patch(facecolor=c, edgecolor="black", label=label) for label, c in colours.items()]


def legend_outside(ax: Axes, handles: Sequence[Any], title: str | None = None, where: str = "right",
                   fontsize: float = 8, ncol: int = 1) -> Legend:
    """A legend beside (``right``) or under (``below``) the axes, never over the data; several
    legends on one axes stack (each later one is added as an extra artist)."""
    if where == "below":
        kw: dict[str, Any] = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.12), "ncol": ncol}
    else:
        below = [a for a in ax.get_children() if isinstance(a, Legend)]
        kw = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0 - 0.45 * len(below)), "ncol": ncol}
    old = ax.get_legend()
    legend = ax.legend(handles=list(handles), title=title, fontsize=fontsize, title_fontsize=fontsize + 1,
                       frameon=False, borderaxespad=0.0, **kw)
    if old is not None:
        ax.add_artist(old)
    return legend


def product_legend(ax: Axes, products: Iterable[str], units: dict[str, str] | None = None, where: str = "right") -> Legend:
    return legend_outside(ax, product_handles(products, units), title="product", where=where)


def actor_kind_legend(ax: Axes, kinds: Iterable[str] = tuple(ACTOR_KIND_COLOURS), where: str = "right") -> Legend:
    return legend_outside(ax, actor_kind_handles(kinds), title="actor", where=where)


# ---------------------------------------------------------------------------------------- text


def _chars(width_inches: float, fontsize: float) -> int:
    return max(20, int(width_inches * 72 / (0.55 * fontsize)))


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def fit_title(ax: Axes, text: str, fontsize: float = 11, share: float = 1.0) -> None:
    """A title wrapped to the width of the figure (times ``share``, for a panel)."""
    fig = ax.get_figure(root=True) if hasattr(ax, "get_figure") else None
    width = fig.get_figwidth() if isinstance(fig, Figure) else 6.0
    ax.set_title(wrap(text, _chars(width * share, fontsize)), fontsize=fontsize)


def fit_suptitle(fig: Figure, text: str, fontsize: float = 11) -> None:
    fig.suptitle(wrap(text, _chars(fig.get_figwidth(), fontsize)), fontsize=fontsize)


def readable(name: str) -> str:
    """An internal name as words: ``in_price_waste_heat`` -> ``price waste heat``."""
    return name.removeprefix("in_").replace("_", " ").strip()


def unique_labels(labels: Sequence[str], n: int = 38) -> list[str]:
    """Labels cut to about ``n`` characters, keeping their start and end (``build:orkland…digest_bark``)
    so that labels that differ stay different; where two would still read the same they get longer."""
    def cut(label: str, size: int) -> str:
        if len(label) <= size:
            return label
        head = max(1, (size - 1) * 2 // 5)
        return label[:head] + "…" + label[len(label) - (size - 1 - head):]

    size = {i: n for i in range(len(labels))}
    while True:
        out = [cut(lab, size[i]) for i, lab in enumerate(labels)]
        seen: dict[str, list[int]] = {}
        for i, lab in enumerate(out):
            seen.setdefault(lab, []).append(i)
        clash = [i for idx in seen.values() if len({labels[j] for j in idx}) > 1 for i in idx]
        if not clash:
            return out
        for i in clash:
            size[i] += 4


# ---------------------------------------------------------------------------------------- capture


def capturing() -> bool:
    return _captured is not None


def capture(fig: Figure) -> bool:
    """Called by ``save_figure``: keep ``fig`` (True) if figures are being captured."""
    if _captured is None:
        return False
    _captured.append(fig)
    return True


@contextmanager
def capture_figures() -> Iterator[list[Figure]]:
    """Collect the figures saved inside the block (laid out and written, but left open)."""
    global _captured
    previous, _captured = _captured, []
    try:
        yield _captured
    finally:
        _captured = previous
