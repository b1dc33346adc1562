"""The HTML reports: ``symbiosim report`` (one scenario) and ``symbiosim summarize --html`` (an experiment).

One self-contained file each (``report.html``): CSS inline, every figure
embedded as a ``data:`` URI (SVG for the figures drawn here, PNG for those
another unit wrote), nothing fetched from the network, laid out to print on
A4. The templates are Jinja2 (``symbiosim/report/templates``) with
autoescaping on: names and descriptions come from the scenario file, which is
untrusted, so they are always text, never markup.

Nothing is solved here: the functions take results already computed
(``symbiosim.runs.run_report``, ``symbiosim.experiments.analysis.summarize``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import math
import platform
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.report import numbers
from symbiosim.scenario.schema import Scenario

TEMPLATES = Path(__file__).parent / "templates"
PACKAGES = ("symbiosim", "pyomo", "highspy", "mesa", "pandas", "matplotlib", "jinja2")
KEY_FIGURES = (  # key, label, kind (money / quantity with its unit)
    ("cluster_npv", "cluster NPV", "money"),
    ("value_added", "value added (NPV)", "money"),
    ("public_cost", "net public cost (NPV)", "money"),
    ("jobs", "jobs (mean per year)", "jobs/yr"),
    ("jobs_final_year", "jobs in the final year", "jobs"),
    ("emissions", "emissions over the horizon", "t CO2e"),
)
_TAG = re.compile(r"\[([SRDE]|F1)(?:\s+([^\]]+))?\]")  # the orkanger source tags: [S elkem.com], [R], [E], ...


# ---------------------------------------------------------------- numbers


def plain(x: Any, decimals: int = 0) -> str:
    """A number as a person writes it (``symbiosim.report.numbers.fixed``): thousands separators, never
    scientific notation, rounding noise (and -0) shown as 0; ``n/a`` for missing or not finite."""
    if isinstance(x, bool):
        return str(x)
    text = numbers.fixed(x, decimals)
    return "n/a" if text in ("inf", "-inf") else text


@dataclass(frozen=True)
class Money:
    """Money in one scale for a whole report: ``M NOK`` for clusters worth millions, ``k NOK``
    for thousands, plain ``NOK`` below (``for_values`` picks it from the report's figures)."""

    currency: str
    scale: float = 1e6
    prefix: str = "M "
    decimals: int = 2

    @classmethod
    def for_values(cls, currency: str, values: Iterable[Any]) -> Money:
        """The scale of ``symbiosim.report.numbers.scale_for`` for the largest of ``values``."""
        scale = numbers.scale_for(values)
        scale = "M" if scale == "bn" else scale  # a report reads in M like plan and compare; 4,991 M rather than 4.99 bn
        return cls(currency, numbers.SCALES[scale], f"{scale} " if scale else "", {"": 0, "k": 1}.get(scale, 2))

    @property
    def unit(self) -> str:
        return f"{self.prefix}{self.currency}".strip()

    def __call__(self, x: Any) -> str:
        """The number in this scale, without the unit (for columns headed with ``unit``)."""
        if x is None or isinstance(x, bool) or not isinstance(x, int | float):
            return "n/a"
        return plain(float(x) / self.scale, self.decimals)

    def full(self, x: Any) -> str:
        """The number with its unit, e.g. ``1,234.56 M NOK``."""
        text = self(x)
        return text if text == "n/a" else f"{text} {self.unit}"

    def signed(self, x: Any) -> str:
        return _signed(self(x))


def percent(x: Any, decimals: int = 1) -> str:
    """A share as percent (``symbiosim.report.numbers.percent``): ``0.834`` -> ``83.4%``."""
    return numbers.percent(x, decimals)


# ---------------------------------------------------------------- building blocks


@dataclass
class Table:
    """A table ready for the template: ``numeric`` columns are right-aligned."""

    header: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    caption: str = ""
    classes: list[str] = field(default_factory=list)


PAGE_WIDTH_MM = 182.0  # A4 less the margins of the template's @page
FIGURE_HEIGHT_MM = 100.0  # the tallest a figure is shown: two fit a page, or one with a table


@dataclass
class Figure:
    src: str  # a data: URI
    caption: str
    alt: str
    width_mm: float = PAGE_WIDTH_MM  # shown this wide: the page's width, less for tall figures


def data_uri(path: Path) -> str:
    """A figure file as a ``data:`` URI (SVG or PNG)."""
    kind = {".svg": "image/svg+xml", ".png": "image/png"}[path.suffix.lower()]
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def aspect(path: Path) -> float:
    """Height / width of an SVG (its width and height attributes) or PNG (its header) figure; 0.75 if unknown."""
    data = path.read_bytes()
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return height / width if width else 0.75
    found = re.search(rb'<svg[^>]*?\swidth="([\d.]+)(?:pt|px)?"[^>]*?\sheight="([\d.]+)(?:pt|px)?"', data[:4000], re.S)
    return float(found.group(2)) / float(found.group(1)) if found and float(found.group(1)) else 0.75


def figure(path: Path, caption: str, alt: str = "") -> Figure:
    """A figure file embedded, shown at the page's width unless that would make it taller than ``FIGURE_HEIGHT_MM``."""
    width = min(PAGE_WIDTH_MM, FIGURE_HEIGHT_MM / max(aspect(path), 1e-3))
    return Figure(data_uri(path), caption, alt or caption, round(width, 1))


class FigureMaker:
    """Draws figures with the package's figure functions into a scratch folder and embeds them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, draw: Callable[[Path], Any], caption: str, alt: str = "", suffix: str = ".svg") -> Figure:
        self.count += 1
        path = self.folder / f"figure{self.count}{suffix}"
        draw(path)
        return figure(path, caption, alt)


def versions() -> list[tuple[str, str]]:
    """Versions of Python and of the packages the results depend on."""
    out = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def file_record(path: str | Path | None) -> dict[str, str] | None:
    """The scenario file: its name and SHA-256 (what exactly was run)."""
    if path is None:
        return None
    p = Path(path)
    try:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError:
        digest = "(not readable)"
    return {"name": p.name, "sha256": digest}


def cited_sources(scenario: Scenario) -> list[dict[str, str]]:
    """Source tags in the scenario's descriptions (``[S elkem.com]``, ``[R]``...), with the rows citing them."""
    found: dict[str, list[str]] = {}
    rows: list[tuple[str, str]] = [(f"actor {a.id}", a.description) for a in scenario.actors]
    rows += [(f"process {p.id}", p.description) for p in scenario.processes]
    rows.append(("settings", scenario.settings.description))
    for where, text in rows:
        for kind, name in _TAG.findall(text or ""):
            key = f"{kind} {name.strip()}".strip()
            found.setdefault(key, []).append(where)
    return [{"tag": k, "cited_by": ", ".join(dict.fromkeys(v))} for k, v in sorted(found.items())]


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value is text unless marked safe here; scenario text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(plain=plain, percent=percent)
    return env


def render(template: str, **context: Any) -> str:
    return str(_environment().get_template(template).render(**context))


def _write(out: str | Path, html: str) -> Path:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]], header: dict[str, str] | None = None,
           caption: str = "") -> Table:
    """A DataFrame's columns ``formats`` (in that order), each formatted; numbers right-aligned."""
    cols = list(formats)
    numeric = {i for i, c in enumerate(cols) if formats[c] is not str}
    rows = [[formats[c](r[c]) for c in cols] for r in frame.to_dict("records")]
    return Table([(header or {}).get(c, c) for c in cols], rows, numeric, caption)


