"""The web app's page (Solara): map, data, cases, runs and results of one scenario per browser tab.

Each browser tab is its own Solara session, so the reactive values below
(scenario, runs, results) are per tab: two tabs never share state. Runs go
to a worker process (``jobs.Job``); a thread of this session polls it, so
the page stays responsive and a run can be cancelled.
"""

from __future__ import annotations

import functools
import html
import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any

import ipyleaflet
import pandas as pd
import solara
import solara.lab
from reacton import ipywidgets as widgets

import symbiosim.report.numbers as numbers
from symbiosim.app import jobs, mapview, results, session
from symbiosim.app.experiments_tab import ExperimentsTab
from symbiosim.app.jobs import Job, JobState
from symbiosim.compare.incentives import INSTRUMENTS

SCENARIO_ENV = "SYMBIOSIM_APP_SCENARIO"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "orkanger.yaml"
MARKER_DEG = 0.0004  # about a marker's radius at the map's zoom (degrees of latitude; longitude twice that at 63 N)
RUN_LABELS = {"plan": "Plan (coordinated optimum)", "simulate": "Simulate (firms on their own)",
              "compare": "Compare", "incentives": "Incentives", "cases": "Case vs base"}


CSS = """
.sym-table { border-collapse: collapse; margin: 4px 0 12px 0; font-size: 0.9em; }
.sym-table th, .sym-table td { border-bottom: 1px solid #ddd; padding: 3px 10px; }
.sym-table th { text-align: left; background: #f4f4f4; }
"""


def _initial() -> tuple[dict[str, Any], str]:
    from symbiosim.scenario.load import load_scenario

    path = Path(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)
    return session.as_raw(load_scenario(path)), path.name


# ---- per-tab state (Solara scopes module-level reactives to the browser tab's session)
raw_data: solara.Reactive[dict[str, Any] | None] = solara.reactive(None)
source_name = solara.reactive("")
issues: solara.Reactive[list[Any]] = solara.reactive([])
upload_issues: solara.Reactive[list[Any]] = solara.reactive([])
job_state: solara.Reactive[JobState | None] = solara.reactive(None)
outcomes: solara.Reactive[dict[str, dict[str, Any]]] = solara.reactive({})  # run kind -> its result
selected_actor = solara.reactive("")
view = solara.reactive("coordinated")
year_index = solara.reactive(-1)  # -1: totals over the horizon
picked: solara.Reactive[tuple[float, float] | None] = solara.reactive(None)
fictive: solara.Reactive[set[str]] = solara.reactive(set())
case_specs: solara.Reactive[list[dict[str, Any]]] = solara.reactive([])
seed = solara.reactive(1)
instrument = solara.reactive("exchange_subsidy")
target = solara.reactive(0.8)
io_table = solara.reactive("")  # a bundled input-output table for ripple effects ("": none)
form: dict[str, solara.Reactive[Any]] = {  # the case form (kept while the user picks a place on the map)
    "firm": solara.reactive("new_firm"), "process": solara.reactive(""), "capacity": solara.reactive(1000.0),
    "entry": solara.reactive(10_000_000.0), "case_name": solara.reactive("my_case"), "price": solara.reactive(""),
    "price_factor": solara.reactive(1.0), "policy": solara.reactive(session.POLICIES[0]), "policy_value": solara.reactive(0.0),
    "problems": solara.reactive([]), "firm_prices": solara.reactive({}),  # "inputs:gas" -> price typed by the user
}
job_key: solara.Reactive[int | None] = solara.reactive(None)  # the running job of this tab, in _jobs
_jobs: dict[int, Job] = {}  # the process handles stay on the server; keys are never reused
_keys = itertools.count(1)


def _raw() -> dict[str, Any]:
    if raw_data.value is None:
        raw, name = _initial()
        raw_data.value, source_name.value = raw, name
    assert raw_data.value is not None
    return raw_data.value


def _money(x: Any, currency: str) -> str:
    """One amount as the CLI prints it (``report.numbers``: ``4,991 M NOK``; noise as 0)."""
    return numbers.money(x, currency)


def _money_column(values: Any, currency: str) -> list[str]:
    """A column of amounts in one scale (``report.numbers``), each with its currency."""
    vals = list(values)
    f = numbers.money_format(vals, currency)
    return [f.with_unit(v) for v in vals]


