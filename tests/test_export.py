"""``symbiosim export``: a scenario (YAML or workbook) as a workbook that loads back to the same scenario."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings

from symbiosim.cli import main
from symbiosim.scenario import load_scenario, scenario_from_dict
from symbiosim.scenario.excel import export_workbook
from tests.test_properties import clusters

ROOT = Path(__file__).resolve().parents[1]
ORKANGER = ROOT / "scenarios" / "orkanger.yaml"


def test_export_orkanger_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "orkanger.xlsx"
    assert main(["export", str(ORKANGER), str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    original = load_scenario(ORKANGER)
    back = load_scenario(out)
    assert back == original
    assert back.to_dict() == original.to_dict()
    assert openpyxl.load_workbook(out, read_only=True).sheetnames[0] == "README"
    # a workbook exports to a workbook too, and again to the same scenario
    again = tmp_path / "again.xlsx"
    assert main(["export", str(out), str(again)]) == 0
    assert load_scenario(again) == original


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.function_scoped_fixture])
@given(raw=clusters())
def test_export_round_trip_of_random_scenarios(tmp_path: Path, raw: dict[str, Any]) -> None:
    original = scenario_from_dict(copy.deepcopy(raw))
    out = export_workbook(original, tmp_path / "random.xlsx", overwrite=True)
    assert load_scenario(out) == original


def test_export_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"mine")
    assert main(["export", str(ORKANGER), str(out)]) == 2
    assert "already exists; use --force" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"
    assert main(["export", str(ORKANGER), str(out), "--force"]) == 0
    assert load_scenario(out) == load_scenario(ORKANGER)
    assert [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{orkanger}", "{tmp}/x.csv"], "expected a file name ending in .xlsx"),
        (["{orkanger}", "{tmp}/missing/x.xlsx"], "does not exist"),
        (["{tmp}/nope.yaml", "{tmp}/x.xlsx"], "no such file"),
        (["{orkanger}", "{tmp}"], "expected a file name ending in .xlsx"),
    ],
)
def test_export_argument_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    argv = ["export", *(a.format(orkanger=ORKANGER, tmp=tmp_path) for a in args)]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_export_of_an_invalid_scenario_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("settings: {name: bad}\n", encoding="utf-8")
    assert main(["export", str(bad), str(tmp_path / "x.xlsx")]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()