# ---------------------------------------------------------------- the scenario report


def _key_figures(columns: dict[str, dict[str, float]], m: Money, difference: tuple[str, str] | None = None) -> Table:
    """Key figures (rows) of some outcomes (columns), money in the report's scale; ``difference`` adds a - b."""
    names = list(columns)
    header = ["key figure", "unit", *names] + (["difference"] if difference else [])
    rows = []
    for key, label, kind in KEY_FIGURES:
        if not any(key in c for c in columns.values()):
            continue
        unit = m.unit if kind == "money" else kind
        fmt: Callable[[Any], str] = m if kind == "money" else (lambda x: plain(x, 1))
        values = [columns[n].get(key, math.nan) for n in names]
        row = [label, unit, *[fmt(v) for v in values]]
        if difference:
            a, b = (columns[difference[0]].get(key, math.nan), columns[difference[1]].get(key, math.nan))
            row.append(fmt(a - b))
        rows.append(row)
    return Table(header, rows, set(range(2, len(header))))


def _flows_table(scenario: Scenario, plan: Any, caption: str = "") -> Table:
    """Flows per source, target and product: mean quantity per year while running, and the years."""
    units = {p.id: p.unit for p in scenario.products}
    f = plan.flows
    header = ["from", "to", "product", "mean per year", "unit", "years"]
    if f.empty:
        return Table(header, [], {3}, caption)
    by_year = f.groupby(["source", "target", "product", "year"]).value.sum().reset_index()
    start = scenario.settings.start_year
    rows = []
    for (src, dst, prod), g in by_year.groupby(["source", "target", "product"]):
        years = f"{start + int(g.year.min())}-{start + int(g.year.max())}"
        rows.append([src, dst, prod, plain(g.value.mean()), f"{units.get(prod, '')}/yr", years])
    return Table(header, rows, {3}, caption)


