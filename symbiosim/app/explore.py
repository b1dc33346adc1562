"""The Experiments tab's data side: browse a results database of ``symbiosim experiment``.

Plain functions (no widgets) over one DuckDB file, so that the tab only wires
widgets to them and the tests need no browser. The numbers are those of
``symbiosim summarize`` (``experiments.analysis.summarize``: per-arm means with
cluster-bootstrap intervals and quantiles, paired differences, sensitivity
indices with ``sample_advice``'s warning) and the figures are its figures.

Everything from the browser is untrusted:

* a database is either uploaded (size-limited to ``UPLOAD_LIMIT``, written
  into the app's working folder ``session.workdir()`` under a name the app
  makes up, suffix ``.duckdb``) or one of the ``.duckdb`` files already in
  that folder, chosen by its bare name from ``databases()``: the browser
  never names a path;
* it is opened read-only, first by a connection with DuckDB's external
  access switched off that checks the experiment's tables are plain tables
  (a view or a generated column could otherwise read other files when
  selected) with the expected columns; only then do the analysis functions
  read it;
* a file that is not a DuckDB database, a newer DuckDB format, or a DuckDB
  file without an experiment's tables gives ``ExploreError`` with a message
  for the user, never a traceback;
* the scenario path stored in the manifest is only followed (for the
  currency) when it lies in the bundled ``scenarios/`` folder or the working
  folder.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from symbiosim.app import session
from symbiosim.experiments import analysis
from symbiosim.report import numbers

UPLOAD_LIMIT = 512 * 1024 * 1024  # bytes
# The upload button sends a file in one websocket message, which the server (uvicorn) refuses above
# 16 MiB (its ws_max_size): larger files go through the drop zone, which streams 1 MiB chunks.
BUTTON_LIMIT = 16 * 1024 * 1024
SUFFIX = ".duckdb"
BUNDLED_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
REQUIRED = {  # table -> columns the analysis reads
    "manifest": ("experiment", "method", "root_seed"),
    "design": ("run_id", "sample_id", "replication", "arm"),
}
RUN_COLUMNS = ("run_id", "status", *analysis.METRICS, "actors_below_standalone")
METRIC_LABELS = {"share_of_potential": "share of the potential", "gap": "gap (optimum - decentralised)",
                 "public_cost": "public cost (subsidies - taxes)", "emissions": "emissions"}
UNKNOWN_CURRENCY = "(scenario currency)"  # the money unit when the scenario's file cannot be read
FIGURES = ("distributions", "paired_differences", "sensitivity", "cost_vs_share")


class ExploreError(ValueError):
    """A database the Experiments tab cannot show (the message is for the user)."""


# ------------------------------------------------------------------ files


def databases() -> list[str]:
    """Names of the experiment databases in the app's working folder (newest first)."""
    found = [p for p in session.workdir().glob(f"*{SUFFIX}") if p.is_file()]
    return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


def resolve(name: str) -> Path:
    """The database ``name`` of ``databases()`` (a bare name; anything else is refused)."""
    if name not in databases():
        raise ExploreError(f"{name!r} is not a database in the app's working folder")
    return session.workdir() / name


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(str(name)).stem)[:40].strip("_")
    return stem or "upload"


def save_upload(name: str, data: bytes, *, limit: int = UPLOAD_LIMIT) -> Path:
    """Store an uploaded database in the working folder under a made-up name (``.duckdb``).

    Raises:
        ExploreError: wrong suffix, too large, or not a DuckDB file (nothing is kept then).
    """
    shown = Path(str(name)).name or "upload"
    if Path(shown).suffix.lower() != SUFFIX:
        raise ExploreError(f"{shown}: expected an experiment database (.duckdb), as `symbiosim experiment` writes")
    if len(data) > limit:
        raise ExploreError(f"{shown} is {len(data):,} bytes, more than the app's limit of {limit:,} bytes")
    if bytes(data[8:12]) != b"DUCK":
        raise ExploreError(f"{shown} is not a DuckDB database")
    path = session.workdir() / f"experiment-{uuid.uuid4().hex[:12]}-{_safe_stem(shown)}{SUFFIX}"
    path.write_bytes(data)
    try:
        check(path)
    except ExploreError:
        path.unlink(missing_ok=True)
        raise
    return path


