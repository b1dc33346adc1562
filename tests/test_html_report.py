"""The HTML reports (``symbiosim report``, ``symbiosim summarize --html``): self-contained, escaped,
rendered by headless Chromium with every image loaded, printed on A4 pages."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml

from symbiosim.cli import main
from tests.browser import A4_POINTS, Chromium, pdf_pages
from tests.tiny import HEAT_LINK, edit

EVIL = "<script>alert('x')</script>Smelter & Co"
SECTIONS = ("cluster", "optimum", "decentralised", "gap", "ripple", "incentives", "method")
# Miller & Blair's two sectors with households (as tests/test_effects.py), and regional employment for FLQ
IO_TABLE = {"name": "two_sectors", "currency": "EUR", "unit": 1, "sectors": ["C24_metals", "D35_energy"],
            "intermediate": [[150, 500], [200, 100]], "output": [1000, 2000], "value_added": [650, 1400],
            "employment": [10, 30], "households": {"wages": [300, 700], "consumption": [100, 400]}}
REGION = {"region": "Tinyland", "measure": "employment", "totals": {"C24_metals": 4, "D35_energy": 3}}
# added to a copy of the page: after the load event, how many images did not load, and how many tables,
# figures and images reach beyond the body (at the width of an A4 page, 794 CSS pixels)
PROBE = ("<script>window.addEventListener('load', () => {"
         "const root = document.documentElement, right = document.body.getBoundingClientRect().right + 1;"
         "root.setAttribute('data-broken', [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length);"
         "root.setAttribute('data-overflow', [...document.querySelectorAll('table, figure, img, pre')]"
         ".filter(e => e.getBoundingClientRect().right > right).length);"
         "});</script>")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The report of the heat link, whose smelter has a name and description with markup in them."""
    folder = tmp_path_factory.mktemp("report")
    raw = edit(HEAT_LINK, "actors", 0, name=EVIL, description='<img src="https://example.com/x.png"> [S example.org]',
               sector="C24 silicon")
    raw["actors"][1]["sector"] = "<i>A01</i> greenhouse"  # no sector of the table takes it: a note, escaped
    for row in raw["actor_processes"]:  # direct figures for the ripple effects
        row.update(value_added_per_unit=2.0, jobs_per_unit=0.001)
    raw["settings"]["description"] = "A tiny <b>test</b> cluster."
    raw["settings"]["currency"] = "EUR"
    path = folder / "evil.yaml"
    path.write_text(yaml.safe_dump(raw))
    (folder / "io.yaml").write_text(yaml.safe_dump(IO_TABLE))
    (folder / "region.yaml").write_text(yaml.safe_dump(REGION))
    assert main(["report", str(path), "--seed", "1", "--out", str(folder / "out"), "--incentives", "exchange_subsidy",
                 "--io-table", str(folder / "io.yaml"), "--region-totals", str(folder / "region.yaml")]) == 0
    return folder / "out" / "report.html"


