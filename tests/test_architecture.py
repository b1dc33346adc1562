"""The one-way data flow of docs/architecture.md, checked on the source: each module imports
only from its own package or from the layers below it (a cycle or a shortcut fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1] / "symbiosim"

# Lowest first. A module may import from its own unit and from units of lower layers.
LAYERS: list[set[str]] = [
    {"errors", "progress", "store", "parallel", "report.jsonable", "report.numbers", "report.style", "__version__"},
    {"scenario"},
    {"ledger", "plan", "ripple"},
    {"planner", "accounts", "report.figures"},
    {"simulator", "doctor"},
    {"compare"},
    {"decide", "experiments", "calibrate", "report"},
    {"runs"},
    {"app"},
    {"cli"},
    {"__main__"},
]
LAYER_OF = {unit: i for i, units in enumerate(LAYERS) for unit in units}
CLI = {"cli", "cli_args", "decide.cli", "experiments.cli", "app.cli", "ripple.cli", "ripple.ledgers_cli"}  # the command line is one unit, wherever its parsers live


def unit_of(module: str) -> str:
    """The unit of a dotted module name below ``symbiosim``: the longest name in LAYERS."""
    if module in CLI:
        return "cli"
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in LAYER_OF:
            return name
    raise AssertionError(f"symbiosim.{module} is in no layer of docs/architecture.md: add it there and here")


def imports(path: Path) -> list[str]:
    """Modules below ``symbiosim`` that ``path`` imports (``from symbiosim import x`` -> ``x``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "symbiosim":
                out += [a.name for a in node.names]
            elif node.module.startswith("symbiosim."):
                out.append(node.module.removeprefix("symbiosim."))
        elif isinstance(node, ast.Import):
            out += [a.name.removeprefix("symbiosim.") for a in node.names if a.name.startswith("symbiosim.")]
    return out


def test_every_import_flows_down_the_layers():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module == "__init__":
            continue  # the package's public API re-exports from every layer
        mine = unit_of(module)
        for target in imports(path):
            theirs = unit_of(target)
            if theirs != mine and LAYER_OF[theirs] >= LAYER_OF[mine]:
                wrong.append(f"{module} ({mine}, layer {LAYER_OF[mine]}) imports {target} ({theirs}, layer {LAYER_OF[theirs]})")
    assert not wrong, "\n".join(wrong)


def test_the_layers_are_the_documented_ones():
    text = (ROOT.parent / "docs" / "architecture.md").read_text()
    for units in LAYERS:
        for unit in units - {"__version__", "__main__"}:
            assert f"`{unit}`" in text, f"docs/architecture.md does not name `{unit}`"