def Table(frame: pd.DataFrame, cls: str) -> None:
    """A plain HTML table (text escaped: actor names come from the scenario file); numbers right-aligned."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:{'right' if j else 'left'}'>{html.escape(str(v))}</td>" for j, v in enumerate(row)) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    solara.HTML(tag="div", unsafe_innerHTML=f"<table class='sym-table {cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


# ---------------------------------------------------------------- runs


def start(kind: str, options: dict[str, Any] | None = None, raw: dict[str, Any] | None = None) -> None:
    if job_state.value is not None and job_state.value.status == "running":
        return
    if kind in ("plan", "simulate", "compare", "incentives") and io_table.value:
        options = {**(options or {}), "io_table": io_table.value}
    job = Job(kind, raw if raw is not None else _raw(), options)
    key = next(_keys)
    _jobs[key] = job
    job_state.value = JobState(**job.state.__dict__)
    job_key.value = key


def cancel() -> None:
    job = _jobs.get(job_key.value or 0)
    if job is not None:
        job.cancel()
        job_state.value = JobState(**job.state.__dict__)  # a new object: the page re-renders


@solara.component
def RunPanel() -> None:
    state = job_state.value
    key = job_key.value

    def poll(cancelled: threading.Event) -> None:
        job = _jobs.get(key or 0)
        if job is None:
            return
        last = ""
        while not cancelled.is_set():
            job.poll()
            shown = f"{job.state.status}|{job.state.stage}|{int(job.state.seconds)}"
            if job.state.status == "done" and job.state.result is not None:  # results first: "done" shows them
                outcomes.value = {**outcomes.value, job.state.kind: job.state.result}
            if shown != last:
                last = shown
                job_state.value = JobState(**{**job.state.__dict__})
            if job.state.status != "running":
                _jobs.pop(key or 0, None)
                return
            time.sleep(0.2)

    solara.use_thread(poll, dependencies=[key], intrusive_cancel=False)
    if state is None:
        return
    with solara.Row(style={"align-items": "center"}, classes=["run-panel"]):
        if state.status == "running":
            solara.ProgressLinear(True)
            solara.Text(f"{RUN_LABELS.get(state.kind, state.kind)}: {state.stage} ({state.seconds:.0f} s)", classes=["run-status"])
            solara.Button("Cancel", on_click=cancel, color="error", outlined=True, classes=["cancel-run"])
        elif state.status == "done":
            solara.Success(f"{RUN_LABELS.get(state.kind, state.kind)} done in {state.seconds:.1f} s", dense=True, classes=["run-done"])
        elif state.status == "cancelled":
            solara.Warning(f"{RUN_LABELS.get(state.kind, state.kind)} cancelled after {state.seconds:.1f} s; nothing was kept",
                           dense=True, classes=["run-cancelled"])
        else:
            solara.Error(f"{RUN_LABELS.get(state.kind, state.kind)} failed: {state.error}", dense=True, classes=["run-failed"])


@solara.component
def RunButtons() -> None:
    busy = job_state.value is not None and job_state.value.status == "running"
    ok = not issues.value
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Plan", on_click=lambda: start("plan"), disabled=busy or not ok, color="primary", classes=["run-plan"])
        solara.InputInt("Seed", value=seed, style={"max-width": "6em"}, classes=["seed"])
        solara.Button("Simulate", on_click=lambda: start("simulate", {"seed": seed.value}), disabled=busy or not ok, classes=["run-simulate"])
        solara.Button("Compare", on_click=lambda: start("compare", {"seed": seed.value}), disabled=busy or not ok, classes=["run-compare"])
        solara.Select("Instrument", value=instrument, values=list(INSTRUMENTS), style={"max-width": "14em"}, classes=["instrument"])
        solara.InputFloat("Target share", value=target, style={"max-width": "7em"}, classes=["target"])
        bad_target = not 0.0 <= float(target.value or 0.0) <= 1.0
        solara.Button("Incentives", on_click=lambda: start("incentives", {"seed": seed.value, "instrument": instrument.value,
                                                                          "target": target.value}),
                      disabled=busy or not ok or bad_target, classes=["run-incentives"])
        if bad_target:
            solara.Text("target share: a number in [0, 1]", style={"color": "#b00020"})
        solara.Select("Ripple effects", value=io_table, values=["", *results.IO_TABLES], style={"min-width": "18em"},
                      classes=["io-table"])


# ---------------------------------------------------------------- map


def _flows_for_view() -> tuple[str, list[dict[str, Any]]]:
    run = "optimum" if view.value == "coordinated" else "decentralised"
    for kind in ("compare", "plan" if run == "optimum" else "simulate", "incentives"):
        src = outcomes.value.get(kind, {}).get("sources", {}).get(run)
        if src:
            return run, src["flows"]
    return run, []


@solara.component
def ClusterMap() -> None:
    raw = _raw()
    start_year = int((raw.get("settings") or {}).get("start_year", 2025))
    horizon = int((raw.get("settings") or {}).get("years", 1))
    run, flows = _flows_for_view()
    year = None if year_index.value < 0 else year_index.value
    with_cases = mapview.with_case_actors(raw, case_specs.value)  # the cases' fictive firms on the map too
    marks = mapview.markers(with_cases, fictive.value)
    centre, zoom = mapview.view(raw)

    layers: list[Any] = [ipyleaflet.TileLayer.element(url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                                       attribution="© OpenStreetMap contributors", max_zoom=19)]
    for _sender, _receiver, _product, kind, pts in mapview.links(raw):
        layers.append(ipyleaflet.Polyline.element(locations=[list(pts[0]), list(pts[1])], color=mapview.LINK_COLOURS[kind], weight=2,
                                                  dash_array=None if kind == "existing" else "4 6", fill=False, opacity=0.8))
    for arrow in mapview.arrows(with_cases, flows, year, run):
        layers.append(ipyleaflet.Polyline.element(locations=[list(p) for p in arrow.points], color=arrow.colour, weight=arrow.weight,
                                                  fill=False, opacity=0.75, name=f"{arrow.sender}->{arrow.receiver} {arrow.product}"))
    marker_elements = []
    for m in marks:
        el = ipyleaflet.CircleMarker.element(location=[m.lat, m.lon], radius=9, color="#222222", weight=1, fill_color=m.colour,
                                             fill_opacity=0.9, name=m.actor)
        marker_elements.append((m.actor, el))
        layers.append(el)
    if picked.value is not None:
        layers.append(ipyleaflet.CircleMarker.element(location=list(picked.value), radius=6, color="#9467bd", fill_color="#ffffff",
                                                      fill_opacity=1.0, name="picked"))
    legend = {"existing actor": mapview.KIND_COLOURS["existing"], "candidate actor": mapview.KIND_COLOURS["candidate"],
              "fictive firm": mapview.KIND_COLOURS["fictive"], f"{mapview.RUN_LABELS[run]} flow": mapview.RUN_COLOURS[run],
              "link": mapview.LINK_COLOURS["existing"]}
    controls = [ipyleaflet.LegendControl.element(legend=legend, title="Legend", position="bottomright")]
    lmap = ipyleaflet.Map.element(center=list(centre), zoom=zoom, layers=layers, controls=controls, scroll_wheel_zoom=True,
                                  layout={"height": "520px", "width": "100%"})

    def attach() -> Any:
        """Click handlers on the live widgets (an element not shown, e.g. in a hidden tab, has none yet)."""
        handlers: list[tuple[Any, Any]] = []

        def interact(**kwargs: Any) -> None:
            if kwargs.get("type") == "click" and kwargs.get("coordinates"):
                lat, lon = (float(c) for c in kwargs["coordinates"])
                # a click on an actor's marker reaches the map too: it selects the actor, it picks no place
                if not any(abs(lat - m.lat) < MARKER_DEG and abs(lon - m.lon) < 2 * MARKER_DEG for m in marks):
                    picked.value = (round(lat, 5), round(lon, 5))

        try:
            map_widget = solara.get_widget(lmap)
        except KeyError:
            return None
        map_widget.on_interaction(interact)
        for actor, el in marker_elements:
            try:
                widget = solara.get_widget(el)
            except KeyError:
                continue

            def clicked(actor: str = actor, **kwargs: Any) -> None:
                selected_actor.value = actor

            widget.on_click(clicked)
            handlers.append((widget, clicked))

        def detach() -> None:
            for widget, fn in handlers:
                widget.on_click(fn, remove=True)
            map_widget.on_interaction(interact, remove=True)

        return detach

    solara.use_effect(attach, [len(marker_elements), id(lmap)])

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.ToggleButtonsSingle(value=view, values=["coordinated", "decentralised"], classes=["view-toggle"])
        with solara.Div(classes=["year-slider"], style={"min-width": "280px"}):
            solara.SliderInt("Year", value=year_index, min=-1, max=max(0, horizon - 1), step=1, thumb_label=False)
        solara.Text("all years (totals)" if year is None else str(start_year + year), classes=["year-label"])
    with solara.Columns([3, 1]):
        with solara.Column():
            solara.Div(children=[lmap], classes=["cluster-map"])
            if not flows:
                solara.Info(f"No {mapview.RUN_LABELS[run]} flows yet: run "
                            f"{'Plan' if run == 'optimum' else 'Simulate'} or Compare.", dense=True)
        with solara.Column():
            ActorCard()
            with solara.Div(classes=["actor-list"]):
                solara.Markdown("\n".join(f"- **{m.name}** ({m.kind})" for m in marks))


@solara.component
def ActorCard() -> None:
    actor = selected_actor.value
    if not actor:
        solara.Info("Click an actor on the map to see its accounts.", dense=True)
        return
    currency = str((_raw().get("settings") or {}).get("currency", ""))
    rows = []
    names = {"baseline": "stand-alone", "decentralised": "decentralised", "optimum": "coordinated"}
    for src, label in names.items():
        value = None
        for outcome in outcomes.value.values():
            profit = outcome.get("sources", {}).get(src, {}).get("profit", {})
            if actor in profit:
                value = profit[actor]
        rows.append(f"| {label} | {_money(value, currency)} |")
    with solara.Card(title=actor, classes=["actor-card"]):
        solara.Markdown("| profit (NPV) | |\n|---|---:|\n" + "\n".join(rows))


# ---------------------------------------------------------------- results


@solara.component
def KeyFigures() -> None:
    raw = _raw()
    currency = str((raw.get("settings") or {}).get("currency", ""))
    latest = outcomes.value.get("compare") or outcomes.value.get("incentives") or outcomes.value.get("plan") or outcomes.value.get("simulate")
    if latest is None:
        solara.Info("No results yet: press Plan, Simulate or Compare.", dense=True)
        return
    merged: dict[str, Any] = {"sources": {}}
    for kind in ("simulate", "plan", "incentives", "compare"):
        merged["sources"].update(outcomes.value.get(kind, {}).get("sources", {}))
    table = results.key_figures(merged)
    units = {"cluster_npv": currency, "value_added": currency, "public_cost": currency, "jobs": "jobs", "emissions": "t CO2e"}
    shown = table.copy()
    for col in shown.columns[1:]:
        shown[col] = [(_money(v, currency) if units[k] == currency else numbers.quantity(v, units[k]))
                      for k, v in zip(table["key figure"], table[col], strict=True)]
    shown["key figure"] = shown["key figure"].str.replace("_", " ")
    solara.Markdown("#### Key figures (table 12)")
    Table(shown, "key-figures")
    if "compare" in outcomes.value or "incentives" in outcomes.value:
        share = (outcomes.value.get("compare") or outcomes.value["incentives"]).get("share_of_potential")
        with solara.Div(classes=["share"]):
            solara.Markdown(f"**Share of potential realised by the firms on their own:** "
                            f"{'–' if share is None else f'{share:.1%}'}")


@solara.component
def RippleEffects() -> None:
    """Value added and jobs beyond the actors' own, per outcome (when a run had an input-output table)."""
    merged: dict[str, Any] = {"sources": {}}
    table_names = set()
    for kind in ("simulate", "plan", "incentives", "compare"):
        outcome = outcomes.value.get(kind, {})
        merged["sources"].update({k: v for k, v in outcome.get("sources", {}).items() if v.get("effects")})
        if outcome.get("io_table"):
            table_names.add(outcome["io_table"])
    if not merged["sources"]:
        return
    currency = str((_raw().get("settings") or {}).get("currency", ""))
    solara.Markdown(f"#### Ripple effects ({', '.join(sorted(table_names))})")
    solara.Markdown("Direct: the actors' own; indirect: what their sectors' purchases create in the supplying sectors, "
                    "round after round; induced: the households spending the wages. Regional by Flegg's location quotient.")
    for name, label in (("value_added", f"value added, NPV ({currency})"), ("jobs", "jobs, mean per year")):
        frame = results.ripple(merged, name)
        shown = frame.copy()
        for col in shown.columns[1:]:
            shown[col] = (_money_column(frame[col], currency) if name == "value_added"
                          else [numbers.quantity(v, "jobs/yr") for v in frame[col]])
        solara.Markdown(f"**{label}**")
        Table(shown, f"ripple-{name.replace('_', '-')}")