def _builds_table(scenario: Scenario, plan: Any) -> Table:
    start = scenario.settings.start_year
    rows = []
    for r in plan.builds.sort_values(["year", "kind"]).to_dict("records"):
        what = {"actor": f"{r['actor']} enters the cluster", "process": f"{r['actor']} builds {r['process']}",
                "link": f"link {r['actor']} \u2192 {r['target']} for {r['product']}"}[r["kind"]]
        rows.append([str(start + int(r["year"])), r["kind"], what])
    return Table(["year", "kind", "investment"], rows)


def _actors_table(scenario: Scenario) -> Table:
    rows = []
    for a in scenario.actors:
        where = f"{a.lat:.4f}, {a.lon:.4f}" if a.lat is not None and a.lon is not None else "not given"
        rows.append([a.id, a.name or a.id, "existing" if a.exists else "candidate", a.sector or "", where, a.description])
    return Table(["id", "name", "status", "sector", "lat, lon", "description"], rows, set(), classes=["wrap", "small"])


def _contracts_table(scenario: Scenario, contracts: pd.DataFrame) -> Table:
    start = scenario.settings.start_year
    cur = scenario.settings.currency
    units = {p.id: p.unit for p in scenario.products}
    rows = []
    for r in contracts.to_dict("records"):
        price = r.get("price")
        rows.append([
            r["from"], r["to"], r["product"], "standing" if r.get("existing") else "formed in the run",
            f"{start + int(r['start_year'])}-{start + int(r['end_year'])}",
            f"{plain(r['amount'])} {units.get(r['product'], '')}/yr",
            "none agreed" if price is None or price != price else f"{plain(price, 2)} {cur}/{units.get(r['product'], 'unit')}",
        ])
    return Table(["from", "to", "product", "contract", "years", "amount", "price at signing"], rows, {5, 6})


RULE_NAMES = {"shapley": "Shapley", "nucleolus": "nucleolus", "least_core": "least core", "equal_split": "equal split",
              "proportional": "proportional"}


def _actor_gains_table(actors: pd.DataFrame, rules: Sequence[str], m: Money) -> Table:
    """Per actor: stand-alone profit, its change in the decentralised outcome and in the optimum
    without transfers, and who wins or loses (below stand-alone under a sharing rule)."""
    header = ["actor", f"stand-alone profit ({m.unit})", "change, decentralised", "change, optimum without transfers", "verdict"]
    rows = []
    for r in actors.to_dict("records"):
        base = r["baseline_profit"]
        verdict = []
        if r.get("decentralised_wins"):
            verdict.append("wins in the decentralised outcome")
        if r.get("decentralised_loses"):
            verdict.append("loses in the decentralised outcome")
        if r.get("coordinated_loses_without_transfers"):
            verdict.append("loses in the optimum without transfers")
        elif r["coordinated_profit"] - base > 0 and not r.get("decentralised_wins"):
            verdict.append("gains only in the optimum")
        below = [RULE_NAMES.get(rule, rule) for rule in rules if r.get(f"below_standalone_{rule}")]
        if below:
            verdict.append("below stand-alone with " + ", ".join(below))
        rows.append([r["actor"], m(base), m.signed(r["decentralised_profit"] - base), m.signed(r["coordinated_profit"] - base),
                     "; ".join(verdict) or "no change"])
    return Table(header, rows, {1, 2, 3})


