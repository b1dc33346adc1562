"""The Experiments tab in a real browser (headless Chromium, Playwright), served alone:
``solara run symbiosim.app.experiments_tab`` (the tab's ``Page``), so it is tested
whether or not the main page shows it yet. Screenshots go where the app's do."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("solara")
pytest.importorskip("playwright.sync_api")

from tests.test_app_browser import SHOTS, browser, serving, shot  # noqa: E402, F401  (browser: a fixture)
from tests.test_app_explore import make_db  # noqa: E402


@pytest.fixture(scope="module")
def tab_server():
    """The Experiments tab alone, as ``solara run`` serves it."""
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    cmd = [sys.executable, "-m", "solara", "run", "symbiosim.app.experiments_tab", "--host", "127.0.0.1", "--port", "{port}",
           "--production", "--no-open", "--no-check-version"]
    with serving(cmd, "solara run", env) as (url, _, _):
        yield url


@pytest.fixture
def tab_page(browser, tab_server):  # noqa: F811
    """A page of its own; tall, so that the screenshot holds the tables and the four figures.
    The databases it uploads are removed from the app's working folder afterwards."""
    from symbiosim.app import explore, session

    before = set(explore.databases())
    context = browser.new_context(viewport={"width": 1400, "height": 4200})
    pg = context.new_page()
    pg.goto(tab_server)
    pg.wait_for_selector(".experiment-upload button", timeout=60_000)
    yield pg
    context.close()
    for name in set(explore.databases()) - before:
        (session.workdir() / name).unlink(missing_ok=True)


def test_an_uploaded_experiment_shows_its_arms_differences_and_figures(tab_page, tmp_path):
    page = tab_page
    db = make_db(tmp_path / "my_experiment.duckdb")
    with page.expect_file_chooser() as chooser:
        page.locator(".experiment-upload button").click()
    chooser.value.set_files(str(db))
    page.wait_for_selector(".per-arm", timeout=60_000)
    overview = page.locator(".experiment-overview").inner_text()
    assert "tiny_explore" in overview and "my_experiment.duckdb" in overview
    assert "18 runs" in overview and "none, subsidy, tax" in overview
    table = page.locator(".per-arm").inner_text()
    for arm in ("none", "subsidy", "tax"):
        assert arm in table
    assert "share of the potential" in table and "public cost" in table and "e+" not in table
    paired = page.locator(".paired").inner_text()
    assert "public cost" in paired and "% points" in paired
    assert "subsidy − none" in page.locator(".paired-title").inner_text()
    assert "not to be trusted" in page.locator(".sensitivity-warning").inner_text()
    page.wait_for_selector(".figure-distributions img", timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('.experiment-figures img')].filter(i => i.naturalWidth > 300).length === 4",
                           timeout=30_000)
    shot(page, "7-experiments")
    page.locator(".paired-b").click()  # another reference arm: the differences follow
    page.locator(".v-menu__content .v-list-item", has_text="tax").first.click()
    page.wait_for_function("() => document.querySelector('.paired-title').innerText.includes('subsidy − tax')", timeout=20_000)
    assert "public cost" in page.locator(".paired").inner_text()
    assert (SHOTS / "7-experiments.png").stat().st_size > 10_000


def test_a_file_that_is_not_an_experiment_gets_a_message(tab_page, tmp_path):
    page = tab_page
    bad = tmp_path / "broken.duckdb"
    bad.write_bytes(b"not a database at all\n" * 20)
    with page.expect_file_chooser() as chooser:
        page.locator(".experiment-upload button").click()
    chooser.value.set_files(str(bad))
    error = page.locator(".experiment-error")
    error.wait_for(timeout=30_000)
    assert "broken.duckdb is not a DuckDB database" in error.inner_text()
    assert "Traceback" not in page.locator("body").inner_text()
    shot(page, "7-experiments-broken")
