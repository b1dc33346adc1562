"""The web app in a real browser: headless Chromium (the distribution's package) driven by Playwright.

One server (``symbiosim app``, the real command) for the module; each test
opens its own page (its own Solara session). Screenshots of every step go
to ``out/test-output/app/`` (or ``$SYMBIOSIM_TEST_OUTPUT/app``); the load
and run times are printed (``pytest -s``) and written next to them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from symbiosim.app import mapview

pytest.importorskip("solara")
playwright_api = pytest.importorskip("playwright.sync_api")
psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "orkanger.yaml"
EXE = Path(sys.executable).parent / "symbiosim"
SHOTS = Path(os.environ.get("SYMBIOSIM_TEST_OUTPUT") or ROOT / "out" / "test-output") / "app"
TIMES: dict[str, float] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(cmd: list[str], what: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """Start a web server command on a free port (``{port}`` in ``cmd``), wait until it answers, stop it after.
    Yields the URL, the process (its own process group) and the seconds until it answered."""
    port = _free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen([a.format(port=port) for a in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{what} ended: {proc.stdout.read().decode(errors='replace')[-3000:] if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > 90:
                pytest.fail(f"{what} did not answer within 90 s")
            time.sleep(0.2)
        yield url, proc, time.monotonic() - t0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def server():
    try:
        with serving([str(EXE), "app", str(SCENARIO), "--port", "{port}"], "symbiosim app") as (url, proc, up):
            TIMES["server up (s)"] = round(up, 2)
            yield url, proc
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "times.json").write_text(json.dumps(TIMES, indent=2))
        print("app times:", TIMES)


@pytest.fixture(scope="module")
def browser(chromium):
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium.executable, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    pg = context.new_page()
    t0 = time.monotonic()
    pg.goto(server[0])
    pg.wait_for_selector(".cluster-map .leaflet-interactive", timeout=60_000)
    TIMES.setdefault("first page usable (s)", round(time.monotonic() - t0, 2))
    yield pg
    context.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def tab(pg, name: str) -> None:
    pg.locator(".v-tab", has_text=name).click()


def actor_markers(pg) -> int:
    """Circle markers of radius 9 (the actors): Leaflet draws them as SVG arcs 'a9,9'."""
    return int(pg.evaluate("() => [...document.querySelectorAll('.cluster-map path.leaflet-interactive')]"
                           ".filter(p => (p.getAttribute('d') || '').includes('a9,9')).length"))


def run_and_wait(pg, button: str, timeout: float = 120.0) -> float:
    t0 = time.monotonic()
    pg.locator(button).click()
    pg.wait_for_selector(".run-done, .run-failed", timeout=timeout * 1000)
    assert pg.locator(".run-failed").count() == 0, pg.locator(".run-failed").inner_text()
    return time.monotonic() - t0


def test_the_app_shows_the_actors_on_the_map(page):
    actors = yaml.safe_load(SCENARIO.read_text())["actors"]
    page.wait_for_function(f"() => [...document.querySelectorAll('.cluster-map path.leaflet-interactive')]"
                           f".filter(p => (p.getAttribute('d') || '').includes('a9,9')).length >= {len(actors)}", timeout=30_000)
    shot(page, "1-map")
    assert actor_markers(page) == len(actors)
    text = page.locator(".cluster-map").locator("..").locator("..").inner_text()
    assert "Legend" in page.content() and "existing actor" in page.content()
    for a in actors:
        assert (a.get("name") or a["id"]) in page.content(), a["id"]
    assert "No coordinated flows yet" in text or "flows" in text


def test_a_plan_shows_the_key_figures_and_its_flows(page):
    TIMES["plan, click to key figures (s)"] = round(run_and_wait(page, ".run-plan"), 2)
    page.wait_for_function("() => [...document.querySelectorAll('.cluster-map path.leaflet-interactive')].length > 25", timeout=20_000)
    shot(page, "2-plan-map")
    page.locator('.cluster-map path.leaflet-interactive[d*="a9,9"]').first.click(force=True)
    card = page.locator(".actor-card")
    card.wait_for(timeout=10_000)
    assert "stand-alone" in card.inner_text() and "coordinated" in card.inner_text() and "M NOK" in card.inner_text()
    tab(page, "Cases")
    assert "not picked" in page.locator(".picked-location").inner_text()  # selecting an actor picks no place
    tab(page, "Results")
    figures = page.locator(".key-figures")
    figures.wait_for(timeout=20_000)
    shot(page, "2-plan-results")
    text = figures.inner_text()
    assert "cluster npv" in text and "M NOK" in text and "optimum" in text and "baseline" in text
    assert "e+" not in text


def test_ripple_effects_with_the_bundled_table(page):
    """Pick the app's input-output table, plan: the results show value added and jobs per part and outcome."""
    page.locator(".io-table").click()
    page.locator(".v-menu__content .v-list-item", has_text="Orkland (illustrative").first.click()
    run_and_wait(page, ".run-plan")
    tab(page, "Results")
    table = page.locator(".ripple-value-added")
    table.wait_for(timeout=20_000)
    shot(page, "2b-ripple")
    text = table.inner_text()
    for part in ("direct (the actors' own)", "indirect, national", "induced, regional", "total, regional", "coordinated"):
        assert part in text, part
    assert "M NOK" in text and "e+" not in text
    assert "jobs/yr" in page.locator(".ripple-jobs").inner_text()