def _rule_gains_table(actors: pd.DataFrame, rules: Sequence[str], m: Money) -> Table:
    """Per actor and sharing rule: profit in the optimum with the rule's transfers, minus stand-alone."""
    header = ["actor", *[RULE_NAMES.get(r, r) for r in rules]]
    rows = [[r["actor"], *[m.signed(r[f"coordinated_profit_{rule}"] - r["baseline_profit"]) for rule in rules]]
            for r in actors.to_dict("records")]
    return Table(header, rows, set(range(1, len(header))))


def _signed(text: str) -> str:
    return text if text.startswith("-") or text in ("0", "n/a") else f"+{text}"


def _transfers_table(transfers: pd.DataFrame, m: Money) -> Table:
    """Actor x rule: what each actor receives (+) or pays (-) to implement the rule (actors as rows: any number fits)."""
    rules = [str(r) for r in transfers.index]
    rows = [[str(actor), *[m.signed(v) for v in column]] for actor, column in transfers.T.iterrows()]
    return Table(["actor", *[RULE_NAMES.get(r, r) for r in rules]], rows, set(range(1, len(rules) + 1)))


def _core_text(core: dict[str, Any], m: Money) -> list[str]:
    if not core.get("checked"):
        return [f"The core was not checked: {core.get('reason', 'no players')}."]
    lines = []
    if core.get("empty"):
        lines.append("The core is empty: no sharing of the coordinated gain keeps every coalition from doing better "
                     f"on its own. A subsidy of {m.full(core.get('least_subsidy') or 0.0)} would make it non-empty.")
    else:
        lines.append("The core is not empty: the coordinated gain can be shared so that no coalition does better on its own.")
    inside = core.get("in_core", {})
    yes = [r.replace("_", " ") for r, v in inside.items() if v]
    no = [r.replace("_", " ") for r, v in inside.items() if not v]
    if yes:
        lines.append(f"In the core: {', '.join(yes)}.")
    if no:
        lines.append(f"Not in the core (some coalition would do better alone): {', '.join(no)}.")
    return lines


def _incentive_section(search: Any, m: Money, make: FigureMaker) -> dict[str, Any]:
    """One instrument: the verdict, the levels tried and public cost against share."""
    from symbiosim.report.compare_figures import cost_figure

    if isinstance(search, str):  # "instrument: why the search could not start"
        instrument, _, why = search.partition(": ")
        return {"instrument": instrument, "verdict": f"No search: {why or search}", "table": None, "figure": None}
    from symbiosim.report.compare_text import incentive_verdict, level_column, losers_text

    tried = search.tried
    # the verdict the command line prints (naming any actor below stand-alone and by how much), one line a sentence
    text = incentive_verdict(search.instrument, search.target, search.seeds, search.result, tried, m.currency)
    verdict = "; ".join(line.strip() for line in text.removeprefix(f"{search.instrument}: ").splitlines() if line.strip())
    verdict = (verdict[:1].upper() + verdict[1:]).rstrip(".") + "."
    unit = level_column(search.instrument, m.currency).unit
    formats: dict[str, Callable[[Any], str]] = {
        "level": numbers.number_format(tried.level) if search.instrument not in ("investment_subsidy", "facilitator")
        else (percent if search.instrument == "investment_subsidy" else (lambda x: "on" if x else "off")),
        "share_of_potential": percent, "public_cost": m, "deadweight": m, "actors_below_standalone": lambda x: plain(x)}
    frame = tried.copy()
    if "below_standalone" in frame and any(losers_text(b, m.currency) for b in frame.below_standalone):
        frame["losers"] = [losers_text(b, m.currency) or "\u2014" for b in frame.below_standalone]
        formats["losers"] = str
    table = _table(frame, formats,
                   {"level": f"level ({unit})" if unit else "level", "share_of_potential": "share of potential",
                    "public_cost": f"net public cost ({m.unit})", "deadweight": f"deadweight ({m.unit})",
                    "actors_below_standalone": "actors below stand-alone", "losers": "below stand-alone by (most over seeds)"})
    figure = make(lambda p: cost_figure(tried, p, m.currency), f"{search.instrument}: net public cost against the share of the potential "
                  "realised, one point per level tried (bars: sd over the seeds).") if len(tried) else None
    return {"instrument": search.instrument, "verdict": verdict, "table": table, "figure": figure}


