"""Input-output multipliers (symbiosim.ripple): textbook answers derived by hand, located
errors of broken files, the CLI's JSON, and properties of every productive economy.

The two-sector example (docs/scenario-format.md, "Input-output table"; it is Miller &
Blair's 2009 example, Z = [[150, 500], [200, 100]], x = [1000, 2000]) by hand:

    A = Z x̂⁻¹ = [[150/1000, 500/2000], [200/1000, 100/2000]] = [[.15, .25], [.20, .05]]
    I - A = [[.85, -.25], [-.20, .95]], det = .85 .95 - .25 .20 = .8075 - .05 = .7575
    L = (1/.7575) [[.95, .25], [.20, .85]] = [[1.254125, .330033], [.264026, 1.122112]]
    output multipliers (column sums) 1.15/.7575 = 1.518152, 1.10/.7575 = 1.452145
    v = VA/x = [.65, .70]: value added 0.65 1.254125 + 0.70 .264026 = 1.000000 and
    0.65 .330033 + 0.70 1.122112 = 1.000000 (no imports: every unit of final demand
    ends as value added in the economy)
    e = employment/x = [10/1000, 30/2000] = [.010, .015] per NOK million:
    .010 1.254125 + .015 .264026 = .016502; .010 .330033 + .015 1.122112 = .020132

    Type II (households closed in): h_r = wages/x = [.30, .35], income 1000,
    h_c = consumption/income = [.10, .40]. The sector block of (I - Ā)⁻¹ is
    (I - A - h_c h_r)⁻¹ (household-household 0); h_c h_r = [[.03, .035], [.12, .14]],
    I - A - h_c h_r = [[.82, -.285], [-.32, .81]], det = .6642 - .0912 = .573,
    inverse = (1/.573) [[.81, .285], [.32, .82]]: output multipliers 1.13/.573 = 1.972077,
    1.105/.573 = 1.928447; value added (.65 .81 + .70 .32)/.573 = .7505/.573 = 1.309773 and
    (.65 .285 + .70 .82)/.573 = .75925/.573 = 1.325044.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from symbiosim.cli import main
from symbiosim.errors import ScenarioError
from symbiosim.ripple.iotable import io_table_from_dict, load_io_table
from symbiosim.ripple.multipliers import (
    RegionTotals,
    flq_matrix,
    leontief_inverse,
    load_region_totals,
    multipliers,
    technical_coefficients,
)

ROOT = Path(__file__).resolve().parents[1]
ORKLAND = ROOT / "scenarios" / "io" / "orkland_illustrative.yaml"
ORKLAND_REGION = ROOT / "scenarios" / "io" / "orkland_illustrative_region.yaml"

DOC: dict[str, Any] = {
    "name": "example_region", "currency": "NOK", "unit": 1000000,
    "sectors": ["agriculture", "manufacturing"],
    "intermediate": [[150, 500], [200, 100]],
    "output": [1000, 2000], "value_added": [650, 1400], "employment": [10, 30],
    "households": {"wages": [300, 700], "consumption": [100, 400]},
}


def close(actual: Any, expected: Any, **tolerance: Any) -> None:
    assert actual == pytest.approx(expected, **tolerance)


def doc(**changes: object) -> dict:
    raw = json.loads(json.dumps(DOC))
    raw.update(changes)
    return raw


def write(tmp_path: Path, raw: object, name: str = "io.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw)
    return path


# --------------------------------------------------------------------------- textbook values


def test_miller_blair_two_sector_coefficients_and_inverse():
    t = io_table_from_dict(DOC)
    A = technical_coefficients(t.Z, t.x)
    close(A, np.array([[0.15, 0.25], [0.20, 0.05]]))
    L = leontief_inverse(A)
    close(L, np.array([[1.2541, 0.3300], [0.2640, 1.1221]]), abs=5e-5)  # as printed by Miller & Blair
    close(L, np.array([[0.95, 0.25], [0.20, 0.85]]) / 0.7575)


def test_two_sector_type_i_multipliers_by_hand():
    m = multipliers(io_table_from_dict(DOC), "I")
    assert m.output == pytest.approx([1.15 / 0.7575, 1.10 / 0.7575])
    assert m.output == pytest.approx([1.5181, 1.4521], abs=1e-4)  # the four digits quoted for Miller & Blair
    assert m.value_added == pytest.approx([1.0, 1.0])
    assert m.employment == pytest.approx([(0.010 * 0.95 + 0.015 * 0.20) / 0.7575, (0.010 * 0.25 + 0.015 * 0.85) / 0.7575])
    assert m.jobs_per_million() == pytest.approx([0.016502, 0.020132], abs=1e-6)  # unit is 1e6 NOK


def test_two_sector_type_ii_multipliers_by_hand():
    m = multipliers(io_table_from_dict(DOC), "II")
    assert m.output == pytest.approx([1.13 / 0.573, 1.105 / 0.573])
    assert m.value_added == pytest.approx([0.7505 / 0.573, 0.75925 / 0.573])
    close(m.L, np.array([[0.81, 0.285], [0.32, 0.82]]) / 0.573)


THREE = {
    # x = 100 each; A = Z/100 = [[0, 0, 0], [.2, 0, 0], [.1, .5, 0]] is nilpotent, so
    # L = I + A + A² with A² = [[0,0,0],[0,0,0],[.1,0,0]]: L = [[1,0,0],[.2,1,0],[.2,.5,1]].
    "name": "three", "currency": "NOK", "unit": 1000000,
    "sectors": ["s1", "s2", "s3"],
    "intermediate": [[0, 0, 0], [20, 0, 0], [10, 50, 0]],
    "output": [100, 100, 100], "value_added": [40, 30, 50], "employment": [5, 2, 10],
    "households": {"wages": [20, 10, 30], "consumption": [30, 0, 12]},
}


def test_three_sector_type_i_by_hand():
    """Output: column sums of L = [1.4, 1.5, 1.0]; v = [.4, .3, .5]: vL = [.4 + .06 + .1, .3 + .25, .5];
    e = [.05, .02, .1]: eL = [.05 + .004 + .02, .02 + .05, .1]."""
    m = multipliers(io_table_from_dict(THREE), "I")
    close(m.L, np.array([[1, 0, 0], [0.2, 1, 0], [0.2, 0.5, 1]]))
    assert m.output == pytest.approx([1.4, 1.5, 1.0])
    assert m.value_added == pytest.approx([0.56, 0.55, 0.5])
    assert m.jobs_per_million() == pytest.approx([0.074, 0.07, 0.1])


def test_three_sector_type_ii_by_hand():
    """h_r = [.2, .1, .3], income 60, h_c = [.5, 0, .2]. Sherman-Morrison:
    (I - A - h_c h_r)⁻¹ = L + (L h_c)(h_r L) / (1 - h_r L h_c), with L h_c = [.5, .1, .3],
    h_r L = [.28, .25, .3], h_r L h_c = .2. Output: 1'L h_c = .9, so type II = type I +
    .9 [.28, .25, .3] / .8 = [1.715, 1.78125, 1.3375]. Value added: v L h_c = .38,
    type I + .475 [.28, .25, .3] = [.693, .66875, .6425]. Jobs: e L h_c = .057,
    type I + .07125 [.28, .25, .3] = [.09395, .0878125, .121375]."""
    m = multipliers(io_table_from_dict(THREE), "II")
    close(m.L, np.array([[1.175, 0.15625, 0.1875], [0.235, 1.03125, 0.0375], [0.305, 0.59375, 1.1125]]))
    assert m.output == pytest.approx([1.715, 1.78125, 1.3375])
    assert m.value_added == pytest.approx([0.693, 0.66875, 0.6425])
    assert m.jobs_per_million() == pytest.approx([0.09395, 0.0878125, 0.121375])


def test_flq_by_hand():
    """Regional employment [2, 3] of national [10, 30]: SLQ = [(2/5)/(10/40), (3/5)/(30/40)] = [1.6, .8];
    CILQ_12 = 1.6/.8 = 2, CILQ_21 = .5. With δ = 0, λ = 1: FLQ = [[1.6, 2], [.5, .8]], capped at 1:
    A^r = [[.15, .25], [.10, .04]]; I - A^r = [[.85, -.25], [-.10, .96]], det = .816 - .025 = .791;
    output multipliers (.96 + .10)/.791 = 1.340076, (.25 + .85)/.791 = 1.390645.
    With δ = .3: λ = log2(1 + 5/40)^.3 = .169925^.3 = exp(.3 ln .169925) = exp(-.531702) = .587594."""
    t = io_table_from_dict(DOC)
    region = RegionTotals("r", "employment", {"agriculture": 2, "manufacturing": 3})
    flq, slq = flq_matrix(t, region, 0.0)
    assert slq == pytest.approx([1.6, 0.8])
    assert flq == pytest.approx(np.array([[1.6, 2.0], [0.5, 0.8]]))
    m = multipliers(t, "I", region=region, delta=0.0)
    close(m.A, np.array([[0.15, 0.25], [0.10, 0.04]]))
    assert m.output == pytest.approx([1.06 / 0.791, 1.10 / 0.791])
    lam = math.log2(1 + 5 / 40) ** 0.3
    assert lam == pytest.approx(0.587594, abs=1e-6)
    m3 = multipliers(t, "I", region=region, delta=0.3)
    close(m3.A, np.array([[0.15 * 1.6 * lam, 0.25], [0.20 * 0.5 * lam, 0.05 * 0.8 * lam]]), rel=1e-4)
    assert m3.delta == 0.3 and m3.region == "r"


def test_regional_multipliers_are_smaller_than_national():
    t = load_io_table(ORKLAND)
    region = load_region_totals(ORKLAND_REGION)
    national, regional = multipliers(t, "I"), multipliers(t, "I", region=region)
    assert np.all(regional.output <= national.output + 1e-12)
    assert np.all(regional.output >= 1)


def test_region_totals_csv(tmp_path):
    path = write(tmp_path, "sector,employment\nagriculture,2\nmanufacturing,3\n", "r.csv")
    r = load_region_totals(path)
    assert r.measure == "employment" and dict(r.totals) == {"agriculture": 2.0, "manufacturing": 3.0}


# --------------------------------------------------------------------------- located errors


def issues_of(raw: object) -> set[tuple]:
    with pytest.raises(ScenarioError) as exc:
        io_table_from_dict(raw)
    return {(i.table, i.row, i.column) for i in exc.value.issues}


@pytest.mark.parametrize(("raw", "where"), [
    (doc(intermediate=[[150, 500], [200, 100, 7]]), ("intermediate", "manufacturing", None)),
    (doc(intermediate=[[150, 500]]), ("intermediate", None, None)),
    (doc(intermediate=[[150, -5], [200, 100]]), ("intermediate", "agriculture", "manufacturing")),
    (doc(intermediate=[[150, 500], [200, "x"]]), ("intermediate", "manufacturing", "manufacturing")),
    (doc(output=[1000]), ("output", None, None)),
    (doc(output=[0, 2000]), ("output", "agriculture", None)),
    (doc(value_added=[650, float("nan")]), ("value_added", "manufacturing", None)),
    (doc(employment=[10, float("inf")]), ("employment", "manufacturing", None)),
    (doc(intermediate=[[950, 500], [200, 100]]), ("intermediate", None, "agriculture")),
    (doc(sectors=["agriculture", "agriculture"]), ("sectors", 2, None)),
    (doc(households={"wages": [300], "consumption": [100, 400]}), ("households", None, "wages")),
    (doc(households={"wages": [300, 700], "consumption": [100, -4]}), ("households", "manufacturing", "consumption")),
    (doc(households={"wages": [300, 700]}), ("households", None, "consumption")),
    (doc(outputs=[1, 2]), ("outputs", None, None)),
    ({k: v for k, v in DOC.items() if k != "employment"}, ("employment", None, None)),
    (doc(unit=-1), ("unit", None, None)),
    ([1, 2], ("(file)", None, None)),
])
def test_every_error_is_located(raw, where):
    assert where in issues_of(raw)


def test_all_errors_at_once():
    found = issues_of(doc(intermediate=[[150, -5], [200, 100]], output=[0, 2000], employment=[10, -1]))
    assert {("intermediate", "agriculture", "manufacturing"), ("output", "agriculture", None),
            ("employment", "manufacturing", None)} <= found


def test_unproductive_table_is_refused():
    raw = doc(intermediate=[[0, 2000], [1000, 0]], value_added=[0, 0])  # each buys its whole output from the other
    with pytest.raises(ScenarioError, match="not productive") as exc:
        multipliers(io_table_from_dict(raw))
    assert exc.value.issues[0].table == "intermediate"


def test_households_spending_more_than_they_earn_is_located():
    raw = doc(households={"wages": [300, 700], "consumption": [3000, 4000]})
    multipliers(io_table_from_dict(raw), "I")  # the open model is fine
    with pytest.raises(ScenarioError, match="closed with households") as exc:
        multipliers(io_table_from_dict(raw), "II")
    assert exc.value.issues[0].table == "households"


def test_yaml_missing_keys_are_the_tables_own(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        load_io_table(write(tmp_path, {"sectors": 5}))
    found = {(i.table, i.row, i.column) for i in exc.value.issues}
    assert found == {("sectors", None, None), ("intermediate", None, None), ("output", None, None),
                     ("value_added", None, None), ("employment", None, None)}
    assert "actors" not in exc.value.report()  # not a scenario's tables


def test_type_ii_needs_households():
    raw = doc()
    del raw["households"]
    with pytest.raises(ValueError, match="households"):
        multipliers(io_table_from_dict(raw), "II")


def test_yaml_file_errors_name_the_file(tmp_path):
    path = write(tmp_path, doc(output=[1000, -1]))
    with pytest.raises(ScenarioError) as exc:
        load_io_table(path)
    assert exc.value.source == str(path) and "input-output table" in exc.value.report()
    assert ("output", "manufacturing", None) in {(i.table, i.row, i.column) for i in exc.value.issues}


def test_region_errors_are_located(tmp_path):
    t = io_table_from_dict(DOC)
    bad = RegionTotals("r", "employment", {"agriculture": 20, "forestry": 1})
    with pytest.raises(ScenarioError) as exc:
        flq_matrix(t, bad)
    found = {(i.table, i.row, i.column) for i in exc.value.issues}
    assert {("totals", "agriculture", "employment"), ("totals", "forestry", None), ("totals", "manufacturing", None)} <= found
    path = write(tmp_path, {"measure": "jobs", "totals": {"agriculture": -1}}, "r.yaml")
    with pytest.raises(ScenarioError) as exc:
        load_region_totals(path)
    found = {(i.table, i.row, i.column) for i in exc.value.issues}
    assert {("measure", None, None), ("totals", "agriculture", "jobs")} <= found


# --------------------------------------------------------------------------- Excel


def workbook(tmp_path: Path, formula: bool = False) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "settings"
    ws.append(["key", "value"])
    for k in ("name", "currency", "unit"):
        ws.append([k, DOC[k]])
    ws = wb.create_sheet("intermediate")
    ws.append(["from \\ to", *DOC["sectors"]])
    for s, row in zip(DOC["sectors"], DOC["intermediate"], strict=True):
        ws.append([s, *row])
    if formula:
        ws["C3"] = "=1+1"
    ws = wb.create_sheet("sectors")
    ws.append(["sector", "output", "value_added", "employment"])
    for i, s in enumerate(DOC["sectors"]):
        ws.append([s, DOC["output"][i], DOC["value_added"][i], DOC["employment"][i]])
    ws = wb.create_sheet("households")
    ws.append(["sector", "wages", "consumption"])
    for i, s in enumerate(DOC["sectors"]):
        ws.append([s, DOC["households"]["wages"][i], DOC["households"]["consumption"][i]])
    path = tmp_path / "io.xlsx"
    wb.save(path)
    return path


def test_excel_table_reads_like_yaml(tmp_path):
    assert load_io_table(workbook(tmp_path)) == io_table_from_dict(DOC)


def test_excel_formula_is_located(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        load_io_table(workbook(tmp_path, formula=True))
    assert ("intermediate", "row 3", "C") in {(i.table, i.row, i.column) for i in exc.value.issues}


def test_excel_layout_errors_are_located(tmp_path):
    import openpyxl

    path = workbook(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["intermediate"]["A3"] = "mining"  # the second seller is not the second buyer
    wb["sectors"]["A3"] = "manufactures"
    wb["sectors"]["E1"] = "jobs"
    wb.create_sheet("notes").append(["x"])
    wb.save(path)
    with pytest.raises(ScenarioError) as exc:
        load_io_table(path)
    found = {(i.table, i.row, i.column) for i in exc.value.issues}
    assert {("intermediate", "row 3", "A"), ("sectors", "row 1", "jobs"), ("notes", None, None)} <= found
    wb["sectors"]["E1"] = None
    wb.save(path)
    with pytest.raises(ScenarioError) as exc:
        load_io_table(path)
    found = {(i.table, i.row, i.column) for i in exc.value.issues}
    assert {("sectors", "row 3", "sector"), ("sectors", "manufacturing", None)} <= found


# --------------------------------------------------------------------------- command line


def test_cli_json_shape(tmp_path, capsys):
    path = write(tmp_path, DOC)
    assert main(["multipliers", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["sectors", "type", "output", "value_added", "employment"]
    assert out["sectors"] == DOC["sectors"] and out["type"] == "I"
    assert out["output"]["agriculture"] == pytest.approx(1.518152, abs=1e-6)
    assert out["employment"]["manufacturing"] == pytest.approx(0.020132, abs=1e-6)  # jobs per million NOK
    assert main(["multipliers", str(path), "--json", "--type", "II"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["type"] == "II" and out["value_added"]["agriculture"] == pytest.approx(0.7505 / 0.573)


def test_cli_text_has_units():
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["multipliers", str(ORKLAND), "--region-totals", str(ORKLAND_REGION), "--type", "II"]) == 0
    text = buf.getvalue()
    assert "NOK per NOK" in text and "jobs per million NOK" in text and "Orkland" in text and "C24_basic_metals" in text


def test_cli_type_ii_without_households_exits_2(tmp_path, capsys):
    raw = doc()
    del raw["households"]
    assert main(["multipliers", str(write(tmp_path, raw)), "--type", "II"]) == 2
    err = capsys.readouterr()
    assert "households: type II multipliers need households" in err.err and err.out == ""


def test_cli_bad_file_exits_2_with_located_errors(tmp_path, capsys):
    assert main(["multipliers", str(write(tmp_path, doc(output=[1000, -1])))]) == 2
    assert "output[manufacturing]" in capsys.readouterr().err


def test_cli_delta_only_with_region_totals(tmp_path, capsys):
    path = write(tmp_path, DOC)
    assert main(["multipliers", str(path), "--delta", "0.2"]) == 2
    assert "--delta" in capsys.readouterr().err
    region = write(tmp_path, {"measure": "employment", "totals": {"agriculture": 2, "manufacturing": 3}}, "r.yaml")
    assert main(["multipliers", str(path), "--region-totals", str(region), "--delta", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["output"]["agriculture"] == pytest.approx(1.06 / 0.791)  # test_flq_by_hand


@pytest.mark.parametrize("argv", [["--delta", "1"], ["--delta", "-0.1"], ["--delta", "nan"], ["--type", "III"]])
def test_cli_checks_arguments(tmp_path, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["multipliers", str(write(tmp_path, DOC)), *argv])
    assert exc.value.code == 2


# --------------------------------------------------------------------------- properties


@st.composite
def economies(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 6))
    cells = st.floats(0, 1, allow_nan=False)
    raw = np.array(draw(st.lists(st.lists(cells, min_size=n, max_size=n), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0, 0.95), min_size=n, max_size=n)))  # column sums < 1
    sums = raw.sum(axis=0)
    A = np.where(sums > 0, raw / np.where(sums > 0, sums, 1) * share, 0.0)
    x = np.array(draw(st.lists(st.floats(1, 1000), min_size=n, max_size=n)))
    Z = A * x
    va = x - Z.sum(axis=0)
    wages = va * np.array(draw(st.lists(st.floats(0.01, 0.9), min_size=n, max_size=n)))
    c = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    consumption = c / max(c.sum(), 1e-9) * wages.sum() * draw(st.floats(0, 0.9))
    def snap(a: object) -> list:  # the contract's numbers: 0 or of magnitude 1e-9 and more
        arr = np.asarray(a, dtype=float)
        return np.where(np.abs(arr) < 1e-9, 0.0, arr).tolist()

    return {"sectors": [f"s{i}" for i in range(n)], "intermediate": snap(Z), "output": snap(x),
            "value_added": snap(va), "employment": snap(draw(st.lists(st.floats(0, 100), min_size=n, max_size=n))),
            "households": {"wages": snap(wages), "consumption": snap(consumption)}}


@given(economies())
@settings(max_examples=150, deadline=None)
def test_productive_economies(raw):
    t = io_table_from_dict(raw)
    one, two = multipliers(t, "I"), multipliers(t, "II")
    n = len(t.sectors)
    assert np.all(one.L - np.eye(n) >= -1e-9)
    assert np.all(one.output >= 1 - 1e-9)
    for a, b in ((one.output, two.output), (one.value_added, two.value_added), (one.employment, two.employment)):
        assert np.all(b >= a - 1e-9 * np.maximum(1, np.abs(a)))
    assert np.all(one.value_added <= 1 + 1e-9)  # value added per unit of final demand never exceeds it (imports >= 0)
    assert all(math.isfinite(v) for v in one.output)