@solara.component
def Incentives() -> None:
    done = outcomes.value.get("incentives", {}).get("incentives")
    if not done:
        return
    solara.Markdown("#### Incentives")
    with solara.Div(classes=["incentive-verdict"]):
        solara.Preformatted(done["summary"])
    if done.get("figure"):
        solara.Image(done["figure"], width="560px")


@solara.component
def WinnersLosers() -> None:
    compared = outcomes.value.get("compare") or outcomes.value.get("incentives")
    currency = str((_raw().get("settings") or {}).get("currency", ""))
    if compared is None:
        solara.Info("Run Compare to see winners and losers, transfers and the core.", dense=True)
        return
    actors = pd.DataFrame(compared["actors"])
    table = pd.DataFrame({
        "actor": actors.actor,
        "stand-alone": _money_column(actors.baseline_profit, currency),
        "decentralised": _money_column(actors.decentralised_profit, currency),
        "coordinated": _money_column(actors.coordinated_profit, currency),
        "decentralised vs stand-alone": _money_column(actors.decentralised_profit - actors.baseline_profit, currency),
    })
    solara.Markdown("#### Winners and losers per actor (NPV)")
    Table(table, "winners-losers")
    alloc = pd.DataFrame(compared["allocation"]).T
    if len(alloc):
        shown = alloc.map(lambda v: _money(v, currency))
        solara.Markdown("#### Transfers under each sharing rule (+ receives, − pays)")
        Table(shown.rename_axis("rule").reset_index(), "transfers")
    figures = compared.get("figures") or {}
    if figures:
        solara.Markdown("#### Figures (as `compare --out` draws them)")
        with solara.Row(style={"flex-wrap": "wrap"}, classes=["result-figures"]):
            for name, png in figures.items():
                solara.Image(png, width="560px", classes=[f"figure-{name}"])
    core = compared.get("core") or {}
    in_core = core.get("in_core") or {}
    solara.Markdown("#### Core check\n" + ("The core is empty: no split keeps every coalition in; "
                                          f"the least subsidy that fills it is {_money(core.get('least_subsidy'), currency)}."
                                          if core.get("empty") else "The core is not empty.")
                    + "".join(f"\n- {rule}: {'in the core' if ok else 'outside the core'}" for rule, ok in in_core.items()))