def _ripple_section(effects: dict[str, Any], m: Money, make: FigureMaker, currency: str) -> dict[str, Any]:
    """The ripple effects (``symbiosim.ripple.effects.Effects`` per outcome): per outcome, value added and jobs
    as direct, indirect and induced, national and regional; per actor for the optimum; the figure; the notes."""
    from symbiosim.report.ripple_figures import ripple_figure
    from symbiosim.ripple.effects import SOURCES, parts_table, scopes_of

    totals = {o: effects[o].totals for o in SOURCES if o in effects}
    scopes = scopes_of(totals)

    def shown(x: Any, fmt: Callable[[Any], str]) -> str:
        return fmt(x) if x is not None and math.isfinite(float(x)) else "-"

    def outcome_table(name: str, fmt: Callable[[Any], str], unit: str) -> Table:
        frame = parts_table(totals, name)
        header = [f"part ({unit})", *frame.columns[1:]]
        rows = [[str(r[0]), *(shown(v, fmt) for v in r[1:])] for r in frame.itertuples(index=False)]
        return Table(header, rows, set(range(1, len(header))))

    def jobs(x: Any) -> str:
        return shown(x, lambda v: plain(v, 1))

    def money(x: Any) -> str:
        return shown(x, m)

    def total(row: dict[str, Any], name: str, scope: str) -> float:
        parts = [row.get(f"{name}_direct"), row.get(f"{name}_indirect_{scope}"), row.get(f"{name}_induced_{scope}")]
        return sum(float(v) for v in parts if v is not None and math.isfinite(float(v)))

    optimum = effects.get("optimum")
    actors = None
    if optimum is not None:
        frame = optimum.actors
        frame = frame[(frame.value_added_direct.abs() > 0) | (frame.jobs_direct.abs() > 0)]
        va_total = f"value_added_total_{scopes[-1]}"
        frame = frame.assign(**{va_total: [total(r, "value_added", scopes[-1]) for r in frame.to_dict("records")],
                                "jobs_total": [total(r, "jobs", scopes[-1]) for r in frame.to_dict("records")]})
        basis = {"basis": str} if frame["basis"].str.startswith("own").any() else {}
        actors = _table(frame.fillna({"io_sector": "-"}),
                        {"actor": str, "io_sector": str, **basis, "value_added_direct": money, va_total: money,
                         "jobs_direct": jobs, "jobs_total": jobs},
                        {"io_sector": "table sector", "basis": "indirect from", "value_added_direct": f"value added, direct ({m.unit})",
                         va_total: f"value added, total {scopes[-1]} ({m.unit})", "jobs_direct": "jobs, direct (jobs/yr)",
                         "jobs_total": f"jobs, total {scopes[-1]} (jobs/yr)"})
    any_fx = next(iter(effects.values()))
    return {
        "table": any_fx.table,
        "region": any_fx.region,
        "value_added": outcome_table("value_added", m, m.unit),
        "jobs": outcome_table("jobs", lambda v: plain(v, 1), "jobs/yr"),
        "actors": actors,
        "figure": make(lambda p: ripple_figure(totals, p, currency, regional=len(scopes) > 1),
                       "Value added (NPV) and jobs (mean per year) of each outcome: the actors' own (direct), their "
                       "suppliers' round after round (indirect) and the households' spending of the wages (induced)."),
        "notes": list(any_fx.notes),
    }


