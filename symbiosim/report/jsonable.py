"""Plain JSON values from numpy/pandas results: NaN and infinity become null.

The one JSON printer of the package: ``finite`` and ``records`` make values
JSON-ready, ``clean`` does so recursively (dicts, lists, tuples, arrays),
``default`` is the ``json.dumps`` fallback for what is left (numpy scalars
unwrapped, anything else as its text), ``dumps`` / ``print_json`` /
``write_json`` print or write one object with it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
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


def clean(obj: Any) -> Any:
    """``obj`` made JSON-ready all the way down: dict keys as text, tuples and arrays as lists,
    every scalar through ``finite``."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    return finite(obj)


def default(x: Any) -> Any:
    """``json.dumps``' ``default=``: numpy scalars unwrapped, anything else as its text."""
    if hasattr(x, "item"):
        return x.item()
    return str(x)


def dumps(obj: Any, *, indent: int | None = None, allow_nan: bool = False) -> str:
    """One JSON document (NaN refused unless ``allow_nan``)."""
    return json.dumps(obj, indent=indent, default=default, allow_nan=allow_nan)


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` output of every command)."""
    print(dumps(obj))


def write_json(path: str | Path, obj: Any, *, allow_nan: bool = False) -> Path:
    """Write one indented JSON object to ``path``."""
    path = Path(path)
    path.write_text(dumps(obj, indent=2, allow_nan=allow_nan))
    return path