# ---------------------------------------------------------------- data


@solara.component
def DataEditor() -> None:
    raw = _raw()
    table = solara.use_reactive("actors")
    tables = ["settings", "policies", *[t for t in session.ROW_TABLES if raw.get(t)]]

    def edit(index: int, column: str, text: str) -> None:
        new = session.set_cell(_raw(), table.value, index, column, text)
        raw_data.value = new
        issues.value = session.check(new)[1]

    def opened(name: str, data: bytes) -> None:
        new, found = session.read_upload(name, data)
        upload_issues.value = found
        if new is not None:
            raw_data.value, source_name.value = new, Path(name).name
            issues.value, outcomes.value, fictive.value, case_specs.value = [], {}, set(), []

    def dropped(info: Any) -> None:  # the size is known before any byte is read
        size = int(info.get("size") or 0)
        data = info["file_obj"].read(session.UPLOAD_LIMIT + 1) if size <= session.UPLOAD_LIMIT else b"x" * (session.UPLOAD_LIMIT + 1)
        opened(str(info.get("name") or "upload"), data)

    def picked_files(files: Any) -> None:
        for f in files or ():
            opened(str(f.get("name") or "upload"), bytes(f.get("content") or b""))

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.FileDrop(label="Drop a scenario file here (.yaml or .xlsx) to open it", on_file=dropped, lazy=True)
        with solara.Div(classes=["upload-button"]):
            widgets.FileUpload(accept=",".join(session.SUFFIXES), multiple=False, description="Open a file…", on_value=picked_files)
        solara.FileDownload(lambda: session.to_yaml(_raw()), filename=f"{Path(source_name.value).stem or 'scenario'}.yaml",
                            label="Download YAML")
        scenario = session.check(_raw())[0]
        if scenario is not None:
            solara.FileDownload(lambda: session.to_xlsx(scenario), filename=f"{Path(source_name.value).stem or 'scenario'}.xlsx",
                                label="Download Excel")
    if upload_issues.value:
        solara.Error(f"{len(upload_issues.value)} problem(s) in {upload_issues.value[0].source or 'the uploaded file'}; "
                     "the scenario in the app is unchanged:", dense=True)
        with solara.Div(classes=["upload-issues"]):
            solara.Markdown("\n".join(f"- `{i.location()}`: {i.message}" for i in upload_issues.value[:50]))
    if issues.value:
        solara.Warning(f"{len(issues.value)} problem(s): runs are off until they are fixed.", dense=True, classes=["data-issues"])
    solara.Select("Table", value=table, values=tables)
    rows = session.table_rows(raw, table.value)
    columns = list(dict.fromkeys(c for r in rows for c in r))
    with solara.Div(style={"overflow-x": "auto"}):
        for i, row in enumerate(rows):
            with solara.Row(style={"flex-wrap": "nowrap", "align-items": "flex-start"}):
                solara.Text(str(i + 1), style={"min-width": "2em"})
                for c in columns:
                    messages = session.issues_at(issues.value, raw, table.value, i, c)
                    with solara.Column(style={"min-width": "9em"}, gap="0px"):
                        solara.InputText(c, value=session.show_cell(row.get(c)), continuous_update=True,
                                         on_value=functools.partial(edit, i, c), error=bool(messages),
                                         classes=[f"cell-{table.value}-{i}-{c}"])
                        for m in messages:
                            solara.Text(m, style={"color": "#b00020", "font-size": "0.8em"}, classes=["cell-error"])


