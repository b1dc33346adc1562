"""Firms' ledgers (symbiosim.ripple.ledgers, symbiosim ledgers): located errors, cleaning, flows by
hand, Rasmussen linkages by hand, privacy of organisation numbers, the CLI on the illustrative set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import symbiosim.report.style as style
from symbiosim.cli import main
from symbiosim.report.ledger_figures import ledger_figure
from symbiosim.ripple.ledgers import (
    LedgerError,
    import_ledgers,
    orgnr_problem,
    rasmussen,
    read_actor_map,
    read_ledgers,
    with_check_digit,
)
from symbiosim.scenario import load_scenario
from symbiosim.store import ResultsStore

ROOT = Path(__file__).parents[1]
DATA = ROOT / "scenarios" / "ledgers"
SCENARIO = ROOT / "scenarios" / "orkanger.yaml"
FILES = [DATA / f"{n}.csv" for n in ("elkem_thamshavn", "orkland_dh", "norsk_kylling", "allskog", "isfjord", "con_form")]
HEADER = "firm_orgnr,counterpart_orgnr,counterpart_name,amount,year,kind,country\n"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def result(scenario):
    return import_ledgers(FILES, scenario, actor_map=DATA / "actors.csv", sector_map=DATA / "sectors.csv")


def all_orgnrs() -> set[str]:
    """Every organisation number in the illustrative files (ledgers and mappings)."""
    found: set[str] = set()
    for path in DATA.rglob("*.csv"):
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str)
        for column in ("orgnr", "firm_orgnr", "counterpart_orgnr"):
            if column in frame:
                found |= set(frame[column].dropna())
    assert len(found) > 15
    return found


# ---------------------------------------------------------------- organisation numbers


def test_orgnr_check_digit():
    assert orgnr_problem("100000105") is None
    assert orgnr_problem("100 000 105") is None
    assert "mod-11" in str(orgnr_problem("100000106"))
    assert "9 digits" in str(orgnr_problem("10000010"))
    assert "9 digits" in str(orgnr_problem("10000010X"))
    # a real-world style example: weights 3 2 7 6 5 4 3 2, 11 - (sum mod 11)
    assert with_check_digit("92360901") == "923609016"
    assert orgnr_problem("923609016") is None
    assert str(with_check_digit("10000001")).startswith("10000001")


# ---------------------------------------------------------------- located messages


def test_broken_file_lists_every_problem_located(scenario):
    with pytest.raises(LedgerError) as err:
        import_ledgers([DATA / "broken" / "broken.csv"], scenario, actor_map=DATA / "actors.csv")
    where = {(i.table, i.row, i.column) for i in err.value.issues}
    assert ("broken.csv", "row 3", "counterpart_orgnr") in where
    assert ("broken.csv", "row 4", "amount") in where
    assert {("broken.csv", "row 5", c) for c in ("amount", "year", "kind")} <= where
    assert ("broken.csv", "row 2", "amount") not in where  # the good row
    text = err.value.report()
    assert "mod-11 check digit" in text and "missing value" in text and "finite" in text and "customer" in text
    assert "100114179" not in text  # a wrong number is located, never echoed


def test_skip_invalid_drops_and_logs_the_rows(scenario):
    r = import_ledgers([DATA / "broken" / "broken.csv"], scenario, actor_map=DATA / "actors.csv", skip_invalid=True)
    assert len(r.cleaned) == 1
    counts = dict(zip(r.summary["step"], r.summary["rows"], strict=True))
    assert counts["invalid"] == 3  # rows 3, 4, 5 (row 5 has three bad values: one row)
    inv = r.log[r.log["step"] == "invalid"]
    assert set(zip(inv["row"], inv["column"], strict=True)) >= {(3, "counterpart_orgnr"), (4, "amount"), (5, "year")}


def test_missing_column_and_missing_values(tmp_path, scenario):
    p = tmp_path / "no_amount.csv"
    p.write_text("firm_orgnr,counterpart_orgnr,counterpart_name,year,kind\n100000105,100114178,A,2024,supplier\n")
    with pytest.raises(LedgerError) as err:
        read_ledgers([p])
    (issue,) = err.value.issues
    assert (issue.table, issue.row) == ("no_amount.csv", "row 1") and "amount" in issue.message

    q = tmp_path / "gaps.csv"
    q.write_text(HEADER + "100000105,,Fjellkvarts AS,10,2024,supplier,NO\n,100114178,,10,,supplier,NO\n")
    with pytest.raises(LedgerError) as err:
        import_ledgers([q], scenario)
    where = {(i.row, i.column) for i in err.value.issues}
    assert where == {("row 2", "counterpart_orgnr"), ("row 3", "firm_orgnr"), ("row 3", "counterpart_name"), ("row 3", "year")}


def test_xlsx_values_never_formulas(tmp_path, scenario):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Firm orgnr", "Counterpart orgnr", "Counterpart name", "Amount", "Year", "Kind"])
    ws.append([100000105, 100114178, "Allskog Bio AS", 14000000, 2024, "supplier"])
    ws.append([100000105, 100145286, "Fjellkvarts AS", "=1+1", 2024, "supplier"])  # no cached value: never evaluated
    path = tmp_path / "ledger.xlsx"
    wb.save(path)
    with pytest.raises(LedgerError) as err:
        import_ledgers([path], scenario)
    assert [(i.table, i.row, i.column) for i in err.value.issues] == [("ledger.xlsx", "row 3", "amount")]
    r = import_ledgers([path], scenario, actor_map=DATA / "actors.csv", skip_invalid=True)
    assert r.cleaned["amount"].tolist() == [14_000_000]


def test_size_limit(scenario):
    with pytest.raises(LedgerError, match="more than the limit"):
        import_ledgers(FILES[:1], scenario, max_bytes=100)


def test_actor_map_errors_are_located(tmp_path, scenario):
    p = tmp_path / "actors.csv"
    p.write_text("orgnr,actor,role\n100000105,elkem,site\n100000105,orkland_dh,site\n100041588,nobody,boss\n")
    with pytest.raises(LedgerError) as err:
        read_actor_map(p, scenario)
    where = {(i.row, i.column) for i in err.value.issues}
    assert where == {("row 3", "orgnr"), ("row 4", "actor"), ("row 4", "role")}


# ---------------------------------------------------------------- cleaning and flows, by hand


def test_cleaning_log_counts(result):
    counts = dict(zip(result.summary["step"], result.summary["rows"], strict=True))
    assert counts == {"invalid": 0, "duplicate_exact": 1, "duplicate_same_amount": 1, "head_office": 5,
                      "unmatched_firm": 1, "internal": 1, "foreign": 2, "unmatched_counterpart": 2, "mirror": 4}
    assert len(result.raw) == 30
    # 30 rows - 2 duplicates - 1 unmatched firm - 1 internal
    assert len(result.cleaned) == 26


def test_actor_flows_equal_the_ledgers_by_hand(result):
    f = result.actor_flows[result.actor_flows["year"] == 2024].set_index(["seller", "buyer"])["amount"].to_dict()
    assert f == {
        ("allskog", "elkem"): 14_000_000,  # Elkem's supplier ledger (its exact duplicate dropped; Allskog's 14 M set aside)
        ("elkem", "orkland_dh"): 4_100_000,  # DH's supplier ledger, invoiced by Elkem's head office (Elkem says 4.0 M)
        ("orkland_dh", "norsk_kylling"): 6_600_000,  # Norsk Kylling's head office's supplier ledger
        ("isfjord", "con_form"): 0.0,
        ("washington_mills", "con_form"): 400_000,
    }
    assert result.actor_flows.query("year == 2023")["amount"].tolist() == [13_000_000]


def test_sector_flows_by_hand(result):
    s = result.sector_flows.query("year == 2024").set_index(["actor", "direction", "sector"])["amount"]
    assert s[("elkem", "purchases", "D35")] == 120_000_000
    assert s[("elkem", "sales", "foreign")] == 450_000_000
    assert s[("norsk_kylling", "sales", "G46")] == 900_000_000  # the same-amount duplicate is dropped
    assert s[("orkland_dh", "sales", "unmatched")] == 1_200_000
    assert s[("elkem", "purchases", "C16")] == 14_000_000  # Allskog, an actor: the first word of its sector
    assert ("elkem", "purchases", "unmatched") not in s.index  # the head office is internal, not a counterpart


def test_store_writes_a_table_per_stage(tmp_path, scenario):
    db = tmp_path / "l.duckdb"
    r = import_ledgers(FILES, scenario, actor_map=DATA / "actors.csv", sector_map=DATA / "sectors.csv", db=db)
    with ResultsStore(db, read_only=True) as store:
        assert {"ledger_raw", "ledger_clean", "cleaning_log", "actor_flows", "sector_flows", "linkages"} <= set(store.tables())
        assert len(store.read("ledger_raw")) == 30
        assert len(store.read("cleaning_log")) == len(r.log) == 17
        assert store.read("actor_flows")["amount"].sum() == pytest.approx(r.actor_flows["amount"].sum())


# ---------------------------------------------------------------- Rasmussen by hand


def test_rasmussen_chain_of_three_by_hand():
    # 1 sells 50 to 2, 2 sells 100 to 3; outputs 100, 200, 400
    z = np.array([[0, 50, 0], [0, 0, 100], [0, 0, 0]], dtype=float)
    r = rasmussen(z, np.array([100.0, 200.0, 400.0]))
    # A: a12 = 50/200, a23 = 100/400; L = I + A + A^2, column sums 1, 5/4, 21/16; mean 19/16
    np.testing.assert_allclose(r["L"], np.array([[1, 0.25, 0.0625], [0, 1, 0.25], [0, 0, 1]]))
    np.testing.assert_allclose(r["backward"], [16 / 19, 20 / 19, 21 / 19])
    # B: b12 = 50/100, b23 = 100/200; G = I + B + B^2, row sums 7/4, 3/2, 1; mean 17/12
    np.testing.assert_allclose(r["G"], np.array([[1, 0.5, 0.25], [0, 1, 0.5], [0, 0, 1]]))
    np.testing.assert_allclose(r["forward"], [21 / 17, 18 / 17, 12 / 17])
    np.testing.assert_allclose(r["forward_leontief"], [21 / 19, 20 / 19, 16 / 19])


def test_rasmussen_two_actors_by_hand():
    # z12 = 20, z21 = 10, x = (100, 200): A = [[0, .1], [.1, 0]] -> L = [[1, .1], [.1, 1]] / .99: equal column sums
    r = rasmussen(np.array([[0, 20], [10, 0]], dtype=float), np.array([100.0, 200.0]))
    np.testing.assert_allclose(r["backward"], [1.0, 1.0])
    # B = [[0, .2], [.05, 0]] -> G = [[1, .2], [.05, 1]] / .99: row sums 1.2, 1.05 over their mean 1.125
    np.testing.assert_allclose(r["forward"], [1.2 / 1.125, 1.05 / 1.125])


def test_rasmussen_refuses_an_unproductive_cluster():
    with pytest.raises(ValueError, match="as large as its output"):
        rasmussen(np.array([[0, 100], [0, 0]], dtype=float), np.array([100.0, 200.0]))


def test_linkages_from_ledgers_match_the_hand_chain(tmp_path, scenario):
    # Elkem -> DH -> Norsk Kylling as the chain above (amounts in M); the rest of each output sold outside
    rows = [
        "100000105,100041588,Orkland Energi Varme,50,2024,customer,NO",
        "100000105,,Abroad GmbH,50,2024,customer,DE",
        "100041588,100000105,Elkem,50,2024,supplier,NO",
        "100041588,100051958,Norsk Kylling,100,2024,customer,NO",
        "100041588,100145286,Fjellkvarts AS,100,2024,customer,NO",
        "100051958,100197138,Grossist AS,400,2024,customer,NO",
    ]
    p = tmp_path / "chain.csv"
    p.write_text(HEADER + "\n".join(rows) + "\n")
    r = import_ledgers([p], scenario, actor_map=DATA / "actors.csv")
    got = r.linkages.set_index("actor")
    order = ["elkem", "orkland_dh", "norsk_kylling"]
    np.testing.assert_allclose(got.loc[order, "backward"], [16 / 19, 20 / 19, 21 / 19])
    np.testing.assert_allclose(got.loc[order, "forward"], [21 / 17, 18 / 17, 12 / 17])
    assert got.loc["orkland_dh", "output"] == 200


def test_linkages_of_the_illustrative_set(result):
    assert result.year == 2024
    assert set(result.linkages["actor"]) == {"allskog", "con_form", "elkem", "isfjord", "norsk_kylling", "orkland_dh"}
    assert any("washington_mills" in n for n in result.notes)  # no customer ledger: left out
    assert result.linkages["backward"].mean() == pytest.approx(1.0)
    assert result.linkages["forward"].mean() == pytest.approx(1.0)
    top = result.linkages.set_index("actor")["backward"].idxmax()
    assert top == "orkland_dh"  # buys half its output's worth of waste heat in the cluster


# ---------------------------------------------------------------- privacy


def _figure_text(fig) -> str:
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels()]
    return "\n".join(texts)


def test_figure_shows_names_never_ids(tmp_path, result, scenario):
    ids = all_orgnrs()
    with style.capture_figures() as figs:
        ledger_figure(result, scenario, tmp_path / "a.png")
        ledger_figure(result, scenario, tmp_path / "b.png", show_ids=True)
    plain, shown = _figure_text(figs[0]), _figure_text(figs[1])
    assert "Elkem Thamshavn" in plain and "money paid" in plain and "material" in plain
    assert not {i for i in ids if i in plain}
    assert "100000105" in shown  # the test would see an id if one were drawn
    assert (tmp_path / "a.png").stat().st_size > 10_000


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _args(tmp_path: Path, *more: str) -> list[str]:
    return ["ledgers", *map(str, FILES), "--scenario", str(SCENARIO), "--map-actors", str(DATA / "actors.csv"),
            "--map-sectors", str(DATA / "sectors.csv"), "--db", str(tmp_path / "l.duckdb"), *more]


def test_cli_end_to_end_without_ids(tmp_path, capsys):
    code, out, err = _run(capsys, *_args(tmp_path, "--out", str(tmp_path / "out")))
    assert code == 0, err
    assert "duplicate_exact" in out and "head_office" in out and "mirror" in out
    assert "Allskog Bio" in out and "M NOK" in out and "backward" in out
    assert re.search(r"Elkem Thamshavn\s+Orkland Energi Varme \(district heating\)\s+4\.1", out)
    ids = all_orgnrs()
    assert not {i for i in ids if i in out}
    for path in (tmp_path / "out").iterdir():
        assert path.suffix in (".csv", ".png")
        if path.suffix == ".csv":
            text = path.read_text()
            assert not {i for i in ids if i in text}, path.name
    assert (tmp_path / "out" / "ledger_flows.png").exists()
    assert pd.read_csv(tmp_path / "out" / "cleaning_summary.csv").set_index("step").loc["mirror", "rows"] == 4


def test_cli_show_ids_and_json(tmp_path, capsys):
    code, out, _ = _run(capsys, *_args(tmp_path, "--show-ids"))
    assert code == 0 and "100062321" in out  # Norsk Kylling's head office, in the cleaning log
    code, out, _ = _run(capsys, *_args(tmp_path, "--json"))
    obj = json.loads(out)
    assert code == 0 and obj["year"] == 2024 and obj["currency"] == "NOK"
    assert obj["cleaning"]["duplicate_same_amount"]["rows"] == 1
    assert not {i for i in all_orgnrs() if i in out}
    code, out, _ = _run(capsys, *_args(tmp_path, "--json", "--show-ids"))
    assert "100062321" in out


def test_cli_broken_file_exit_2_located(tmp_path, capsys):
    code, out, err = _run(capsys, "ledgers", str(DATA / "broken" / "broken.csv"), "--scenario", str(SCENARIO),
                          "--db", str(tmp_path / "l.duckdb"))
    assert code == 2
    assert "broken.csv[row 3].counterpart_orgnr" in err and "broken.csv[row 4].amount" in err
    assert "100114179" not in err


def test_cli_argument_checks(tmp_path, capsys):
    bad = tmp_path / "ledger.txt"
    bad.write_text("x")
    with pytest.raises(SystemExit) as exc:
        main(["ledgers", str(bad), "--scenario", str(SCENARIO)])
    assert exc.value.code == 2
    assert "expected a ledger file ending in .csv or .xlsx" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ledgers", str(FILES[0]), "--scenario", str(SCENARIO), "--year", "19"])
    assert "--year" in capsys.readouterr().err


def test_io_sectors_by_nace_code():
    from symbiosim.ripple.ledgers import io_sector_of

    table = ["A03_fishing_aquaculture", "C10_food", "C24_basic_metals", "D35_energy", "GN_market_services", "C_other"]
    got = {c: io_sector_of(c, table) for c in ("C10.1", "C24", "D35.2", "G46", "H49", "C22", "B08", "foreign", "unmatched")}
    assert got == {"C10.1": "C10_food", "C24": "C24_basic_metals", "D35.2": "D35_energy", "G46": "GN_market_services",
                   "H49": "GN_market_services", "C22": "C_other", "B08": "unmatched", "foreign": "foreign",
                   "unmatched": "unmatched"}


def test_cli_io_table_adds_io_sectors(tmp_path, capsys):
    io = ROOT / "scenarios" / "io" / "orkland_illustrative.yaml"
    code, out, err = _run(capsys, *_args(tmp_path, "--io-table", str(io), "--json"))
    assert code == 0, err
    flows = pd.DataFrame(json.loads(out)["sector_flows"])
    got = flows.query("year == 2024 and actor == 'elkem' and direction == 'purchases'").groupby("io_sector")["amount"].sum()
    assert got.to_dict() == {"C16_wood": 14_000_000, "D35_energy": 120_000_000, "GN_market_services": 2_500_000,
                             "unmatched": 30_000_000}  # quartz (B08) is in no sector of the table


def test_material_flows_from_links_or_a_plan(scenario):
    from symbiosim.ripple.ledgers import material_flows

    links = material_flows(scenario)
    assert set(zip(links["source"], links["target"], links["product"], strict=True)) == {
        ("elkem", "orkland_dh", "waste_heat"), ("orkland_dh", "norsk_kylling", "district_heat"),
        ("allskog", "elkem", "wood_chips"), ("isfjord", "con_form", "eps")}
    plan = pd.DataFrame({"source": ["elkem", "elkem", "elkem"], "target": ["orkland_dh"] * 3,
                         "product": ["waste_heat"] * 3, "period": [0, 1, 0], "year": [0, 0, 1], "value": [10.0, 5.0, 99.0]})
    got = material_flows(scenario, plan)
    assert got["quantity"].tolist() == [15.0]  # year 0, summed over its periods


def test_cli_material_beside_money_is_the_baseline_or_the_links(tmp_path, capsys):
    """--out draws the material flows of the stand-alone baseline's first year (material_flows.csv: the plan's
    own quantities, e.g. Allskog's 30,000 t of chips to Elkem), labelled in the figure; --material links draws
    the existing links without solving or writing quantities."""
    from symbiosim.planner import optimise
    from symbiosim.ripple.ledgers import material_flows
    from symbiosim.scenario import load_scenario

    code, _, err = _run(capsys, *_args(tmp_path, "--out", str(tmp_path / "base")))
    assert code == 0, err
    got = pd.read_csv(tmp_path / "base" / "material_flows.csv")
    plan = optimise(load_scenario(SCENARIO), baseline=True)
    want = material_flows(load_scenario(SCENARIO), plan.flows, year=0)
    merged = got.merge(want, on=["source", "target", "product"], suffixes=("", "_plan"))
    assert len(merged) == len(want) == len(got) > 0
    assert np.allclose(merged["quantity"], merged["quantity_plan"])
    assert got.set_index(["source", "target"]).loc[("allskog", "elkem"), "quantity"] == pytest.approx(30_000)

    def no_solve(*a, **k):
        raise AssertionError("--material links solved a plan")

    import symbiosim.planner as planner

    monkey = pytest.MonkeyPatch()
    monkey.setattr(planner, "optimise", no_solve)
    try:
        with style.capture_figures() as figs:
            code, _, err = _run(capsys, *_args(tmp_path, "--out", str(tmp_path / "links"), "--material", "links"))
    finally:
        monkey.undo()
    assert code == 0, err
    assert not (tmp_path / "links" / "material_flows.csv").exists()
    text = _figure_text(figs[0])
    assert "existing links" in text and "t/yr" not in text
