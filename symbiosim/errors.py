"""Errors a user can read: what is wrong, where, and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in a scenario, located by table, row and column.

    ``source`` (optional) names where the issue comes from when one error gathers
    the issues of several inputs, e.g. ``"case gas_80"`` for the cases of a case file.
    """

    table: str
    row: str | int | None
    column: str | None
    message: str
    source: str | None = None

    def location(self) -> str:
        where = self.table
        if self.row is not None:
            where += f"[{self.row}]"
        if self.column:
            where += f".{self.column}"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        return f"{self.source}: {text}" if self.source else text


class SymbiosimError(Exception):
    """Base class of every error symbiosim raises on purpose."""


class ScenarioError(SymbiosimError):
    """A scenario failed validation; ``issues`` lists every problem found.

    ``what`` names the input in the report's first line ("3 errors in scenario";
    a case file says "in cases").
    """

    def __init__(self, issues: list[Issue], source: str = "", *, what: str = "scenario") -> None:
        self.issues = list(issues)
        self.source = source
        self.what = what
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{self.source}: " if self.source else ""
        n = len(self.issues)
        lines = [f"{head}{n} error{'s' if n != 1 else ''} in {self.what}"]
        lines += [f"  {self.source + ': ' if self.source else ''}{issue}" for issue in self.issues]
        return "\n".join(lines)


class OutputError(SymbiosimError):
    """An output cannot be written as asked (e.g. a table longer than an Excel sheet holds); says what to do instead."""


class ModelError(SymbiosimError):
    """The optimisation model could not be built or solved as asked."""


class InfeasibleError(ModelError):
    """No plan satisfies every constraint; ``diagnosis`` names the likely culprits."""

    def __init__(self, diagnosis: list[str]) -> None:
        self.diagnosis = list(diagnosis)
        super().__init__("the scenario is infeasible:\n" + "\n".join(f"  - {d}" for d in self.diagnosis))


class BaselineInfeasibleError(InfeasibleError):
    """The stand-alone baseline (no new symbiosis) has no plan; ``diagnosis`` says why,
    in the baseline's words. The optimum may still exist; shares of the potential,
    which are measured from the baseline, are undefined."""

    def __init__(self, diagnosis: list[str]) -> None:
        self.diagnosis = list(diagnosis)
        ModelError.__init__(
            self, "the stand-alone baseline (no new symbiosis) has no plan:\n" + "\n".join(f"  - {d}" for d in self.diagnosis)
        )


class UnboundedError(ModelError):
    """The objective can grow without limit; ``diagnosis`` names the free lunch."""

    def __init__(self, diagnosis: list[str]) -> None:
        self.diagnosis = list(diagnosis)
        super().__init__("the scenario is unbounded (a free lunch):\n" + "\n".join(f"  - {d}" for d in self.diagnosis))


class SolverError(ModelError):
    """The solver itself failed (not the scenario); ``message`` is HiGHS's own."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"HiGHS failed (a solver error, not a property of the scenario): {message}")
