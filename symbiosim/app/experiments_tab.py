"""The Experiments tab (Solara): open a results database of ``symbiosim experiment`` and browse it.

Distributions per arm, paired differences between two arms, sensitivity
indices with their warning, and the figures of ``symbiosim summarize``; the
data side is ``explore`` (plain functions). The database is uploaded (stored
under a made-up name in the app's working folder) or picked by name among the
``.duckdb`` files already there; the browser never names a path.

``ExperimentsTab`` is the tab's content; ``Page`` serves it alone:
``solara run symbiosim.app.experiments_tab``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
import solara
from reacton import ipywidgets as widgets

from symbiosim.app import explore

CSS = """
.sym-table { border-collapse: collapse; margin: 4px 0 12px 0; font-size: 0.9em; }
.sym-table th, .sym-table td { border-bottom: 1px solid #ddd; padding: 3px 10px; }
.sym-table th { text-align: left; background: #f4f4f4; }
.sym-table td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.experiment-figures img { max-width: 100%; border: 1px solid #eee; margin: 4px 0; }
"""


def _table(frame: pd.DataFrame, cls: str, right: tuple[str, ...] = ()) -> None:
    """A plain HTML table (text escaped: arm and input names come from the uploaded file); ``right``: numeric columns."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td class='{'num' if c in right else 'text'}'>{html.escape(str(v))}</td>"
                         for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    solara.HTML(tag="div", unsafe_innerHTML=f"<table class='sym-table {cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _md(text: Any) -> str:
    """Text from the database shown in Markdown: escaped, so it stays text."""
    return html.escape(str(text)).replace("*", "\\*").replace("_", "\\_").replace("`", "\\`").replace("[", "\\[")


@solara.component
def ExperimentsTab() -> None:
    chosen = solara.use_reactive("")  # a name in explore.databases()
    problem = solara.use_reactive("")
    uploaded_as = solara.use_reactive("")  # the browser's file name of the last upload (shown only)
    arm_a = solara.use_reactive("")
    arm_b = solara.use_reactive("")

    def stored(path: Path, name: str) -> None:
        problem.value = ""
        uploaded_as.value = Path(name).name
        chosen.value = path.name
        arm_a.value = arm_b.value = ""

    def picked_files(files: Any) -> None:
        for f in files or ():
            name = str(f.get("name") or "upload")
            size = int(f.get("size") or 0)
            try:
                if size > explore.UPLOAD_LIMIT:
                    raise explore.ExploreError(f"{Path(name).name} is {size:,} bytes, more than the app's limit of {explore.UPLOAD_LIMIT:,} bytes")
                stored(explore.save_upload(name, bytes(f.get("content") or b"")), name)
            except explore.ExploreError as exc:
                problem.value = str(exc)

    def dropped(info: Any) -> None:  # read in chunks; the size is known before any byte is read
        name = str(info.get("name") or "upload")
        try:
            stored(explore.save_stream(name, info["file_obj"], int(info.get("size") or 0)), name)
        except explore.ExploreError as exc:
            problem.value = str(exc)

    def select(name: str | None) -> None:
        problem.value, uploaded_as.value = "", ""
        chosen.value = name or ""
        arm_a.value = arm_b.value = ""

    solara.Style(CSS)
    solara.Markdown("Open a results database written by `symbiosim experiment` (`.duckdb`): the numbers and figures "
                    "of `symbiosim summarize`. Upload it, or pick one already in the app's working folder. "
                    f"The button takes files up to {explore.BUTTON_LIMIT // 2**20} MiB; drop larger ones "
                    f"(up to {explore.UPLOAD_LIMIT // 2**20} MiB) on the drop zone.")
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.FileDrop(label="Drop an experiment database (.duckdb) here", on_file=dropped, lazy=True)
        with solara.Div(classes=["experiment-upload"]):
            widgets.FileUpload(accept=explore.SUFFIX, multiple=False, description="Open a database…", on_value=picked_files)
        names = explore.databases()
        if names:
            solara.Select("Database in the working folder", values=names, value=chosen.value if chosen.value in names else None,
                          on_value=select, classes=["experiment-select"], style={"min-width": "360px"})
    if problem.value:
        solara.Error(problem.value, dense=True, classes=["experiment-error"])
    if not chosen.value:
        solara.Info("No database open yet.", dense=True)
        return
    try:
        db = explore.resolve(chosen.value)
        info = explore.overview(db)
    except explore.ExploreError as exc:
        solara.Error(str(exc), dense=True, classes=["experiment-error"])
        return
    currency = info["currency"]
    Overview(info, uploaded_as.value or chosen.value)
    try:
        solara.Markdown("#### Per arm: distributions (mean with 95 % bootstrap CI over samples; quantiles over runs)")
        _table(explore.shown_per_arm(explore.per_arm(db), currency), "per-arm",
               right=("runs ok / failed", "mean", "95 % CI", "5 %", "median", "95 %"))
        if not currency:
            solara.Text("Money without its currency: the experiment's scenario file is not one the app reads "
                        "(a bundled scenario or one in its working folder).", style={"font-size": "0.85em"})
        Paired(db, currency, arm_a, arm_b)
        SensitivityPanel(db)
        Figures(db)
    except explore.ExploreError as exc:
        solara.Error(str(exc), dense=True, classes=["experiment-error"])


@solara.component
def Overview(info: dict[str, Any], shown_name: str) -> None:
    runs = f"{info['runs']:,} runs: {info['ok']:,} ok, {info['failed']:,} failed"
    if info["no_baseline"]:
        runs += f", {info['no_baseline']:,} without a stand-alone baseline"
    if info["unfinished"]:
        runs += f", {info['unfinished']:,} not run yet"
    lines = [
        f"### Experiment {_md(info['experiment'])}",
        f"- **File:** {_md(shown_name)}",
        f"- **Scenario:** {_md(info['scenario'])}" + (f" (money in {_md(info['currency'])})" if info["currency"] else ""),
        f"- **Design:** {_md(info['method'])}, {info['samples']:,} samples × {info['replications']:,} replication(s)",
        f"- **Arms:** {', '.join(_md(a) for a in info['arms'])}",
        f"- **Uncertain inputs:** {', '.join(_md(i) for i in info['inputs']) or 'none'}",
        f"- **Runs:** {runs}",
    ]
    with solara.Div(classes=["experiment-overview"]):
        solara.Markdown("\n".join(lines))


@solara.component
def Paired(db: Path, currency: str, arm_a: solara.Reactive[str], arm_b: solara.Reactive[str]) -> None:
    arms = explore.arms(db)
    solara.Markdown("#### Paired differences (same samples and seeds; mean per sample, 95 % bootstrap CI)")
    if len(arms) < 2:
        solara.Info("One arm only: no differences to show.", dense=True)
        return
    ref = explore.reference(db)
    a = arm_a.value if arm_a.value in arms else next(x for x in arms if x != ref)
    b = arm_b.value if arm_b.value in arms else ref

    def set_a(new: str) -> None:  # picking the other side's arm swaps the two
        arm_a.value, arm_b.value = new, (a if new == b else b)

    def set_b(new: str) -> None:
        arm_a.value, arm_b.value = (b if new == a else a), new

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select("Arm", values=arms, value=a, on_value=set_a, classes=["paired-a"], style={"max-width": "240px"})
        solara.Text("minus")
        solara.Select("Reference arm", values=arms, value=b, on_value=set_b, classes=["paired-b"], style={"max-width": "240px"})
    if a == b:
        solara.Warning("Pick two different arms.", dense=True)
        return
    solara.Text(f"{a} − {b}", classes=["paired-title"], style={"font-weight": "bold"})
    _table(explore.shown_paired(explore.paired(db, a, b), currency), "paired", right=("pairs", "mean difference", "95 % CI"))


@solara.component
def SensitivityPanel(db: Path) -> None:
    s = explore.sensitivity(db)
    solara.Markdown(f"#### Sensitivity of the {s.output} to the uncertain inputs\n{_md(s.method)}; "
                    "S1: share of the output's variance explained by an input alone"
                    + ("; ST: including its interactions" if "ST" in s.table else "") + " (± 95 % half-width).")
    with solara.Div(classes=["sensitivity"]):
        if s.warning:
            solara.Warning(f"Indices not to be trusted: {s.warning.removeprefix('indices not to be trusted: ')}", dense=True,
                           classes=["sensitivity-warning"])
        for note in s.notes:
            solara.Info(note, dense=True)
        if len(s.table):
            shown = explore.shown_sensitivity(s.table)
            _table(shown, "sensitivity-table", right=tuple(c for c in shown.columns if c != "input"))


@solara.component
def Figures(db: Path) -> None:
    solara.Markdown("#### Figures (as `symbiosim summarize --out` draws them)")
    try:
        pngs = explore.figures(db)
    except explore.ExploreError as exc:
        solara.Error(str(exc), dense=True)
        return
    with solara.Row(classes=["experiment-figures"], style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for name in explore.FIGURES:
            if name in pngs:
                with solara.Div(classes=[f"figure-{name}"], style={"width": "660px"}):
                    solara.Image(pngs[name], width="100%")


@solara.component
def _Standalone() -> None:
    solara.Title("symbiosim · experiments")
    with solara.Column(style={"padding": "12px"}):
        ExperimentsTab()


Page = _Standalone  # ``solara run symbiosim.app.experiments_tab`` serves the tab alone
