"""The Experiments tab's data side (``symbiosim.app.explore``) on a tiny experiment database."""

from __future__ import annotations

import io
import shutil

import duckdb
import pytest

from symbiosim.app import explore, session
from symbiosim.experiments.analysis import MIN_SAMPLES_RBD_FAST, summarize
from symbiosim.experiments.runner import Experiment, run_experiment
from tests.tiny import HEAT_LINK, build

UNCERTAINTY = [
    {"target": "purchases[product=gas].price", "dist": "uniform", "low": 0.5, "high": 1.5},
    {"target": "settings.discount_rate", "dist": "uniform", "low": 0.0, "high": 0.1, "as": "value"},
]
ARMS = {"none": {}, "subsidy": {"exchange_subsidy": 20}, "tax": {"virgin_tax": 30}}


def make_db(path, samples: int = 6, replications: int = 1):
    """A tiny experiment (three arms, a few samples; a few seconds)."""
    scenario = build(HEAT_LINK, uncertainty=UNCERTAINTY)
    exp = Experiment(scenario, samples, arms=ARMS, replications=replications, seed=3, name="tiny_explore")
    run_experiment(exp, path, jobs=1, chunk=samples)
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("explore") / "tiny.duckdb", replications=2)


def test_overview_counts_the_runs(db):
    info = explore.overview(db)
    assert info["experiment"] == "tiny_explore"
    assert info["arms"] == ["none", "subsidy", "tax"]
    assert info["samples"] == 6 and info["replications"] == 2 and info["method"] == "lhs"
    assert info["runs"] == 36 and info["ok"] + info["failed"] + info["no_baseline"] == 36 and info["unfinished"] == 0
    assert info["inputs"] == ["price of purchases (gas)", "discount rate"]


def test_per_arm_means_and_quantiles_match_the_database(db):
    frame = explore.per_arm(db)
    assert set(frame.arm) == set(ARMS)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for metric in ("public_cost", "share_of_potential", "gap"):
            # the mean over samples of the mean over replications (the bootstrap's unit is a sample)
            direct = dict(con.execute(
                f"select arm, avg(m) from (select d.arm, d.sample_id, avg(r.{metric}) m from design d join runs r using (run_id) "
                "where r.status = 'ok' group by d.arm, d.sample_id) group by arm").fetchall())
            q50 = dict(con.execute(f"select d.arm, quantile_cont(r.{metric}, 0.5) from design d join runs r using (run_id) "
                                   "where r.status = 'ok' group by d.arm").fetchall())
            for arm in ARMS:
                row = frame[(frame.arm == arm) & (frame.metric == metric)].iloc[0]
                assert row["mean"] == pytest.approx(direct[arm], abs=1e-6), (metric, arm)
                assert row["q50"] == pytest.approx(q50[arm], abs=1e-6), (metric, arm)
                assert row.ci_low <= row["mean"] + 1e-9 and row["mean"] <= row.ci_high + 1e-9
    finally:
        con.close()
    cost = frame[(frame.arm == "subsidy") & (frame.metric == "public_cost")].iloc[0]
    assert cost["mean"] > 0  # the subsidy is paid
    assert frame[(frame.arm == "none") & (frame.metric == "public_cost")].iloc[0]["mean"] == pytest.approx(0, abs=1e-6)


def test_the_numbers_are_those_of_summarize(db):
    s = summarize(db)
    frame = explore.per_arm(db)
    row = frame[(frame.arm == "tax") & (frame.metric == "public_cost")].iloc[0]
    assert (row["mean"], row.ci_low, row.ci_high) == pytest.approx(
        tuple(s["arms"]["tax"]["public_cost"][k] for k in ("mean", "ci_low", "ci_high")))
    vs_none = explore.paired(db, "subsidy", "none").set_index("metric")
    assert vs_none.loc["public_cost", "mean"] == pytest.approx(s["paired"]["arms"]["subsidy"]["public_cost"]["mean"])
    assert vs_none.loc["public_cost", "ci_low"] == pytest.approx(s["paired"]["arms"]["subsidy"]["public_cost"]["ci_low"])


def test_paired_differences_between_any_two_arms(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("select d.arm, d.sample_id, d.replication, r.public_cost from design d join runs r using (run_id) "
                           "where r.status = 'ok'").df()
    finally:
        con.close()
    wide = runs.pivot_table(index=["sample_id", "replication"], columns="arm", values="public_cost")
    expected = (wide["subsidy"] - wide["tax"]).groupby(level="sample_id").mean().mean()
    got = explore.paired(db, "subsidy", "tax").set_index("metric")
    assert got.loc["public_cost", "mean"] == pytest.approx(expected, abs=1e-6)
    assert got.loc["public_cost", "pairs"] == 12
    back = explore.paired(db, "tax", "subsidy").set_index("metric")
    assert back.loc["public_cost", "mean"] == pytest.approx(-expected, abs=1e-6)
    with pytest.raises(explore.ExploreError, match="no arm 'bribe'"):
        explore.paired(db, "bribe", "none")
    with pytest.raises(explore.ExploreError, match="two different arms"):
        explore.paired(db, "tax", "tax")


def test_sensitivity_warns_about_too_few_samples(db):
    s = explore.sensitivity(db)
    assert "RBD-FAST" in s.method and s.output == "gap"
    assert "not to be trusted" in s.warning and f"{MIN_SAMPLES_RBD_FAST:,}" in s.warning
    assert "Warning" in s.message
    assert list(s.table.columns[:2]) == ["arm", "input"]  # 6 samples: every arm skipped, no rows
    assert s.notes and all("no indices" in n for n in s.notes)


def test_figures_are_png_images(db):
    pngs = explore.figures(db)
    assert set(pngs) == set(explore.FIGURES)
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 5000 for p in pngs.values())


