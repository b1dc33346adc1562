"""What the region loses without one actor (issue 15, item 3): the optimum with and without it."""

from __future__ import annotations

import pytest

from symbiosim.accounts import evaluate
from symbiosim.decide.without import region_without, without_summary
from symbiosim.errors import ScenarioError
from symbiosim.planner import optimise
from symbiosim.scenario.edit import without_actor
from tests.tiny import HEAT_LINK, build


def test_without_the_smelter_the_greenhouse_is_as_it_would_be_alone():
    """HEAT_LINK: the smelter's waste heat is the greenhouse's only alternative to gas. Without the
    smelter, the greenhouse has nobody to exchange with, so its profit is its stand-alone profit (the
    baseline's, where no new exchange is allowed), and what it loses is exactly its gain from the pipe
    in the optimum. The heat the smelter sent is listed as what no longer comes."""
    s = build(HEAT_LINK)
    r = region_without(s, "smelter")
    alone = evaluate(s, optimise(s, baseline=True)).actors.set_index("actor").profit
    greenhouse = r.actors.set_index("actor").loc["greenhouse"]
    assert greenhouse.profit_without == pytest.approx(alone["greenhouse"], rel=1e-6, abs=1e-6)
    assert greenhouse.profit_lost == pytest.approx(greenhouse.profit_with - alone["greenhouse"], rel=1e-6, abs=1e-6)
    assert greenhouse.profit_lost > 0
    assert list(r.inputs_lost["receiver"]) == ["greenhouse"] and r.inputs_lost.quantity.iloc[0] > 0
    kpis = r.kpis.set_index("key_figure")
    assert kpis.loc["cluster_npv", "lost"] == pytest.approx(kpis.loc["cluster_npv", "with"] - kpis.loc["cluster_npv", "without"])
    assert r.others_lose == pytest.approx(greenhouse.profit_lost)
    text = without_summary(r)
    assert "greenhouse" in text and "NOK" in text and "e+" not in text


def test_without_actor_drops_its_rows_and_refuses_an_unknown_actor():
    s = build(HEAT_LINK)
    reduced = without_actor(s, "smelter", name="without smelter")
    assert "smelter" not in {a.id for a in reduced.actors}
    assert all(r.actor != "smelter" for r in reduced.actor_processes)
    assert all("smelter" not in (link.from_, link.to) for link in reduced.links)
    assert len(s.actors) == len(reduced.actors) + 1  # the input is not changed
    with pytest.raises(ScenarioError, match="no such actor"):
        without_actor(s, "nobody", name="without nobody")


def test_the_cli_names_a_wrong_actor_before_any_solve(tmp_path, capsys):
    import yaml

    from symbiosim import cli

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(build(HEAT_LINK).model_dump(by_alias=True, exclude_none=True, mode="json")))
    assert cli.main(["without", str(path), "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert cli.main(["without", str(path), "smelter", "--json"]) == 0


def test_without_in_the_decentralised_outcome_the_partner_falls_back_to_stand_alone():
    """The heat pipe of issue 11 forms under the default rules (tests/test_formation.py: 2.5154/MWh). Without the
    smelter, the greenhouse has no partner: in the decentralised outcome it earns exactly its stand-alone
    profit, so it loses what the deal gave it; the heat that came through the pipe is listed. The same seed
    runs with and without, and the result says which outcome and seed it measured."""
    from symbiosim.simulator import simulate
    from tests.test_formation import heat_pipe

    s = heat_pipe()
    run = simulate(s, 0)
    assert (run.offers.outcome == "accepted").any()  # the deal forms with the smelter
    r = region_without(s, "smelter", outcome="decentralised", seed=0)
    alone = evaluate(s, optimise(s, baseline=True)).actors.set_index("actor").profit
    greenhouse = r.actors.set_index("actor").loc["greenhouse"]
    with_deal = evaluate(s, run.plan).actors.set_index("actor").profit["greenhouse"]
    assert greenhouse.profit_with == pytest.approx(with_deal)
    assert greenhouse.profit_without == pytest.approx(alone["greenhouse"], rel=1e-6, abs=1e-6)
    assert greenhouse.profit_lost == pytest.approx(with_deal - alone["greenhouse"], rel=1e-6, abs=1e-6) and greenhouse.profit_lost > 0
    assert list(r.inputs_lost["product"]) == ["heat"]
    assert r.meta["outcome"] == "decentralised" and r.meta["seed"] == 0
    assert "decentralised outcome, simulator seed 0" in without_summary(r)
    with pytest.raises(ValueError, match="outcome must be"):
        region_without(s, "smelter", outcome="bogus")


def test_the_cli_takes_a_seed_only_for_the_decentralised_outcome(tmp_path, capsys):
    import yaml

    from symbiosim import cli

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(build(HEAT_LINK).model_dump(by_alias=True, exclude_none=True, mode="json")))
    assert cli.main(["without", str(path), "smelter", "--seed", "3"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert cli.main(["without", str(path), "smelter", "--outcome", "decentralised", "--seed", "3", "--json"]) == 0
    assert '"outcome": "decentralised"' in capsys.readouterr().out
