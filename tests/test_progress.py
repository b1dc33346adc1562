"""One progress display (``symbiosim.progress``): on stderr, only where a person watches,
switched by ``symbiosim --progress / --no-progress``; never on stdout."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from symbiosim import progress as p
from tests.tiny import HEAT_LINK

EXE = Path(sys.executable).parent / "symbiosim"


@pytest.fixture(autouse=True)
def _unforced():
    before = p.forced()
    yield
    p.show(before)


def test_shown_follows_show_then_the_default_then_the_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    p.show(None)
    assert not p.shown() and p.shown(default=True)
    p.show(True)
    assert p.shown() and p.shown(default=False)
    p.show(False)
    assert not p.shown(default=True)


def test_shown_as_restores_what_was_set():
    p.show(False)
    with p.shown_as(True):
        assert p.forced() is True
    assert p.forced() is False
    with pytest.raises(RuntimeError), p.shown_as(None):
        raise RuntimeError
    assert p.forced() is False


def test_a_bar_writes_to_stderr_only_when_shown(monkeypatch, capsys):
    p.show(True)
    assert list(p.progress(range(3), desc="work")) == [0, 1, 2]
    out = capsys.readouterr()
    assert out.out == "" and "work" in out.err
    p.show(False)
    assert list(p.progress(range(3), desc="quiet")) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_the_cli_switch_sets_the_display_for_the_command_only(monkeypatch):
    from symbiosim import cli

    seen: list[bool | None] = []
    build = cli.build_parser

    def parser():  # every command reports what the display was set to while it ran
        parser = build()
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        sub.choices["doctor"].set_defaults(func=lambda args: seen.append(p.forced()) or 0)
        return parser

    monkeypatch.setattr(cli, "build_parser", parser)
    p.show(None)
    for argv, expected in ((["--progress", "doctor"], True), (["--no-progress", "doctor"], False), (["doctor"], None)):
        assert cli.main(argv) == 0
        assert seen[-1] is expected
        assert p.forced() is None  # restored for the next caller of main


def test_the_gap_decomposition_shows_its_64_runs(monkeypatch, capsys):
    """``compare``'s 64 simulator runs (``decompose_gap``) step one bar (runs stubbed: only the bar is tested)."""
    from types import SimpleNamespace

    from symbiosim.compare import decompose
    from tests.tiny import build

    runs: list[bool] = []
    monkeypatch.setattr(decompose, "simulate", lambda scenario, seed, **kw: runs.append(kw["facilitator"]) or SimpleNamespace(plan=len(runs)))
    monkeypatch.setattr(decompose, "evaluate", lambda scenario, plan: SimpleNamespace(kpis={"cluster_npv": float(plan)}))
    p.show(True)
    table = decompose.decompose_gap(build(HEAT_LINK), None, 100.0, seed=0)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert len(runs) == 64 and len(table) == 8
    assert "gap decomposition" in err and "/64 [" in err


def test_experiment_line_shows_unless_no_progress(tmp_path):
    path = tmp_path / "s.yaml"
    raw = {**HEAT_LINK, "uncertainty": [{"target": "purchases[product=gas].price", "dist": "uniform", "low": 0.5, "high": 1.5}]}
    path.write_text(yaml.safe_dump(raw))
    shown = subprocess.run([str(EXE), "experiment", str(path), "--samples", "2", "--out", str(tmp_path / "a.duckdb"), "--json"],
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"runs 2/2, failed 0", shown.stderr), shown.stderr  # stderr is a pipe: shown all the same
    assert json.loads(shown.stdout)["runs"] == 2
    quiet = subprocess.run([str(EXE), "--no-progress", "experiment", str(path), "--samples", "2", "--out", str(tmp_path / "b.duckdb")],
                           capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert "runs " not in quiet.stderr