def test_shown_numbers_have_separators_units_and_no_scientific_notation(db):
    shown = explore.shown_per_arm(explore.per_arm(db), "NOK")
    text = shown.to_string()
    assert "e+" not in text and "e-" not in text
    assert set(shown.unit) >= {"%", "NOK", "t CO2e"}
    cost = explore.shown_paired(explore.paired(db, "subsidy", "none"), "NOK").set_index("metric")
    assert cost.loc["public cost (subsidies - taxes)", "mean difference"].startswith("+")
    assert cost.loc["share of the potential", "unit"] == "% points"
    big = explore.per_arm(db)
    big.loc[big.metric == "public_cost", ["mean", "ci_low", "ci_high", "q05", "q50", "q95"]] = [1.234e7, 1.1e7, 1.3e7, 1e7, 1.2e7, 1.4e7]
    row = explore.shown_per_arm(big, "NOK").query("metric == 'public cost (subsidies - taxes)'").iloc[0]
    assert row.unit == "M NOK" and row["mean"] == "12.3" and "e+" not in row["95 % CI"]


# ---- untrusted files --------------------------------------------------------


def test_an_upload_is_stored_under_a_made_up_name_and_listed(db):
    path = explore.save_upload("../../etc/my results.duckdb", db.read_bytes())
    try:
        assert path.parent == session.workdir() and path.suffix == ".duckdb"
        assert "/" not in path.name and ".." not in path.name and path.name.startswith("experiment-")
        assert path.name in explore.databases()
        assert explore.resolve(path.name) == path
        assert explore.overview(path)["runs"] == 36
    finally:
        path.unlink(missing_ok=True)


def test_the_browser_never_names_a_path(db):
    for name in ("/etc/passwd", "../x.duckdb", str(db), "nope.duckdb"):
        with pytest.raises(explore.ExploreError, match="not a database in the app's working folder"):
            explore.resolve(name)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("results.csv", b"a,b\n1,2\n", "expected an experiment database"),
    ("results.duckdb", b"this is text, not a database" * 10, "is not a DuckDB database"),
    ("results.duckdb", b"", "is not a DuckDB database"),
])
def test_a_file_that_is_not_a_database_gets_a_clear_message(name, data, message):
    before = set(explore.databases())
    with pytest.raises(explore.ExploreError, match=message):
        explore.save_upload(name, data)
    assert set(explore.databases()) == before  # nothing kept


def test_uploads_are_size_limited(db):
    with pytest.raises(explore.ExploreError, match="more than the app's limit of 1,000 bytes"):
        explore.save_upload("big.duckdb", db.read_bytes(), limit=1000)
    assert explore.UPLOAD_LIMIT == 512 * 1024 * 1024


def test_a_dropped_file_is_read_in_chunks_up_to_the_limit(db):
    data = db.read_bytes()
    path = explore.save_stream("dropped.duckdb", io.BytesIO(data), len(data), chunk=4096)
    try:
        assert path.read_bytes() == data and path.name in explore.databases()
    finally:
        path.unlink(missing_ok=True)
    before = set(session.workdir().iterdir())
    with pytest.raises(explore.ExploreError, match="more than the app's limit"):
        explore.save_stream("big.duckdb", io.BytesIO(data), len(data), limit=1000)
    with pytest.raises(explore.ExploreError, match="more than the app's limit"):  # a size that lies
        explore.save_stream("liar.duckdb", io.BytesIO(data), 10, limit=1000, chunk=512)
    assert set(session.workdir().iterdir()) == before  # no partial file left


def test_a_duckdb_file_without_an_experiment_gets_a_clear_message(tmp_path):
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table things (x integer)")
    con.close()
    with pytest.raises(explore.ExploreError, match="not an experiment database: no manifest or design table"):
        explore.save_upload("other.duckdb", other.read_bytes())
    with pytest.raises(explore.ExploreError, match="not an experiment database"):
        explore.overview(other)


def test_a_view_that_would_read_other_files_is_refused(db, tmp_path):
    """An uploaded database whose ``runs`` is a view over a local file: refused before anything selects from it."""
    evil = tmp_path / "evil.duckdb"
    shutil.copy(db, evil)
    secret = tmp_path / "secret.csv"
    secret.write_text("run_id,status\n0,ok\n")
    con = duckdb.connect(str(evil))
    con.execute("drop table runs")
    con.execute(f"create view runs as select * from read_csv('{secret.as_posix()}')")
    con.close()
    with pytest.raises(explore.ExploreError, match="runs is a view, not a table"):
        explore.overview(evil)


def test_a_table_without_the_expected_columns_gets_a_clear_message(db, tmp_path):
    odd = tmp_path / "odd.duckdb"
    shutil.copy(db, odd)
    con = duckdb.connect(str(odd))
    con.execute("alter table runs drop column gap")
    con.close()
    with pytest.raises(explore.ExploreError, match="table runs lacks the column"):
        explore.per_arm(odd)


def test_the_currency_is_read_only_from_a_bundled_scenario():
    assert explore.scenario_currency({"scenario": "scenarios/orkanger.yaml"}) == "NOK"
    assert explore.scenario_currency({"scenario": "/etc/passwd"}) == ""
    assert explore.scenario_currency({"scenario": "scenarios/../../../etc/hosts"}) == ""
    assert explore.scenario_currency({}) == ""

