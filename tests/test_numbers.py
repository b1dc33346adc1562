"""report.numbers: the one way to print a number (answers written by hand, and properties)."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbiosim.report import numbers as n

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
NEGATIVE_ZERO = re.compile(r"(?<![\d.,])-0(?:[.,]0*)?(?![\d.,]*[1-9])")


def no_noise(text: str) -> None:
    assert not SCIENTIFIC.search(text), text
    assert not NEGATIVE_ZERO.search(text), text


@pytest.mark.parametrize(("value", "expected"), [
    (4.991e9, "4,991 M NOK"),
    (4.9704e9, "4,970 M NOK"),
    (1.234e7, "12.3 M NOK"),
    (1.299335e6, "1.3 M NOK"),
    (1.5e6, "1.5 M NOK"),
    (4.216432e7, "42.2 M NOK"),
    (1.805e10, "18,050 M NOK"),
    (2.5e11, "250 bn NOK"),
    (12345.0, "12.3 k NOK"),
    (5000.0, "5,000 NOK"),
    (12.5, "12.5 NOK"),
    (0.0, "0 NOK"),
    (4.547303e-14, "0 NOK"),
    (-4.547303e-14, "0 NOK"),
    (-2.512e8, "-251 M NOK"),
    (float("nan"), "n/a"),
    (None, "n/a"),
])
def test_money_by_hand(value: float, expected: str) -> None:
    assert n.money(value, "NOK") == expected


def test_money_with_a_given_scale_and_decimals() -> None:
    assert n.money(4.991e9, "NOK", "bn") == "4.99 bn NOK"
    assert n.money(4.991e9, "EUR", "M", 2) == "4,991.00 M EUR"
    assert n.money(-651.3, "NOK/t", "") == "-651 NOK/t"
    assert n.money(4e-3, "NOK", "") == "0 NOK"  # below half an øre


def test_quantities_shares_and_plain_numbers() -> None:
    assert n.quantity(1200, "t") == "1,200 t"
    assert n.quantity(35000, "MWh") == "35,000 MWh"
    assert n.quantity(4712654.3, "t CO2e") == "4,712,654 t CO2e"
    assert n.quantity(-1e-12, "t") == "0 t"
    assert n.percent(0.983) == "98.3%"
    assert n.percent(-1e-16) == "0%"
    assert n.percent(1.0000000000000018) == "100.0%"
    assert n.number(4.547303e-14) == "0"
    assert n.number(884.9) == "885"
    assert n.fixed(-0.004, 2) == "0"
    assert n.fixed(1e300, 0).startswith("1,000,000")  # never 1e+300


def test_one_scale_per_column_and_decimals_that_tell_values_apart() -> None:
    assert n.scale_for([4.991e9, 1e3, float("nan")]) == "M"
    assert n.scale_for([1.2e11]) == "bn"
    assert n.scale_for([9999.0]) == ""
    assert n.scale_for([]) == ""
    # the pareto objective: 4,991 / 4,988 / 4,930 M apart at 0 decimals
    f = n.money_format([4.991e9, 4.988e9, 4.93e9], "NOK")
    assert (f.scale, f.decimals, f.label) == ("M", 0, "M NOK")
    # 884.9 and 884.7 jobs would both print 885: one more decimal
    assert n.quantity_format([884.9, 884.7], "jobs").decimals == 1
    # 1e-9 apart is noise, not a reason for more decimals
    assert n.quantity_format([1000.0, 1000.0 + 1e-9]).decimals == 0
    # a column whose only non-zero is noise next to a big value prints 0 for it
    g = n.money_format([4.991e9, 4.547303e-14], "NOK")
    assert g(4.547303e-14) == "0" and g(4.991e9) == "4,991"


def test_key_figures_have_their_units() -> None:
    assert n.key_figure("cluster_npv", "EUR") == ("money", "EUR")
    assert n.key_figure("emissions", "EUR") == ("quantity", "t CO2e")
    assert n.key_figure("jobs", "EUR") == ("quantity", "jobs/yr")
    assert n.key_figure("exchanged_MWh", "EUR") == ("quantity", "MWh")
    assert n.key_figure("weird", "EUR") == ("number", "")


def test_table_columns_are_no_wider_than_their_content_and_long_text_gets_a_key() -> None:
    long = ", ".join(f"+exchange:actor_{i}->other_{i}:product" for i in range(8))
    frame = pd.DataFrame({"point": ["p0", "p1", "p2"], "npv": [4.991e9, 4.988e9, 4.93e9], "share": [1.0, 0.9994, 0.5],
                          "changed": ["", "+build:a/b", long], "robust": [True, False, True], "n": [0, 4, 16]})
    text = n.table(frame, {"point": n.Column("text"), "npv": n.Column("money", "NOK", "cluster_npv"),
                           "share": n.Column("share", title="of optimum"), "changed": n.Column("text"), "robust": n.Column(),
                           "n": n.Column()}, max_text=30, width=80)
    lines = text.splitlines()
    assert lines[0].split() == ["point", "cluster_npv", "of", "optimum", "changed", "robust", "n"]
    assert lines[1].split() == ["M NOK", "%"] or lines[1].split() == ["M", "NOK", "%"]
    assert lines[2].split() == ["p0", "4,991", "100.0", "-", "yes", "0"]
    assert lines[3].split() == ["p1", "4,988", "99.9", "+build:a/b", "no", "4"]
    assert lines[4].split() == ["p2", "4,930", "50.0", "[1]", "yes", "16"]
    assert lines[5].strip() == "key to changed:"
    assert lines[6].strip().startswith("[1] +exchange:actor_0->other_0:product,")
    assert all(len(line) <= 80 for line in lines[6:])
    key = " ".join(line.strip() for line in lines[6:]).removeprefix("[1] ")
    assert key == long  # wrapped, nothing lost
    # no column is padded beyond its widest cell: the table is as wide as its header line
    assert max(len(line) for line in lines[:5]) == len(lines[0])
    assert len(lines[0]) < 60


def test_identical_long_texts_share_one_key_and_empty_tables_say_so() -> None:
    long = "x" * 50
    frame = pd.DataFrame({"a": [long, long, "short"]})
    text = n.table(frame, max_text=20)
    assert text.count("[1]") == 3 and "[2]" not in text  # twice in the table, once in the key
    assert n.table(frame.iloc[:0]) == "  (none)"


def test_row_table_formats_each_row_in_its_own_unit() -> None:
    text = n.row_table([("cluster_npv", "money", "NOK", [4.991e9, 4.803e9, 1.883e8]),
                        ("emissions", "quantity", "t CO2e", [4712654.3, 4708928.3, 3726.0]),
                        ("public_cost", "money", "NOK", [0.0, 4.547303e-14, -4.547303e-14])], ["plan", "baseline", "difference"])
    rows = [line.split() for line in text.splitlines()]
    assert rows[0] == ["key", "figure", "unit", "plan", "baseline", "difference"]
    assert rows[1] == ["cluster_npv", "M", "NOK", "4,991", "4,803", "188"]
    assert rows[2] == ["emissions", "t", "CO2e", "4,712,654", "4,708,928", "3,726"]
    assert rows[3] == ["public_cost", "NOK", "0", "0", "0"]


FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=-1e16, max_value=1e16) | st.floats(
    min_value=-1e-6, max_value=1e-6)


@settings(max_examples=300, deadline=None)
@given(FLOATS)
def test_no_scientific_notation_and_no_negative_zero_for_one_number(x: float) -> None:
    for text in (n.money(x, "NOK"), n.quantity(x, "t"), n.number(x), n.percent(x), n.fixed(x, 2)):
        no_noise(text)
    if math.isfinite(x) and abs(x) < 1e-3:
        assert n.money(x, "NOK") == "0 NOK"


@settings(max_examples=200, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=8), st.sampled_from(["money", "quantity", "share", "number"]))
def test_no_scientific_notation_and_no_negative_zero_in_a_column(values: list[float], kind: str) -> None:
    f = n.fmt_for(values, kind, "NOK")
    cells = [f(v) for v in values]
    for c in cells:
        no_noise(c)
    # values that print differently are different, and the largest keeps >= 3 significant digits
    # unless the kind's finest step is reached
    finite = [v for v in values if math.isfinite(v)]
    if finite and kind == "money":
        top = max(finite, key=abs)
        shown = float(f(top).replace(",", "")) * n.SCALES[f.scale]
        assert shown == pytest.approx(top, rel=5e-3, abs=0.01 * n.SCALES[f.scale] + 0.005)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-1e12, max_value=1e12), min_size=1, max_size=6))
def test_a_table_of_random_money_is_clean_and_aligned(values: list[float]) -> None:
    text = n.table(pd.DataFrame({"v": values}), {"v": n.Column("money", "NOK")})
    no_noise(text)
    lines = text.splitlines()
    assert len({len(line) for line in lines[2:]}) == 1  # right-aligned: every cell as wide
