"""Plain JSON values from numpy/pandas results: NaN and infinity become null."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def finite(x: Any) -> Any:
    """A JSON-ready scalar: numpy scalars unwrapped, non-finite floats as None."""
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as JSON-ready dicts."""
    return [{k: finite(v) for k, v in row.items()} for row in frame.to_dict("records")]