def _images(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", html)


def test_report_has_its_sections_and_is_self_contained(report):
    html = report.read_text()
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    for heading in ("The cluster", "The coordinated optimum", "The decentralised outcome", "The gap", "Winners and losers",
                    "Transfers per sharing rule", "Core check", "5. Ripple effects", "6. Incentives",
                    "<h3>exchange_subsidy</h3>", "7. Method, seed", "Method notes", "Versions", "Sources"):
        assert heading in html
    images = _images(html)
    assert len(images) >= 5 and all(src.startswith("data:image/") for src in images)
    for src in images:  # each decodes to the figure it says it is
        kind, data = src.removeprefix("data:").split(";base64,")
        raw = base64.b64decode(data)
        assert raw.startswith(b"\x89PNG") if kind == "image/png" else b"<svg" in raw[:2000]
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "a resource outside the file"
    assert "@import" not in html and "url(http" not in html
    assert "@page { size: A4" in html
    for name in ("python", "symbiosim", "pyomo", "highspy", "mesa"):
        assert f"<td>{name}</td>" in html
    assert "seed</dt><dd class=\"mono\">1</dd>" in html
    assert "S example.org" in html  # the scenario's sources
    assert "--io-table io.yaml" in html and "<dt>input-output table</dt>" in html  # what exactly was run


def test_report_shows_the_ripple_effects_of_each_outcome(report):
    """The ripple section: per outcome and part (direct, indirect and induced, national and regional), the
    cluster's totals; the smelter's direct value added is the optimum's own, and the greenhouse, whose NACE code
    no sector takes, is named in a note (escaped)."""
    html = report.read_text()
    section = html[html.index('<section id="ripple"'):html.index("</section>", html.index('<section id="ripple"'))]
    for text in ("two_sectors", "Tinyland", "direct (the actors&#39; own)", "indirect, national", "induced, national",
                 "indirect, regional", "induced, regional", "total, regional", "stand-alone", "decentralised",
                 "coordinated", "gap (coordinated - decentralised)", "Per actor, coordinated optimum", "C24_metals"):
        assert text in section, text
    assert "takes greenhouse (&lt;i&gt;A01&lt;/i&gt;)" in section and "<i>A01</i>" not in section
    assert len(_images(section)) == 1


def test_scenario_text_is_escaped(report):
    html = report.read_text()
    assert "<script>alert" not in html and "<b>test</b>" not in html and '<img src="https://example.com' not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;Smelter &amp; Co" in html
    assert "A tiny &lt;b&gt;test&lt;/b&gt; cluster." in html


def test_numbers_are_plain(report):
    html = re.sub(r"<style>.*?</style>", "", report.read_text(), flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)  # the text a reader sees (a file's SHA-256 is one word of hex digits)
    assert not re.search(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+\b", text), "scientific notation in the report"
    assert "EUR" in text and "NOK" not in text and "nan" not in text.split()


def test_report_renders_in_chromium_and_prints_on_a4(report, chromium: Chromium, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium.dump_dom(probe.as_uri(), width=794)
    for section in SECTIONS:
        assert f'id="{section}"' in dom
    assert len(_images(dom)) >= 5
    broken = re.search(r'data-broken="(\d+)"', dom)
    assert broken is not None and broken.group(1) == "0", "an image did not load"
    assert re.search(r'data-overflow="0"', dom), "a table or figure is wider than the page"
    shot = chromium.screenshot(report.as_uri(), tmp_path / "page.png", 1000, 1400)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
    pages = pdf_pages(chromium.print_to_pdf(report.as_uri(), tmp_path / "report.pdf"))
    assert len(pages) >= 4  # a page break before each section
    for width, height in pages:
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2


def test_report_needs_out_and_a_scenario_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")])
    assert info.value.code == 2 and "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path / "missing.yaml")])


def test_summarize_html(tmp_path, chromium: Chromium, capsys):
    from symbiosim.experiments.runner import Experiment, run_experiment
    from tests.test_experiments import UNCERTAINTY
    from tests.tiny import build

    scenario = build(HEAT_LINK, uncertainty=UNCERTAINTY)
    db = tmp_path / "e.duckdb"
    run_experiment(Experiment(scenario, 4, arms={"none": {}, "subsidy": {"exchange_subsidy": 20}}, replications=1, seed=3,
                              name="tiny <i>exp</i>"), db)
    assert main(["summarize", str(db), "--html"]) == 0
    page = tmp_path / "e_report" / "report.html"
    assert f"report written to {page}" in capsys.readouterr().out
    html = page.read_text()
    for section in ("arms", "paired", "sensitivity", "failure", "method"):
        assert f'<section id="{section}"' in html
    assert "tiny &lt;i&gt;exp&lt;/i&gt;" in html and "<i>exp</i>" not in html
    assert "exchange_subsidy = 20" in html
    assert "not to be trusted" in html and "needs at least" in html  # 4 samples: the sensitivity warning
    assert "price of purchases (gas)" in html  # inputs by their readable labels
    images = _images(html)
    assert len(images) == 4 and all(src.startswith("data:image/png;base64,") for src in images)
    pages = pdf_pages(chromium.print_to_pdf(page.as_uri(), tmp_path / "e.pdf"))
    assert pages and all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in pages)


@pytest.mark.slow
def test_orkanger_report(tmp_path, chromium: Chromium):
    """The bundled scenario end to end (about a minute of solving)."""
    root = Path(__file__).parents[1]
    assert main(["report", str(root / "scenarios" / "orkanger.yaml"), "--seed", "1", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "M NOK" in html and "Elkem Thamshavn" in html
    pages = pdf_pages(chromium.print_to_pdf((tmp_path / "report.html").as_uri(), tmp_path / "o.pdf"))
    assert len(pages) >= 5


def test_money_and_numbers_in_one_scale():
    from symbiosim.report.html import Money, _incentive_section, plain

    m = Money.for_values("NOK", [4.991e9, 1.2e5])
    assert m.unit == "M NOK" and m.full(4.991e9) == "4,991.00 M NOK" and m.signed(1.2e5) == "+0.12" and m.signed(-1e-9) == "0"
    assert Money.for_values("EUR", [7000]).full(7000) == "7,000 EUR"
    assert Money.for_values("NOK", [5e10]).unit == "M NOK"  # a report reads in M, never bn
    assert plain(-4.5e-14, 2) == "0" and plain(float("nan")) == "n/a" and plain(None) == "n/a" and plain(1234567.891) == "1,234,568"
    section = _incentive_section("disposal_tax: no potential to share", m, None)
    assert section["instrument"] == "disposal_tax" and "no potential to share" in section["verdict"]


def test_incentive_verdict_names_the_actor_below_standalone(tmp_path):
    """A search that fails: the section says so with the command line's words, naming who ends below stand-alone."""
    import pandas as pd

    from symbiosim.report.html import FigureMaker, Money, _incentive_section
    from symbiosim.runs import IncentiveSearch

    tried = pd.DataFrame({"instrument": "exchange_subsidy", "level": [0.0, 10.0, 20.0], "share_of_potential": [0.1, 0.5, 0.983],
                          "share_sd": [0.0, 0.1, 0.0], "public_cost": [0.0, 2e6, 4e6], "deadweight": [0.0, 0.0, 1e6],
                          "actors_below_standalone": [0, 1, 1],
                          "below_standalone": [[], [{"actor": "isfjord", "shortfall": 1.2e6}], [{"actor": "isfjord", "shortfall": 3.4e6}]]})
    result = {"reached": False, "level": None, "result": tried.iloc[-1].to_dict(), "tried": tried.to_dict("records")}
    section = _incentive_section(IncentiveSearch("exchange_subsidy", 0.8, [1, 2], result, tried), Money("NOK"), FigureMaker(tmp_path))
    assert "not reached" in section["verdict"] and "isfjord" in section["verdict"]
    assert section["table"].header[-1].startswith("below stand-alone by")
    assert section["table"].rows[-1][-1].startswith("isfjord 3.4") and "M NOK" in section["table"].rows[-1][-1]
    assert section["figure"] is not None and section["figure"].src.startswith("data:image/svg+xml;base64,")