def test_a_fictive_firm_is_placed_run_and_compared_with_the_base(page):
    box = page.locator(".cluster-map .leaflet-container").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.8)
    tab(page, "Cases")
    page.wait_for_function("() => { const e = document.querySelector('.picked-location');"
                           " return e !== null && !e.innerText.includes('not picked'); }", timeout=20_000)
    page.locator(".case-name input").fill("fictive_firm")
    page.locator(".firm-id input").fill("fictive_feed_plant")
    page.locator(".firm-recipe").click()
    page.locator(".v-menu__content .v-list-item", has_text="feed_production").first.click()
    price = page.locator(".firm-prices input").first
    price.fill("123")  # the firm's own price for its first input or output
    page.locator(".add-firm").click()
    page.wait_for_selector(".case-list", timeout=10_000)
    page.locator(".price-factor input").fill("1.5")
    page.locator(".add-price").click()
    page.wait_for_function("() => document.querySelectorAll('.case-problem').length === 0", timeout=10_000)
    shot(page, "3-case-defined")
    TIMES["case vs base (s)"] = round(run_and_wait(page, ".run-cases", timeout=180), 2)
    page.wait_for_selector(".case-comparison", timeout=20_000)
    shot(page, "3-case-compared")
    text = page.locator(".case-comparison").inner_text()
    assert "base" in text and "fictive_firm" in text and "M NOK" in text
    actors = yaml.safe_load(SCENARIO.read_text())["actors"]
    assert actor_markers(page) == len(actors) + 1  # the new firm on the map, as a fictive firm
    fill = page.evaluate("() => [...document.querySelectorAll('.cluster-map path.leaflet-interactive')]"
                         ".filter(p => (p.getAttribute('d') || '').includes('a9,9')).map(p => p.getAttribute('fill'))")
    assert mapview.KIND_COLOURS["fictive"] in fill


def test_a_broken_upload_shows_located_errors_and_keeps_the_scenario(page):
    broken = yaml.safe_load(SCENARIO.read_text())
    broken["actors"][0]["lat"] = 500
    broken["products"][0]["unit"] = None
    data = yaml.safe_dump(broken)
    tab(page, "Data")
    path = SHOTS.parent / "broken.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    with page.expect_file_chooser() as chooser:
        page.locator(".upload-button button").click()
    chooser.value.set_files(str(path))
    issues = page.locator(".upload-issues")
    issues.wait_for(timeout=30_000)
    shot(page, "4-broken-upload")
    text = issues.inner_text()
    first = broken["actors"][0]["id"]
    assert f"actors[{first}].lat" in text
    assert "products[" in text and "unit" in text
    assert "orkanger.yaml" in page.locator(".app-title").inner_text()  # the scenario in the app is unchanged


def _workers(server_pid: int) -> list:
    """The server's spawned worker processes (the warm one waiting and any running)."""
    out = []
    for p in psutil.Process(server_pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def test_a_run_can_be_cancelled_and_its_worker_ends(page, server):
    """The run takes the warm worker (a new one starts warming); cancel ends the one that ran."""
    deadline = time.monotonic() + 30
    while not (waiting := _workers(server[1].pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert waiting, "no worker process is waiting for a run"
    page.locator(".run-compare").click()
    page.wait_for_selector(".run-status", timeout=20_000)
    time.sleep(1.0)
    shot(page, "5-running")
    t0 = time.monotonic()
    page.locator(".cancel-run").click()
    page.wait_for_selector(".run-cancelled", timeout=20_000)
    TIMES["cancel to confirmed (s)"] = round(time.monotonic() - t0, 2)
    shot(page, "5-cancelled")
    gone, alive = psutil.wait_procs(waiting, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "the cancelled run's worker is still running"
    assert _workers(server[1].pid), "no new worker is warming for the next run"
    assert page.locator(".run-plan").is_enabled()  # the page takes the next run


def test_two_tabs_do_not_share_state_and_edits_are_checked_as_typed(page, browser, server):
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(server[0])
    other.wait_for_selector(".cluster-map .leaflet-interactive", timeout=60_000)
    tab(page, "Data")
    first = yaml.safe_load(SCENARIO.read_text())["actors"][0]["id"]
    cell = page.locator(".cell-actors-0-lat input")
    cell.fill("500")
    page.wait_for_selector(".cell-error", timeout=10_000)
    page.wait_for_selector(".data-issues", timeout=10_000)
    shot(page, "6-cell-error")
    assert page.locator(".run-plan").is_disabled()  # no runs on a scenario with errors
    assert "90" in page.locator(".cell-error").first.inner_text()  # the schema's bound, next to the cell
    tab(other, "Data")
    other.wait_for_selector(".cell-actors-0-lat input", timeout=10_000)
    assert other.locator(".cell-error").count() == 0 and other.locator(".run-plan").is_enabled()
    assert other.locator(".cell-actors-0-lat input").input_value() != "500"
    cell.fill("63.3")
    page.wait_for_function("() => document.querySelectorAll('.cell-error').length === 0", timeout=10_000)
    assert page.locator(".run-plan").is_enabled(), first
    other.context.close()