# ---------------------------------------------------------------- cases


def _set_price(prices: solara.Reactive[Any], key: str, value: float | None) -> None:
    prices.set({**prices.value, key: value if value is not None else 0.0})


@solara.component
def Cases() -> None:
    raw = _raw()
    currency = str((raw.get("settings") or {}).get("currency", ""))
    processes = [p["id"] for p in raw.get("processes") or []]
    prices = session.price_targets(raw)
    firm, process, capacity, entry = form["firm"], form["process"], form["capacity"], form["entry"]
    case_name, price, price_factor = form["case_name"], form["price"], form["price_factor"]
    policy, policy_value, problems = form["policy"], form["policy_value"], form["problems"]
    firm_prices = form["firm_prices"]
    if process.value not in processes and processes:
        process.value = processes[0]
    if price.value not in prices and prices:
        price.value = prices[0]

    def extend(**kwargs: Any) -> None:
        specs = session.merge_case(case_specs.value, case_name.value, **kwargs)
        spec = next(s for s in specs if s["name"] == case_name.value)
        found = session.check_case(raw, spec)
        problems.value = [f"{i.location()}: {i.message}" for i in found]
        if not found:
            case_specs.value = specs

    def add_firm() -> None:
        lat, lon = picked.value or (0.0, 0.0)
        try:
            defaults = session.recipe_prices(raw, process.value)
            chosen = {side: {x: float(firm_prices.value.get(f"{side}:{x}", v)) for x, v in sides.items()}
                      for side, sides in defaults.items()}
            add = session.fictive_firm(raw, firm=firm.value, lat=lat, lon=lon, process=process.value, capacity=capacity.value,
                                       entry_cost=entry.value, prices=chosen)
        except Exception as exc:  # a ScenarioError with its location
            problems.value = [str(exc)]
            return
        extend(add=add, description=f"{firm.value} runs {process.value}")
        if not problems.value:
            fictive.value = {*fictive.value, firm.value}

    solara.Markdown("A case is the base scenario with changes: a fictive firm, a price, a policy. "
                    "**Rerun** solves the base and every case and compares them in the report's tables 11 and 12.")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.InputText("Case name", value=case_name, classes=["case-name"])
        if case_specs.value:
            with solara.Div(classes=["case-list"]):
                solara.Markdown("Cases: " + ", ".join(f"`{s['name']}`" for s in case_specs.value))
    with solara.Card("A fictive firm", classes=["case-firm"]):
        solara.Markdown("Click the map above to place it. It buys its inputs and sells its outputs at the "
                        "prices the scenario's other actors pay and get; other firms may supply or take them instead.")
        solara.Text(f"Location: {picked.value[0]:.5f}, {picked.value[1]:.5f}" if picked.value else "Location: not picked yet",
                    classes=["picked-location"])
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.InputText("Firm id", value=firm, classes=["firm-id"])
            solara.Select("Recipe", value=process, values=processes, classes=["firm-recipe"])
            solara.InputFloat("Capacity (activity/yr)", value=capacity, classes=["firm-capacity"])
            solara.InputFloat(f"Entry cost ({currency})", value=entry, classes=["firm-entry"])
        units = {x["id"]: x.get("unit", "unit") for x in raw.get("products") or []}
        defaults = session.recipe_prices(raw, process.value)
        with solara.Row(style={"flex-wrap": "wrap"}, classes=["firm-prices"]):
            for side, sides in defaults.items():
                for x, v in sides.items():
                    key = f"{side}:{x}"
                    label = f"{'buys' if side == 'inputs' else 'sells'} {x} at ({currency}/{units.get(x, 'unit')})"
                    solara.InputFloat(label, value=float(firm_prices.value.get(key, v)), style={"max-width": "16em"},
                                      on_value=functools.partial(_set_price, firm_prices, key))
        solara.Button("Add the firm to the case", on_click=add_firm, disabled=picked.value is None, classes=["add-firm"])
    with solara.Card("A price", classes=["case-price"]):
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Select("Price", value=price, values=prices, style={"min-width": "26em"}, classes=["price-target"])
            solara.InputFloat("times", value=price_factor, style={"max-width": "7em"}, classes=["price-factor"])
        solara.Button("Add the price change to the case", disabled=not prices, classes=["add-price"],
                      on_click=lambda: extend(set_={"target": price.value, "factor": float(price_factor.value)},
                                              description=f"{price.value} x {price_factor.value:g}"))
    with solara.Card("A policy", classes=["case-policy"]):
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Select("Instrument", value=policy, values=list(session.POLICIES), classes=["policy"])
            solara.InputFloat(f"Level ({currency}/unit, {currency}/t CO2e, or a share for investment_subsidy)", value=policy_value,
                              style={"min-width": "24em"}, classes=["policy-value"])
        solara.Button("Add the policy to the case", classes=["add-policy"],
                      on_click=lambda: extend(policies={policy.value: float(policy_value.value)},
                                              description=f"{policy.value} {policy_value.value:g}"))
    busy = job_state.value is not None and job_state.value.status == "running"
    with solara.Row():
        solara.Button("Rerun: cases vs base", on_click=lambda: start("cases", {"cases": case_specs.value}),
                      disabled=busy or not case_specs.value, color="primary", classes=["run-cases"])
        if case_specs.value:
            solara.FileDownload(lambda: session.cases_yaml(case_specs.value), filename="cases.yaml",
                                label="Save the cases (YAML for symbiosim cases)")
    for problem in problems.value:
        solara.Error(problem, dense=True, classes=["case-problem"])
    done = outcomes.value.get("cases")
    if done:
        comp = pd.DataFrame(done.get("comparison", []))
        if len(comp):
            solara.Markdown("#### Key figures per case (table 12)")
            money = [c for c in ("cluster_profit", "value_added_regional", "value_added_national", "public_cost") if c in comp]
            shown = comp.copy()
            for c in money:
                shown[c] = _money_column(comp[c], currency)
            Table(shown, "case-comparison")
        dist = pd.DataFrame(done.get("distribution", []))
        if len(dist):
            ex = dist[dist.channel == "exchange"].groupby(["case_id", "actor", "receiver", "product"], as_index=False).quantity.sum()
            ex["quantity"] = [numbers.number(v) for v in ex.quantity]
            solara.Markdown("#### Who sends what to whom (table 11, totals over the horizon)")
            Table(ex, "case-distribution")


# ---------------------------------------------------------------- page


@solara.component
def Page() -> None:
    raw = _raw()
    solara.use_effect(jobs.prewarm, [])
    settings = raw.get("settings") or {}
    solara.Title("symbiosim")
    solara.Style(CSS)
    with solara.AppBar():
        solara.Text(f"symbiosim · {settings.get('name', '')} · {source_name.value}", classes=["app-title"])
    with solara.Column(style={"padding": "12px"}):
        RunButtons()
        RunPanel()
        ClusterMap()  # always on screen (Leaflet cannot lay out a map in a hidden tab); a place is picked while a case is edited
        with solara.lab.Tabs(lazy=True):  # only the open tab is drawn
            with solara.lab.Tab("Results"):
                KeyFigures()
                RippleEffects()
                WinnersLosers()
                Incentives()
            with solara.lab.Tab("Data"):
                DataEditor()
            with solara.lab.Tab("Cases"):
                Cases()
            with solara.lab.Tab("Experiments"):
                ExperimentsTab()