def scenario_report_context(scenario: Scenario, comparison: Any, decomposition: pd.DataFrame | None,
                            incentives: Iterable[Any] = (), *, seed: int, scenario_path: str | Path | None = None,
                            folder: Path, effects: dict[str, Any] | None = None,
                            io_path: str | Path | None = None) -> dict[str, Any]:
    """Everything the template ``report.html.j2`` shows, formatted (figures drawn into ``folder``)."""
    from symbiosim.compare.gap import RULES
    from symbiosim.report.compare_figures import actors_figure, decomposition_figure, gap_figure
    from symbiosim.report.figures import flow_figure, links_figure

    s = scenario.settings
    cur = s.currency
    c = comparison
    make = FigureMaker(folder)
    plans, accounts = c.plans, c.accounts
    kpis = {name: accounts[name].kpis for name in ("baseline", "decentralised", "optimum")}
    m = Money.for_values(cur, [k.get(key) for k in kpis.values() for key in ("cluster_npv", "value_added", "public_cost")])
    rules = [r for r in RULES if f"coordinated_profit_{r}" in c.actors.columns]
    sim = c.simulation
    new_contracts = sim.contracts[~sim.contracts.existing] if "existing" in sim.contracts else sim.contracts
    share = c.share_of_potential
    gap_rows = [k for k in ("cluster_npv", "value_added", "public_cost", "jobs", "emissions") if k in c.kpis.index]

    cluster = {
        "actors": _actors_table(scenario),
        "n_existing": sum(a.exists for a in scenario.actors),
        "n_candidates": sum(not a.exists for a in scenario.actors),
        "products": [f"{p.id} ({p.unit})" for p in scenario.products],
        "flows": _flows_table(scenario, plans["baseline"]),
        "map": make(lambda p: flow_figure(scenario, plans["baseline"], p,
                                          title=f"{s.name}: actors and existing flows (stand-alone baseline)"),
                    "Actors at their coordinates (blue: existing, grey: candidate) and the flows of the stand-alone "
                    "baseline, arrows scaled by the mean quantity per year while running."),
    }
    optimum = {
        "status": plans["optimum"].meta.get("status"),
        "kpis": _key_figures({"optimum": kpis["optimum"], "baseline": kpis["baseline"]}, m, ("optimum", "baseline")),
        "builds": _builds_table(scenario, plans["optimum"]),
        "flows": _flows_table(scenario, plans["optimum"]),
        "figure": make(lambda p: flow_figure(scenario, plans["optimum"], p, title=f"{s.name}: flows of the coordinated optimum"),
                       "Flows of the coordinated optimum (green: candidates that enter)."),
        "notes": list(plans["optimum"].meta.get("notes", [])),
    }
    decentralised = {
        "kpis": _key_figures({"decentralised": kpis["decentralised"], "baseline": kpis["baseline"]}, m,
                             ("decentralised", "baseline")),
        "contracts": _contracts_table(scenario, sim.contracts),
        "n_new": len(new_contracts),
        "figure": make(lambda p: links_figure(scenario, sim.contracts, sim.series, p), "Contracts over time (grey: standing, "
                       "green: formed in the run) and the number of links active per period.") if len(sim.contracts) else None,
        "offers": [[str(o), str(r), plain(n)] for (o, r), n in sim.offers.groupby(["outcome", "reason"]).size().items()]
        if len(sim.offers) else [],
    }
    gap_table = Table(
        ["key figure", "unit", "baseline", "decentralised", "optimum", "gap", "share realised"],
        [[label, m.unit if kind == "money" else kind,
          *[(m if kind == "money" else (lambda x: plain(x, 1)))(c.kpis.loc[key, col])
            for col in ("baseline", "decentralised", "optimum", "gap")],
          percent(c.kpis.loc[key, "share"])]
         for key, label, kind in KEY_FIGURES if key in gap_rows],
        {2, 3, 4, 5, 6},
    )
    gap: dict[str, Any] = {
        "share": percent(share),
        "share_defined": share == share,
        "table": gap_table,
        "figure": make(lambda p: gap_figure(c.kpis, p, cur), "Change from the stand-alone baseline per key figure: the "
                       "decentralised outcome against the coordinated optimum."),
        "actors": _actor_gains_table(c.actors, rules, m),
        "rule_gains": _rule_gains_table(c.actors, rules, m),
        "actors_figure": make(lambda p: actors_figure(c.actors, rules, p, cur), "Profit change against stand-alone per actor: "
                              "decentralised, coordinated without transfers and with each sharing rule."),
        "players": list(c.game.players),
        "transfers": _transfers_table(c.transfers, m) if len(c.transfers.columns) else None,
        "core": _core_text(c.core, m),
        "decomposition": None,
    }
    if decomposition is not None and len(decomposition):
        gap["decomposition"] = {
            "table": _table(decomposition, {"friction": str, "closed_alone": m, "closed_shapley": m},
                            {"closed_alone": f"gap closed alone ({m.unit})", "closed_shapley": f"Shapley share ({m.unit})"}),
            "figure": make(lambda p: decomposition_figure(decomposition, p, cur), "Gap closed by removing each friction "
                           "(Shapley value over the removals), and the residual."),
        }
    return {
        "title": f"{s.name}: coordinated optimum, decentralised outcome and the gap",
        "scenario": {"name": s.name, "description": s.description, "currency": cur, "start_year": s.start_year,
                     "years": s.years, "periods_per_year": s.periods_per_year, "discount_rate": percent(s.discount_rate)},
        "seed": seed,
        "generated": _now(),
        "headline": {"share": percent(share), "optimum_npv": m.full(kpis["optimum"]["cluster_npv"] - kpis["baseline"]["cluster_npv"]),
                     "decentralised_npv": m.full(kpis["decentralised"]["cluster_npv"] - kpis["baseline"]["cluster_npv"])},
        "cluster": cluster,
        "optimum": optimum,
        "decentralised": decentralised,
        "gap": gap,
        "incentives": [_incentive_section(i, m, make) for i in incentives],
        "ripple": _ripple_section(effects, m, make, cur) if effects else None,
        "io_file": file_record(io_path),
        "money_unit": m.unit,
        "versions": versions(),
        "file": file_record(scenario_path),
        "sources": cited_sources(scenario),
    }


