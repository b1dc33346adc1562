"""The scenario schema (contract v1 and its extensions, ``docs/scenario-format.md``).

Every table row is a frozen pydantic model with ``extra="forbid"``; every field
carries a unit and a one-line description. The Excel template, the column
documentation and the error messages are generated from these models, never
written twice.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
PERIODS_PER_YEAR = (1, 2, 4, 12)

# Every number of a scenario is 0 or has a magnitude in [SMALLEST_NUMBER, LARGEST_NUMBER]
# (contract v1.3, docs/scenario-format.md): smaller non-zero numbers (denormals such as
# 1e-308 crash HiGHS) and larger ones are noise or typos that no model can use reliably.
SMALLEST_NUMBER = 1e-9
LARGEST_NUMBER = 1e12
NUMBER_RANGE = "expected 0 or a number of magnitude 1e-9 to 1e12"
NUMBER_RANGE_ERROR = "number_range"  # pydantic error type of a number outside the range


def number_problem(value: Any) -> str | None:
    """Why a number cannot be in a scenario (None: it can, or it is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "expected a finite number"
    if value != 0 and not SMALLEST_NUMBER <= abs(value) <= LARGEST_NUMBER:
        return NUMBER_RANGE
    return None


def show(value: Any) -> str:
    """``repr`` for messages, never enormous: long text, big structures and huge
    integers are shortened (and a value shared many times over is never walked)."""
    try:
        text = _SHORT.repr(value)
        return text if len(text) <= 200 else text[:196] + " ..."
    except Exception:  # e.g. an integer beyond Python's 4300-digit str limit
        if isinstance(value, int):
            return f"an integer of {value.bit_length()} bits"
        return f"a {type(value).__name__}"


def _short_repr() -> Any:
    import reprlib

    short = reprlib.Repr()
    short.maxstring = short.maxother = 120
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 6
    short.maxlevel = 2
    short.maxlong = 60
    return short


_SHORT = _short_repr()


def col(default: Any = ..., *, unit: str = "", doc: str, **kw: Any) -> Any:
    """A documented column: ``unit`` and ``doc`` feed the template and the docs."""
    return Field(default, description=doc, json_schema_extra={"unit": unit}, **kw)


class Row(BaseModel):
    """Base of every table row: immutable, unknown columns are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _usable_numbers(cls, value: Any) -> Any:
        """Every number given (a cell, or an entry of a {product: number} mapping) is in range."""
        entries = value.items() if isinstance(value, dict) else ((None, value),)
        for key, number in entries:
            problem = number_problem(number)
            if problem:
                entry = f"entry {key}: " if key is not None else ""
                raise PydanticCustomError(NUMBER_RANGE_ERROR, "{message}", {"message": f"{entry}{problem}, got {show(number)}"})
        return value


class Settings(Row):
    name: str = col(doc="Short name of the scenario")
    description: str = col("", doc="What the scenario represents")
    currency: str = col("NOK", doc="Currency of every money figure")
    start_year: int = col(2025, unit="year", doc="Calendar year of year index 0")
    years: int = col(unit="years", doc="Length of the horizon", ge=1, le=100)
    periods_per_year: Literal[1, 2, 4, 12] = col(1, doc="Periods per year: 1, 2, 4 or 12")
    discount_rate: float = col(0.06, unit="1/yr", doc="Discount rate per year", ge=0, le=1)


class Product(Row):
    id: str = col(doc="snake_case id", pattern=ID_PATTERN)
    unit: str = col(doc="Unit of every quantity of this product, e.g. t, MWh, m3")
    kind: Literal["material", "energy", "water", "service"] = col(
        doc="material, energy, water or service"
    )
    disposal_cost: float | None = col(
        None,
        unit="money/unit",
        doc="Cost of getting rid of one unit of surplus; empty = may not be disposed",
        ge=0,
    )
    disposal_emissions: float = col(0.0, unit="t CO2e/unit", doc="Emissions per unit disposed", ge=0)
    transport_cost: float = col(
        0.0, unit="money/(unit km)", doc="Cost per unit per km moved between actors", ge=0
    )
    needs_link: bool = col(
        False, doc="true: moves between actors only over a built link (pipes); false: trucked"
    )


class Actor(Row):
    id: str = col(doc="snake_case id", pattern=ID_PATTERN)
    name: str = col("", doc="Display name")
    exists: bool = col(True, doc="true: in the cluster today; false: a candidate new actor")
    lat: float | None = col(None, unit="deg", doc="Latitude (WGS84)", ge=-90, le=90)
    lon: float | None = col(None, unit="deg", doc="Longitude (WGS84)", ge=-180, le=180)
    region: str = col("", doc="Region, for value added by region")
    sector: str = col("", doc="Sector, e.g. NACE section")
    entry_cost: float = col(0.0, unit="money", doc="One-off cost of entering (candidates only)", ge=0)
    fixed_cost: float = col(0.0, unit="money/yr", doc="Fixed cost per year while present", ge=0)
    earliest_year: int = col(0, unit="year index", doc="First year it may enter (from 0)", ge=0)
    description: str = col("", doc="Free text")


class Process(Row):
    id: str = col(doc="snake_case id", pattern=ID_PATTERN)
    inputs: dict[str, float] = col(
        default_factory=dict, unit="unit/activity", doc="{product: amount consumed per unit of activity}"
    )
    outputs: dict[str, float] = col(
        default_factory=dict, unit="unit/activity", doc="{product: amount produced per unit of activity}"
    )
    description: str = col("", doc="Free text")

    @field_validator("inputs", "outputs")
    @classmethod
    def _positive_amounts(cls, recipe: dict[str, float]) -> dict[str, float]:
        bad = [p for p, a in recipe.items() if not a > 0]
        if bad:
            raise ValueError(f"amounts must be > 0 (product {', '.join(bad)})")
        return recipe

    @model_validator(mode="after")
    def _not_empty(self) -> Process:
        if not self.inputs and not self.outputs:
            raise ValueError("a recipe needs at least one input or output")
        return self


class ActorProcess(Row):
    actor: str = col(doc="Actor id")
    process: str = col(doc="Process id")
    exists: bool = col(True, doc="true: running today; false: a candidate investment")
    capacity: float | None = col(None, unit="activity/yr", doc="Max activity per year; empty = unlimited", ge=0)
    fixed_activity: float | None = col(
        None, unit="activity/yr", doc="If set: activity equals this every year once built", ge=0
    )
    min_activity: float = col(0.0, unit="activity/yr", doc="Lower bound per year while built", ge=0)
    variable_cost: float = col(0.0, unit="money/activity", doc="Cost per unit of activity", ge=0)
    fixed_cost: float = col(0.0, unit="money/yr", doc="Fixed cost per year while built", ge=0)
    build_cost: float = col(0.0, unit="money", doc="One-off cost of building (candidates only)", ge=0)
    earliest_year: int = col(0, unit="year index", doc="First year it may be built", ge=0)
    value_added_per_unit: float = col(0.0, unit="money/activity", doc="Value added per unit of activity")
    jobs_per_unit: float = col(0.0, unit="jobs/(activity/yr)", doc="Jobs per unit of annual activity", ge=0)
    emissions_per_unit: float = col(0.0, unit="t CO2e/activity", doc="Direct emissions per unit of activity")
    profile: str | None = col(None, doc="Seasonal profile name for fixed_activity")


class Purchase(Row):
    actor: str = col(doc="Actor id")
    product: str = col(doc="Product id")
    price: float = col(unit="money/unit", doc="Price per unit bought from outside the cluster", ge=0)
    limit: float | None = col(None, unit="unit/yr", doc="Max per year; empty = unlimited", ge=0)
    emissions_per_unit: float = col(0.0, unit="t CO2e/unit", doc="Embodied emissions per unit")
    profile: str | None = col(None, doc="Seasonal profile name for the limit")


class Sale(Row):
    actor: str = col(doc="Actor id")
    product: str = col(doc="Product id")
    price: float = col(unit="money/unit", doc="Price per unit sold outside the cluster")
    limit: float | None = col(None, unit="unit/yr", doc="Max per year; empty = unlimited", ge=0)
    profile: str | None = col(None, doc="Seasonal profile name for the limit")


class Link(Row):
    from_: str = col(alias="from", doc="Sending actor id")
    to: str = col(doc="Receiving actor id")
    product: str = col(doc="Product id")
    exists: bool = col(False, doc="true: built / exchanging today (kept in the baseline)")
    capacity: float | None = col(None, unit="unit/yr", doc="Max per year; empty = unlimited", ge=0)
    build_cost: float | None = col(None, unit="money", doc="One-off cost of building (needs_link products)", ge=0)
    fixed_cost: float | None = col(None, unit="money/yr", doc="Fixed cost per year once built (needs_link)", ge=0)
    distance_km: float | None = col(None, unit="km", doc="Overrides the great-circle distance", ge=0)
    price: float | None = col(None, unit="money/unit", doc="Contract price per unit (per-actor accounts)")
    earliest_year: int | None = col(None, unit="year index", doc="First year it may be built (needs_link)", ge=0)


class Storage(Row):
    actor: str = col(doc="Actor id")
    product: str = col(doc="Product id")
    capacity: float = col(unit="unit", doc="Max amount held", ge=0)
    cost: float = col(0.0, unit="money/(unit period)", doc="Cost per unit held per period", ge=0)


PolicyValue = float | dict[str, float] | None


class Policies(Row):
    exchange_subsidy: PolicyValue = col(None, unit="money/unit", doc="Paid per unit moved between actors")
    disposal_tax: PolicyValue = col(None, unit="money/unit", doc="Per unit disposed")
    virgin_tax: PolicyValue = col(None, unit="money/unit", doc="Per unit purchased from outside")
    carbon_price: PolicyValue = col(None, unit="money/t CO2e", doc="Per t CO2e emitted")
    investment_subsidy: PolicyValue = col(None, unit="share", doc="Share 0..1 of build and entry costs")

    def rate(self, instrument: str, product: str | None = None) -> float:
        """The instrument's value for ``product`` (its own entry, else ``"*"``, else 0)."""
        value = getattr(self, instrument)
        if value is None:
            return 0.0
        if isinstance(value, dict):
            if product is not None and product in value:
                return float(value[product])
            return float(value.get("*", 0.0))
        return float(value)


class Behaviour(Row):
    actor: str = col("*", doc='Actor id, or "*" for the default of every actor')
    hurdle_rate: float | None = col(None, unit="1/yr", doc="Discount rate a firm demands of an investment", ge=0)
    max_payback_years: float | None = col(None, unit="years", doc="Longest payback a firm accepts", gt=0)
    search_radius_km: float | None = col(None, unit="km", doc="Firms within this distance are known", ge=0)
    bargaining_power: float | None = col(None, doc="Share 0..1 of a deal's joint surplus the firm claims", ge=0, le=1)
    contract_years: int | None = col(None, unit="years", doc="Length of a contract", ge=1)
    transaction_cost: float | None = col(
        None, unit="money/yr", doc="Fixed transaction cost per exchange, side and year; alone it is the whole cost", ge=0
    )
    transaction_cost_share: float | None = col(
        None, doc="Transaction cost per side as a share 0..1 of the deal's annual value (v1.4)", ge=0, le=1
    )
    risk_aversion: float | None = col(None, doc="0 = risk neutral; higher discounts uncertain gains", ge=0)
    discovery_rate: float | None = col(
        None, unit="firms/yr", doc="Firms beyond the search radius discovered per year (extension)", ge=0
    )
    attention: int | None = col(None, unit="1/yr", doc="New negotiations a firm starts per year (v1.4)", ge=0)
    imitation: float | None = col(
        None, doc="0..1: chance to learn of a known firm's new partner; transaction costs fall with deals seen (v1.4)", ge=0, le=1
    )
    price_rule: Literal["fixed", "indexed"] | None = col(
        None, doc="A receiver's contract price: fixed for the term, or indexed to the alternative it replaces (v1.4)"
    )
    trust_initial: float | None = col(None, doc="0..1: trust in a firm not yet dealt with (v1.4)", ge=0, le=1)
    trust_gain: float | None = col(None, doc="0..1: trust added when a contract runs its course (v1.4)", ge=0, le=1)
    trust_loss: float | None = col(None, doc="0..1: trust lost when the partner ends a contract early (v1.4)", ge=0, le=1)
    trust_threshold: float | None = col(None, doc="0..1: below this trust a firm does not deal with the other (v1.4)", ge=0, le=1)


class Uncertainty(Row):
    target: str = col(doc="table[column=value].column or settings.column")
    dist: Literal["uniform", "triangular", "normal", "lognormal"] = col(doc="Distribution")
    low: float | None = col(None, doc="uniform / triangular: lower end")
    high: float | None = col(None, doc="uniform / triangular: upper end")
    mode: float | None = col(None, doc="triangular: mode")
    mean: float | None = col(None, doc="normal: mean; lognormal: mean of log")
    sd: float | None = col(None, doc="normal: standard deviation; lognormal: sd of log", ge=0)
    as_: Literal["factor", "value"] = col("factor", alias="as", doc="factor multiplies the value; value replaces it")

    @model_validator(mode="after")
    def _params(self) -> Uncertainty:
        needed = {
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("mean", "sd"),
        }[self.dist]
        missing = [p for p in needed if getattr(self, p) is None]
        if missing:
            raise ValueError(f"dist {self.dist} needs {', '.join(needed)}; missing {', '.join(missing)}")
        if self.dist in ("uniform", "triangular") and self.low is not None and self.high is not None:
            if not self.low <= (self.mode if self.mode is not None else self.low) <= self.high:
                raise ValueError("expected low <= mode <= high")
            if self.low > self.high:
                raise ValueError("expected low <= high")
        return self


# Table name -> row model, in the order tables appear in files and the template.
ROW_TABLES: dict[str, type[Row]] = {
    "products": Product,
    "actors": Actor,
    "processes": Process,
    "actor_processes": ActorProcess,
    "purchases": Purchase,
    "sales": Sale,
    "links": Link,
    "storage": Storage,
    "behaviour": Behaviour,
    "uncertainty": Uncertainty,
}
MAPPING_TABLES: dict[str, type[Row]] = {"settings": Settings, "policies": Policies}
REQUIRED_TABLES = ("settings", "products", "actors", "processes", "actor_processes")
ALL_TABLES = ("settings", *ROW_TABLES, "profiles", "policies")


class Scenario(BaseModel):
    """One validated, immutable scenario. Build it with ``load_scenario``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    settings: Settings
    products: tuple[Product, ...]
    actors: tuple[Actor, ...]
    processes: tuple[Process, ...]
    actor_processes: tuple[ActorProcess, ...]
    purchases: tuple[Purchase, ...] = ()
    sales: tuple[Sale, ...] = ()
    links: tuple[Link, ...] = ()
    storage: tuple[Storage, ...] = ()
    profiles: dict[str, tuple[float, ...]] = Field(default_factory=dict)
    policies: Policies = Field(default_factory=Policies)
    behaviour: tuple[Behaviour, ...] = ()
    uncertainty: tuple[Uncertainty, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the file layout (``from`` and ``as`` keys, unset columns dropped)."""
        out: dict[str, Any] = {"settings": self.settings.model_dump(by_alias=True)}
        for table in ROW_TABLES:
            rows = getattr(self, table)
            if rows:
                out[table] = [r.model_dump(by_alias=True, exclude_defaults=True) for r in rows]
        if self.profiles:
            out["profiles"] = {k: list(v) for k, v in self.profiles.items()}
        policies = self.policies.model_dump(exclude_none=True)
        if policies:
            out["policies"] = policies
        return out

    def with_policies(self, **values: PolicyValue) -> Scenario:
        """A copy with some policy instruments replaced (the input is never mutated)."""
        merged = self.policies.model_dump() | values
        return self.model_copy(update={"policies": Policies(**merged)})

    def replace(self, **tables: Any) -> Scenario:
        """A copy with whole tables replaced (unvalidated: callers pass valid rows)."""
        return self.model_copy(update=tables)