def save_stream(name: str, stream: Any, size: int, *, limit: int = UPLOAD_LIMIT, chunk: int = 1 << 20) -> Path:
    """Like ``save_upload`` for a file read in chunks (a dropped file): the size is checked first."""
    shown = Path(str(name)).name or "upload"
    if size > limit:
        raise ExploreError(f"{shown} is {size:,} bytes, more than the app's limit of {limit:,} bytes")
    tmp = session.workdir() / f"partial-{uuid.uuid4().hex}.part"
    try:
        read = 0
        with open(tmp, "wb") as out:
            while block := stream.read(chunk):
                read += len(block)
                if read > limit:
                    raise ExploreError(f"{shown} is more than the app's limit of {limit:,} bytes")
                out.write(block)
        return save_upload(shown, tmp.read_bytes(), limit=limit)
    finally:
        tmp.unlink(missing_ok=True)


def check(db: str | Path) -> None:
    """Refuse anything but an experiment database made of plain tables (see the module docstring).

    Raises:
        ExploreError: with a message for the user.
    """
    import duckdb

    from symbiosim.store import StoreError, open_untrusted, schema_of

    shown = Path(db).name
    try:
        con = open_untrusted(db)
    except StoreError as exc:
        raise ExploreError(str(exc)) from None
    try:
        kinds, rows = schema_of(con)
        columns: dict[str, set[str]] = {}
        for table, column, generated in rows:
            if generated:
                raise ExploreError(f"{shown}: table {table} has a computed column ({column}); not an experiment database")
            columns.setdefault(table, set()).add(column)
        missing = [t for t in REQUIRED if t not in kinds]
        if missing:
            raise ExploreError(f"{shown} is not an experiment database: no {' or '.join(missing)} table "
                               "(open a file written by `symbiosim experiment`)")
        for table in (*REQUIRED, "runs"):
            if table in kinds and kinds[table] != "BASE TABLE":
                raise ExploreError(f"{shown}: {table} is a {str(kinds[table]).lower()}, not a table; not an experiment database")
        wanted = {**REQUIRED, **({"runs": RUN_COLUMNS} if "runs" in kinds else {})}
        for table, cols in wanted.items():
            lacking = [c for c in cols if c not in columns.get(table, set())]
            if lacking:
                raise ExploreError(f"{shown}: table {table} lacks the column(s) {', '.join(lacking)}; not an experiment database")
        if not con.execute("select count(*) from manifest").fetchone()[0]:  # type: ignore[index]
            raise ExploreError(f"{shown} is not an experiment database (an empty manifest)")
    except duckdb.Error as exc:
        raise ExploreError(f"{shown}: cannot read the DuckDB database ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()


# ------------------------------------------------------------------ the summary (cached per file version)


@dataclass
class Loaded:
    manifest: dict[str, Any]
    frame: pd.DataFrame  # finished runs joined with the design
    all_runs: int
    inputs: list[str]
    summary: dict[str, Any]  # analysis.summarize(db)
    currency: str
    figures: dict[str, bytes] = field(default_factory=dict)


_cache: dict[tuple[str, int, int], Loaded] = {}
_lock = threading.Lock()
_figure_lock = threading.Lock()  # matplotlib's pyplot is not thread-safe; sessions run in threads


def scenario_currency(manifest: dict[str, Any]) -> str:
    """The currency of the experiment's scenario, if its file is a bundled scenario or in the working folder; else ''."""
    from symbiosim.scenario import load_scenario

    named = str(manifest.get("scenario") or "")
    if not named:
        return ""
    try:
        path = Path(named) if Path(named).is_absolute() else BUNDLED_SCENARIOS.parent / named
        path = path.resolve()
        allowed = (BUNDLED_SCENARIOS.resolve(), session.workdir().resolve())
        if not any(path.is_relative_to(root) for root in allowed) or path.suffix.lower() not in session.SUFFIXES:
            return ""
        return str(load_scenario(path).settings.currency)
    except Exception:  # noqa: BLE001 - no currency then, as `summarize` does
        return ""


def load(db: str | Path) -> Loaded:
    """The checked database's summary (cached while the file is unchanged).

    Raises:
        ExploreError: the file cannot be shown (the message says why).
    """
    path = Path(db)
    try:
        stat = path.stat()
    except OSError:
        raise ExploreError(f"{path.name}: no such database") from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key in _cache:
            return _cache[key]
    check(path)
    try:
        manifest, frame, inputs = analysis.load(path)
        summary = analysis.summarize(path)
    except (analysis.NotAnExperiment, OSError) as exc:
        raise ExploreError(str(exc).replace(str(path), path.name)) from None
    except Exception as exc:  # a table of unexpected types or contents: a message, not a traceback
        raise ExploreError(f"{path.name}: cannot summarise this experiment database ({type(exc).__name__}: {exc})") from None
    loaded = Loaded(manifest, analysis.finished(frame), len(frame), inputs, summary, scenario_currency(manifest))
    with _lock:
        if len(_cache) >= 4:
            _cache.pop(next(iter(_cache)))
        _cache[key] = loaded
    return loaded


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


# ------------------------------------------------------------------ what the tab shows


def overview(db: str | Path) -> dict[str, Any]:
    """Experiment name, scenario, method, samples, replications, arms, runs (ok, failed, unfinished), currency."""
    d = load(db)
    m, s = d.manifest, d.summary
    try:
        arms = list(json.loads(str(m.get("arms") or "{}")))
    except ValueError:
        arms = []
    arms = arms or list(s["arms"])
    ok = sum(int(e["ok"]) for e in s["arms"].values())
    return {
        "experiment": str(m.get("experiment", "")),
        "scenario": Path(str(m.get("scenario") or "")).name or "(not recorded)",
        "method": str(m.get("method", "")),
        "samples": int(_num(m.get("samples")) if math.isfinite(_num(m.get("samples"))) else d.frame.sample_id.nunique()),
        "replications": int(_num(m.get("replications")) if math.isfinite(_num(m.get("replications"))) else 1),
        "arms": arms,
        "inputs": [analysis.input_labels(m).get(c) or c.removeprefix("in_") for c in d.inputs],
        "runs": int(s["runs"]),
        "ok": ok,
        "failed": int(s["failed"]),
        "no_baseline": int(s.get("no_baseline") or 0),
        "unfinished": int(s["runs"]) - int(s["finished"]),
        "currency": d.currency,
        "version": str(m.get("version", "")),
        "created": str(m.get("created", "")),
    }


def _unit(metric: str, currency: str) -> tuple[str, str]:
    """(kind, unit) of a metric for ``report.numbers``."""
    if metric == "share_of_potential":
        return "share", "%"
    if metric == "emissions":
        return "quantity", "t CO2e"
    return "money", currency or UNKNOWN_CURRENCY


def per_arm(db: str | Path) -> pd.DataFrame:
    """One row per arm and metric: runs, mean with its 95 % bootstrap interval, 5/50/95 % quantiles, unit
    (the numbers of ``symbiosim summarize``); the last rows per arm: P(no actor below stand-alone)."""
    d = load(db)
    rows = []
    for arm, e in d.summary["arms"].items():
        for metric in analysis.METRICS:
            v = e[metric]
            rows.append({"arm": arm, "metric": metric, "unit": _unit(metric, d.currency)[1], "runs": e["runs"], "ok": e["ok"],
                         "failed": e["failed"], **{k: _num(v.get(k)) for k in ("mean", "ci_low", "ci_high", "q05", "q50", "q95")}})
        p = e["p_no_actor_below_standalone"]
        rows.append({"arm": arm, "metric": "p_no_actor_below_standalone", "unit": "%", "runs": e["runs"], "ok": e["ok"],
                     "failed": e["failed"], **{k: _num(p.get(k)) for k in ("mean", "ci_low", "ci_high")},
                     "q05": math.nan, "q50": math.nan, "q95": math.nan})
    return pd.DataFrame(rows)


def arms(db: str | Path) -> list[str]:
    return list(load(db).summary["arms"])


def reference(db: str | Path) -> str:
    return str(load(db).summary["paired"]["reference"])


def paired(db: str | Path, a: str, b: str) -> pd.DataFrame:
    """Arm ``a`` minus arm ``b`` per metric: runs paired by sample and replication (same seeds), averaged per
    sample, mean with a 95 % bootstrap interval (``analysis.paired_differences`` with ``b`` as the reference;
    against the experiment's reference arm these are exactly ``summarize``'s numbers)."""
    d = load(db)
    known = list(d.summary["arms"])
    for arm in (a, b):
        if arm not in known:
            raise ExploreError(f"no arm {arm!r} in this experiment (arms: {', '.join(known)})")
    if a == b:
        raise ExploreError("pick two different arms")
    ref = d.summary["paired"]["reference"]
    if b == ref:
        entry = d.summary["paired"]["arms"][a]
    else:  # b as the reference: ``paired_differences`` takes "none" as the reference arm
        sub = d.frame[d.frame.arm.isin([a, b])].copy()
        sub["arm"] = sub.arm.map({b: "none", a: "other"})
        entry = analysis.paired_differences(sub)["arms"]["other"]
    rows = []
    for metric in analysis.METRICS:
        v = entry[metric]
        rows.append({"metric": metric, "unit": _unit(metric, d.currency)[1], "pairs": int(entry["pairs"]),
                     **{k: _num(v.get(k)) for k in ("mean", "ci_low", "ci_high")}})
    return pd.DataFrame(rows)


@dataclass
class Sensitivity:
    """Indices per arm and input (``table``), how they were computed, and what to make of them."""

    method: str
    output: str
    table: pd.DataFrame  # arm, input, S1, S1_conf (95 % half-width), ST, ST_conf
    warning: str = ""  # sample_advice's: too few samples or too wide intervals
    needs: str = ""
    notes: list[str] = field(default_factory=list)  # arms skipped, Sobol fallbacks

    @property
    def message(self) -> str:
        return "; ".join(([f"Warning: {self.warning}"] if self.warning else []) + self.notes)


def _skipped(text: str, output: str, currency: str) -> str:
    """``analysis.sensitivity``'s reason for skipping an arm, its numbers as the app prints them
    (``output range 5.68e-13`` -> ``the gap varies by 0 NOK``)."""
    m = re.match(r"^(\d+) samples, output range ([-+.\deE]+|nan|inf) \(needs >= (\d+) samples and a varying output\)$", text)
    if not m:
        return text
    n, spread, least = int(m.group(1)), float(m.group(2)), int(m.group(3))
    kind, unit = _unit(output, currency)
    spread_text = numbers.money(spread, unit) if kind == "money" else numbers.number(spread)
    return f"{n:,} samples, the {output} varies by {spread_text}; needs at least {least:,} samples and a varying {output}"


def sensitivity(db: str | Path) -> Sensitivity:
    """Sensitivity indices of the gap per arm (``summarize``'s), with ``sample_advice``'s warning."""
    d = load(db)
    s = d.summary["sensitivity"]
    labels = analysis.input_labels(d.manifest)
    rows, notes = [], []
    for arm, entry in s["arms"].items():
        if "skipped" in entry:
            notes.append(f"{arm}: no indices ({_skipped(str(entry['skipped']), s['output'], d.currency)})")
            continue
        for name, v in entry.items():
            if isinstance(v, dict):
                rows.append({"arm": arm, "input": labels.get(name) or name.removeprefix("in_"),
                             **{k: _num(v.get(k)) for k in ("S1", "S1_conf", "ST", "ST_conf")}})
    notes += [f"{arm}: {note}" for arm, note in (s.get("notes") or {}).items()]
    table = pd.DataFrame(rows, columns=["arm", "input", "S1", "S1_conf", "ST", "ST_conf"])
    if table["ST"].isna().all():
        table = table.drop(columns=["ST", "ST_conf"])
    return Sensitivity(str(s["method"]), str(s["output"]), table, str(s.get("warning") or ""), str(s.get("needs") or ""), notes)


def figures(db: str | Path) -> dict[str, bytes]:
    """``summarize --out``'s four figures as PNG bytes (money axis in the scenario's currency when known)."""
    d = load(db)
    if d.figures:
        return d.figures
    out = session.workdir() / f"figures-{uuid.uuid4().hex}"
    out.mkdir()
    try:
        with _figure_lock:
            paths = analysis.figures(d.frame, d.summary, out, labels=analysis.input_labels(d.manifest), currency=d.currency or None)
        d.figures = {p.stem: p.read_bytes() for p in paths}
    except Exception as exc:  # noqa: BLE001 - the tables still show
        raise ExploreError(f"the figures could not be drawn ({type(exc).__name__}: {exc})") from None
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return d.figures


# ------------------------------------------------------------------ shown as text


def _fmt(kind: str, unit: str, values: list[float]) -> numbers.Fmt:
    return numbers.fmt_for(values, kind, unit)


def shown_per_arm(frame: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """``per_arm`` as text: one format per metric (thousands separators, money scaled with its currency, shares in %)."""
    out = []
    for metric, group in frame.groupby("metric", sort=False):
        kind, unit = ("share", "%") if metric == "p_no_actor_below_standalone" else _unit(str(metric), currency)
        values = [float(v) for c in ("mean", "ci_low", "ci_high", "q05", "q50", "q95") for v in group[c]]
        f = _fmt(kind, unit, values)
        for _, r in group.iterrows():
            out.append({
                "arm": r.arm,
                "metric": "P(no actor below stand-alone)" if metric == "p_no_actor_below_standalone" else METRIC_LABELS.get(str(metric), metric),
                "unit": f.label or "-",
                "runs ok / failed": f"{int(r.ok):,} / {int(r.failed):,}",
                "mean": f(r["mean"]),
                "95 % CI": "n/a" if math.isnan(r.ci_low) else f"[{f(r.ci_low)}, {f(r.ci_high)}]",
                "5 %": "" if math.isnan(r.q05) else f(r.q05),
                "median": "" if math.isnan(r.q50) else f(r.q50),
                "95 %": "" if math.isnan(r.q95) else f(r.q95),
            })
    order = {a: i for i, a in enumerate(dict.fromkeys(frame.arm))}
    shown = pd.DataFrame(out)
    return shown.sort_values("arm", key=lambda s: s.map(order), kind="stable").reset_index(drop=True) if len(shown) else shown


def shown_paired(frame: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """``paired`` as text (differences: shares in % points, money with its currency)."""
    out = []
    for _, r in frame.iterrows():
        kind, unit = _unit(str(r.metric), currency)
        f = _fmt(kind, unit, [r["mean"], r.ci_low, r.ci_high])
        label = "% points" if kind == "share" else (f.label or "-")

        def sign(x: float, f: numbers.Fmt = f) -> str:
            text = f(x)
            return text if text in ("0", "n/a") or text.startswith("-") else f"+{text}"

        out.append({"metric": METRIC_LABELS.get(str(r.metric), r.metric), "unit": label, "pairs": f"{int(r.pairs):,}",
                    "mean difference": sign(r["mean"]),
                    "95 % CI": "n/a" if math.isnan(r.ci_low) else f"[{sign(r.ci_low)}, {sign(r.ci_high)}]"})
    return pd.DataFrame(out)


def shown_sensitivity(frame: pd.DataFrame) -> pd.DataFrame:
    """Indices with their 95 % half-widths (``0.42 ± 0.08``): a row per input, a column per arm (and index)."""
    if not len(frame):
        return pd.DataFrame(columns=["input"])
    cells = frame[["arm", "input"]].copy()
    kinds = [k for k in ("S1", "ST") if k in frame]
    for k in kinds:
        cells[k] = [f"{numbers.fixed(v, 2)} ± {numbers.fixed(c, 2)}" for v, c in zip(frame[k], frame[f"{k}_conf"], strict=True)]
    arms = list(dict.fromkeys(frame.arm))
    inputs = list(dict.fromkeys(frame.input))
    out = pd.DataFrame({"input": inputs})
    for arm in arms:
        mine = cells[cells.arm == arm].set_index("input")
        for k in kinds:
            title = f"{arm}: {k}" if len(kinds) > 1 else str(arm)
            out[title] = [mine[k].get(i, "") for i in inputs]
    return out