def write_scenario_report(scenario: Scenario, comparison: Any, decomposition: pd.DataFrame | None, out: str | Path,
                          incentives: Iterable[Any] = (), *, seed: int, scenario_path: str | Path | None = None,
                          effects: dict[str, Any] | None = None, io_path: str | Path | None = None) -> Path:
    """``symbiosim report --out DIR``: ``DIR/report.html``; returns its path. ``effects``: the ripple effects
    per outcome (``symbiosim.ripple.effects.Effects``), from the input-output table ``io_path``."""
    with tempfile.TemporaryDirectory(prefix="symbiosim-report-") as tmp:
        context = scenario_report_context(scenario, comparison, decomposition, incentives, seed=seed,
                                          scenario_path=scenario_path, folder=Path(tmp), effects=effects,
                                          io_path=io_path)
        return _write(out, render("report.html.j2", **context))


# ---------------------------------------------------------------- the experiment report


def _ci(entry: dict[str, Any] | None, fmt: Callable[[Any], str]) -> str:
    if not entry:
        return "n/a"
    mean, lo, hi = entry.get("mean"), entry.get("ci_low"), entry.get("ci_high")
    if lo is None or hi is None:
        return fmt(mean)
    return f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]"


def _design(manifest: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """The experiment's design from its manifest: the arms, the uncertain inputs and the facts to reproduce it."""
    import json

    def loads(text: Any, default: Any) -> Any:
        try:
            return json.loads(text) if isinstance(text, str) else default
        except ValueError:
            return default

    arms = loads(manifest.get("arms"), {}) or {}
    arm_rows = [[str(name), ", ".join(f"{k} = {numbers.number(v) if isinstance(v, int | float) else v}" for k, v in (setting or {}).items())
                 or "no instrument"] for name, setting in arms.items()]
    inputs = loads(manifest.get("inputs"), []) or []
    input_rows = []
    for u in inputs:
        u = dict(u)
        column = str(u.pop("column", ""))
        input_rows.append([labels.get(column, column.removeprefix("in_")), ", ".join(f"{k} = {v}" for k, v in u.items())])
    facts = [(label, str(manifest[key])) for key, label in (
        ("scenario", "scenario file"), ("scenario_hash", "scenario hash"), ("samples", "samples"), ("replications", "replications"),
        ("mip_gap", "MIP gap"), ("version", "symbiosim version of the runs"), ("created", "created"), ("updated", "updated"))
        if manifest.get(key) not in (None, "")]
    return {"arms": Table(["arm", "policy"], arm_rows, classes=["wrap"]),
            "inputs": Table(["input", "distribution"], input_rows, classes=["wrap", "small"]), "facts": facts}


def experiment_report_context(result: dict[str, Any], figures: Sequence[Path], currency: str = "",
                              manifest: dict[str, Any] | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """What ``experiment.html.j2`` shows: ``result`` of ``summarize``, its figure files, the experiment's manifest
    and readable ``labels`` of the input columns (``in_...``)."""

    def label(column: str) -> str:
        return (labels or {}).get(column, column.removeprefix("in_"))

    m = Money.for_values(currency, [e[k].get(q) for e in result["arms"].values() for k in ("gap", "public_cost")
                                    for q in ("q05", "q95")])
    cur = m.unit or "money"
    arms = Table(
        ["arm", "runs", "ok", "share of potential (95 % CI)", "share 5 / 50 / 95 %", f"gap ({cur})", f"net public cost ({cur})",
         "emissions (t CO2e)", "P(no actor below stand-alone)"],
        [[arm, plain(e["runs"]), plain(e["ok"]), _ci(e["share_of_potential"], percent),
          " / ".join(percent(e["share_of_potential"][q]) for q in ("q05", "q50", "q95")),
          _ci(e["gap"], m), _ci(e["public_cost"], m), _ci(e["emissions"], plain),
          _ci(e["p_no_actor_below_standalone"], percent)]
         for arm, e in result["arms"].items()],
        set(range(1, 9)), classes=["small"],
    )
    ref = result["paired"]["reference"]

    def signed_percent(x: Any) -> str:
        return _signed(percent(x, 2)) if x is not None else "n/a"

    paired = Table(
        [f"arm - {ref}", "pairs", "share of potential", f"gap ({cur})", f"net public cost ({cur})", "emissions (t CO2e)"],
        [[arm, plain(e["pairs"]), _ci(e["share_of_potential"], signed_percent), _ci(e["gap"], m.signed),
          _ci(e["public_cost"], m.signed), _ci(e["emissions"], lambda x: _signed(plain(x)))]
         for arm, e in result["paired"]["arms"].items()],
        set(range(1, 6)), classes=["small"],
    )
    sens = result["sensitivity"]
    sensitivity = []
    for arm, v in sens["arms"].items():
        if "skipped" in v or "note" in v:
            sensitivity.append({"arm": arm, "note": v.get("skipped") or v.get("note"), "table": None})
            continue
        has_st = any("ST" in x for x in v.values())
        header = ["input", "S1 (95 % half-width)"] + (["ST (95 % half-width)"] if has_st else [])
        rows = [[label(name), f"{plain(x['S1'], 3)} \u00b1 {plain(x['S1_conf'], 3)}"]
                + ([f"{plain(x['ST'], 3)} \u00b1 {plain(x['ST_conf'], 3)}"] if has_st else [])
                for name, x in sorted(v.items(), key=lambda kv: -(kv[1].get("S1") or 0.0))]
        sensitivity.append({"arm": arm, "note": (sens.get("notes") or {}).get(arm), "table": Table(header, rows, {1, 2})})
    boxes = []
    for arm, b in result["failure_boxes"]["arms"].items():
        limits = [[label(k), plain(v["low"], 3), plain(v["high"], 3)] for k, v in (b.get("box") or {}).items()]
        boxes.append({"arm": arm, "failure_rate": percent(b.get("failure_rate")), "note": b.get("note"),
                      "density": percent(b.get("density")), "coverage": percent(b.get("coverage")),
                      "support": percent(b.get("support")),
                      "table": Table(["input", "low", "high"], limits, {1, 2}) if limits else None})
    captions = {
        "distributions": "Share of the potential realised per arm (box: quartiles, whiskers: 1.5 IQR).",
        "paired_differences": f"Share of the potential of each arm minus {ref}, paired by sample and seed (95 % bootstrap CI).",
        "sensitivity": "First-order sensitivity indices (S1) of the gap per uncertain input.",
        "cost_vs_share": "Net public cost against the share of the potential per arm (95 % bootstrap CIs).",
    }
    return {
        "title": f"Experiment {result['experiment']}",
        "result": result,
        "generated": _now(),
        "arms": arms,
        "paired": paired,
        "reference": ref,
        "sensitivity": sensitivity,
        "sensitivity_method": sens["method"],
        "sensitivity_warning": sens.get("warning"),
        "sensitivity_needs": sens.get("needs"),
        "failure_rule": result["failure_boxes"]["rule"],
        "boxes": boxes,
        "figures": [figure(p, captions.get(p.stem, p.stem), p.stem.replace("_", " ")) for p in figures],
        "versions": versions(),
        "currency": currency,
        "money_unit": cur,
        "design": _design(manifest or {}, labels or {}),
    }


def write_experiment_report(result: dict[str, Any], figures: Sequence[Path], out: str | Path, currency: str = "",
                            manifest: dict[str, Any] | None = None, labels: dict[str, str] | None = None) -> Path:
    """``symbiosim summarize DB --html``: ``DIR/report.html``; returns its path."""
    return _write(out, render("experiment.html.j2", **experiment_report_context(result, figures, currency, manifest, labels)))
