"""The catalog: units, indicators, multi-year goals and scoring rules (``catalog/*.yaml``).

Everything downstream (assets, checks, schedules, templates, validation) is generated from it, so
it is validated strictly on load and every error names the file, the entry and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from kj_pipelines.catalog.scoring_rules import ScoringRules

# the kind reserved for the units responsible for indicators (units.yaml may declare its other
# kinds: county, city, …; a catalog that declares none has DEFAULT_KINDS)
DEPARTMENT = "department"
INDICATOR_KINDS = ("flow", "stock", "ratio", "growth")
DIRECTIONS = ("higher", "lower")
FREQUENCIES = ("monthly", "quarterly", "annual")
SOURCES = ("submission", "registry", "derived")
# how units' figures make the district's: summed; reported for the district alone; a ratio of two
# summed indicators; a growth rate of one; or units only (a rate each unit reports, which no sum
# can turn into the district's)
AGGREGATES = ("sum", "district_only", "ratio", "growth", "units_only")
PROFILES = ("linear", "workdays", "seasonal", "milestones", "batch")
REGISTRY_RULES = ("effective_high_tech", "new_high_tech", "tech_sme_listed", "rd_institutions_total",
                  "rd_institutions_new", "academician_workstations", "doctoral_workstations_new")
DISTRICT = "ALL"  # the top unit's code in every region (its label comes from the catalog)
FIRST_PERIOD = "2019-01"  # the first monitored month when settings.yaml names none
# measures counted in whole numbers (1.5 家 is refused); settings.yaml's count_measures overrides
COUNT_MEASURES = ("家", "个", "项", "件", "人", "名", "户", "次", "家次")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


class CatalogError(ValueError):
    """A catalog file is wrong; the message names file, entry and field."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    official: str = ""  # 责任人: the unit's responsible official, named in the 责任清单
    parent: str | None = None  # the unit it rolls up to (``None`` only for the top, ``ALL``)


@dataclass(frozen=True)
class UnitKind:
    """A kind of unit as units.yaml declares it: 县（市、区）, 乡镇（街道）, 部门…"""

    code: str
    name: str
    peers: str  # units of kinds with the same ``peers`` are ranked together (镇街与园区同台晾晒)


@dataclass(frozen=True)
class Action:
    code: str
    name: str


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    measure: str
    kind: str
    direction: str
    frequency: str
    release_lag: int
    source: str
    aggregate: str
    department: str
    action: str
    yellow: float
    red: float
    profile: str
    profile_params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    numerator: str | None = None
    denominator: str | None = None
    base: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    jump_factor: float = 5.0
    reporters: tuple[str, ...] = ()
    registry_rule: str | None = None
    unit_profiles: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    cooperating: tuple[str, ...] = ()
    official: str = ""
    # 预判预警: how far short of the target a projected year end may fall before it warns, in
    # percentage points of the target (None: the catalog's default); what raises behind-plan
    # warnings: the status against the plan and the projection ("status"), or the projection
    # only ("projection": lumpy small counts a plan line cannot judge month by month)
    projection_margin: float | None = None
    warn_by: str = "status"

    @property
    def is_percentage(self) -> bool:
        return self.measure == "%"

    @property
    def is_cumulative(self) -> bool:
        """Flows add up over the year; stocks, ratios and growth rates are read as levels."""
        return self.kind == "flow"

    def due_months(self) -> tuple[int, ...]:
        if self.frequency == "monthly":
            return tuple(range(1, 13))
        if self.frequency == "quarterly":
            return (3, 6, 9, 12)
        return (12,)


@dataclass(frozen=True)
class Goal:
    indicator: str
    unit: str
    year: int
    value: float
    baseline_year: int
    baseline_value: float
    note: str = ""


@dataclass(frozen=True)
class ListSettings:
    """Working-day rules of the lists (settings.yaml, all optional)."""

    at_risk_workdays: int = 5  # a milestone due within N working days and not done is at risk
    reminder_workdays: int = 3  # the warning sensor reminds N working days before a due date
    problem_due_workdays: int = 20  # a problem with no wished-for date is due N working days on
    supervision_feedback_workdays: int = 10  # feedback on a supervision item is due N days on
    project_yellow: float = 5.0  # investment behind plan, percentage points of the annual plan
    project_red: float = 10.0


@dataclass(frozen=True)
class Catalog:
    units: dict[str, Unit]
    actions: dict[str, Action]
    indicators: dict[str, Indicator]
    goals: tuple[Goal, ...]
    scoring: ScoringRules
    holidays: dict[int, dict[str, list[str]]]
    submission_deadline_day: int = 10
    escalate_after_red_months: int = 3
    warning_lookback_months: int = 2
    lists: ListSettings = field(default_factory=ListSettings)
    count_measures: tuple[str, ...] = COUNT_MEASURES
    kinds: dict[str, UnitKind] = field(default_factory=lambda: dict(DEFAULT_KINDS))
    top_label: str = "全区"  # how reports name the top level's figures: 全区 / 全市 / 全县
    first_period: str = FIRST_PERIOD
    registry: dict[str, RegistryTable] = field(default_factory=dict)
    default_projection_margin: float = 2.0
    small_count_max: int = 5  # a count target of at most this many whole units is planned in steps
    # 时间过半: a projected miss is confirmed (and warned) from the half year's figure on
    projection_confirm_from_month: int = 6

    def projection_margin(self, indicator: Indicator) -> float:
        """The shortfall (points of the target) beyond which a projected year end warns."""
        return self.default_projection_margin if indicator.projection_margin is None \
            else indicator.projection_margin

    def parent_of(self, code: str) -> str | None:
        unit = self.units.get(code)
        return unit.parent if unit else None

    def ancestors(self, code: str) -> list[str]:
        """The units ``code`` rolls up to, nearest first, ending with ``ALL``."""
        out, parent = [], self.parent_of(code)
        while parent is not None:
            out.append(parent)
            parent = self.parent_of(parent)
        return out

    def descendants(self, code: str) -> list[str]:
        """Every unit below ``code`` (all units but the top for ``ALL``), in catalog order."""
        return self._below.get(code, [])

    @cached_property
    def _below(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for unit in self.units:
            for above in self.ancestors(unit):
                out.setdefault(above, []).append(unit)
        return out

    def children(self, code: str) -> list[str]:
        """The units directly under ``code``, in catalog order."""
        return self._children.get(code, [])

    @cached_property
    def _children(self) -> dict[str | None, list[str]]:
        out: dict[str | None, list[str]] = {}
        for unit in self.units.values():
            out.setdefault(unit.parent, []).append(unit.code)
        return out

    def level(self, code: str) -> int:
        """0 for the top, 1 for the units directly under it, and so on."""
        return len(self.ancestors(code))

    def peer_group(self, code: str) -> str:
        """Which units a unit is ranked with: the kinds sharing its ``peers`` name."""
        unit = self.units[code]
        return self.kinds[unit.kind].peers if unit.kind in self.kinds else unit.kind

    def peer_group_name(self, group: str) -> str:
        """How a ranking names a peer group: its kinds' names (乡镇（街道）、园区)."""
        names = [k.name for k in self.kinds.values() if k.peers == group]
        return "、".join(names) or group

    def kind_name(self, code: str) -> str:
        """The Chinese name of a unit's kind (镇（街道）, 县（市、区）, 部门)."""
        unit = self.units.get(code)
        return self.kinds[unit.kind].name if unit and unit.kind in self.kinds else ""

    def level_label(self, code: str) -> str:
        """The label of a unit's figures in a table: the top label for ``ALL``, else its name."""
        return self.top_label if code == DISTRICT else self.unit_name(code)

    def unit_name(self, code: str) -> str:
        """A unit's name as the bureau reads it; a code not in the catalog as written."""
        return self.units[code].name if code in self.units else str(code)

    def is_count(self, indicator: Indicator) -> bool:
        """Whether the indicator's figures are whole numbers (家, 个, 人, …)."""
        return indicator.measure in self.count_measures

    def reporting_units(self, indicator: Indicator) -> list[Unit]:
        """Units that submit (or, for the registry, are computed for) an indicator."""
        if indicator.aggregate == "district_only":
            return [self.units[indicator.department]] if indicator.source == "submission" else []
        return [u for u in self.units.values() if u.kind in indicator.reporters]

    def rollup_units(self, indicator: Indicator) -> dict[str, list[str]]:
        """For a summed indicator: each unit above the reporters (county, city) → the reporting
        units whose figures add up to its own (towns roll up to their county and to ``ALL``)."""
        if indicator.aggregate in ("district_only", "units_only"):
            return {}
        # asked for by every step of an indicator (a province: 1,800 units to walk up each time)
        key = (indicator.code, indicator.aggregate, indicator.source, indicator.reporters,
               indicator.department)
        if key not in self._rollups:
            self._rollups[key] = self._rollup_units(indicator)
        return {above: list(units) for above, units in self._rollups[key].items()}

    @cached_property
    def _rollups(self) -> dict[tuple, dict[str, list[str]]]:
        return {}

    def _rollup_units(self, indicator: Indicator) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for unit in self.reporting_units(indicator):
            for above in self.ancestors(unit.code):
                out.setdefault(above, []).append(unit.code)
        if indicator.source != "derived":
            out.setdefault(DISTRICT, [])  # the top's total even before any reporting unit exists
        return out

    def indicators_for_unit(self, unit_code: str) -> list[Indicator]:
        """The indicators a unit fills in on its monthly workbook."""
        out = []
        for ind in self.indicators.values():
            if ind.source != "submission":
                continue
            if any(u.code == unit_code for u in self.reporting_units(ind)):
                out.append(ind)
        return out

    def submitting_units(self) -> list[Unit]:
        return [u for u in self.units.values() if self.indicators_for_unit(u.code)]

    def topological_indicators(self) -> list[Indicator]:
        """Indicators ordered so that every derived one comes after its inputs."""
        done: dict[str, Indicator] = {}

        def visit(code: str) -> None:
            if code in done:
                return
            ind = self.indicators[code]
            for dep in derived_inputs(ind):
                visit(dep)
            done[code] = ind

        for code in self.indicators:
            visit(code)
        return list(done.values())


DEFAULT_KINDS = {
    "district": UnitKind("district", "区", "district"),
    "town": UnitKind("town", "镇（街道）", "town"),
    "park": UnitKind("park", "园区", "town"),  # towns and parks share the 季晾晒 table
    "department": UnitKind("department", "部门", "department"),
}
# the registry tables and columns the rules read (canonical names → a region's own, mapped in
# settings.yaml's ``registry:``); ``town`` is the code of the unit an enterprise belongs to
REGISTRY_SCHEMA: dict[str, tuple[str, ...]] = {
    "enterprises": ("enterprise_id", "town"),
    "high_tech_recognitions": ("enterprise_id", "recognized_on", "expires_on", "first_time"),
    "tech_sme_listings": ("enterprise_id", "listed_on", "expires_on"),
    "rd_institutions": ("id", "town", "established_on", "revoked_on"),
    "workstations": ("id", "town", "kind", "established_on", "revoked_on"),
}


@dataclass(frozen=True)
class RegistryTable:
    """Where a canonical registry table lives in a region's database, and its column names."""

    table: str
    columns: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


def derived_inputs(indicator: Indicator) -> list[str]:
    if indicator.aggregate == "ratio":
        return [c for c in (indicator.numerator, indicator.denominator) if c]
    if indicator.aggregate == "growth":
        return [indicator.base] if indicator.base else []
    return []


class _Reader:
    """Reads one entry of one file and reports errors with their place."""

    def __init__(self, file: Path, entry: str, data: Any):
        self.file, self.entry = file.name, entry
        if not isinstance(data, dict):
            self.fail("(entry)", f"expected a mapping, got {type(data).__name__}")
        self.data: dict[str, Any] = data

    def fail(self, fld: str, message: str) -> None:
        raise CatalogError(f"{self.file}: entry {self.entry}: field '{fld}': {message}")

    def get(self, fld: str, typ: type | tuple[type, ...], default: Any = ..., choices=None) -> Any:
        if fld not in self.data or self.data[fld] is None:
            if default is ...:
                self.fail(fld, "is required")
            return default
        value = self.data[fld]
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, typ) or isinstance(value, bool) and typ is not bool:
            self.fail(fld, f"expected {getattr(typ, '__name__', typ)}, got {value!r}")
        if choices is not None and value not in choices:
            self.fail(fld, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def code(self, fld: str = "code") -> str:
        value = self.get(fld, str)
        if not _CODE.match(value):
            self.fail(fld, f"{value!r} is not a code (capital letters, digits, underscore)")
        return value


# libyaml's safe loader where PyYAML was built with it: the same documents, ~10× faster (the
# catalog is read at every run's start and by every asset: measured 19 ms → 2 ms a file)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> Any:
    if not path.exists():
        raise CatalogError(f"{path.name}: file is missing from the catalog folder")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path.name}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path.name}: not UTF-8 text: {exc}") from exc


def _entries(path: Path, key: str) -> list[Any]:
    doc = _load_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise CatalogError(f"{path.name}: expected a top-level list '{key}:'")
    return doc[key]


def load_catalog(folder: Path) -> Catalog:
    """Load and cross-check the whole catalog folder."""
    units, kinds, top_label = _load_units(folder / "units.yaml")

    actions: dict[str, Action] = {}
    path = folder / "actions.yaml"
    for i, raw in enumerate(_entries(path, "actions"), start=1):
        r = _Reader(path, f"#{i}", raw)
        code = r.get("code", str)
        if not re.match(r"^[a-z][a-z0-9_]*$", code):
            r.fail("code", f"{code!r} must be lower_snake_case (it names a Dagster group)")
        actions[code] = Action(code, r.get("name", str))

    indicators: dict[str, Indicator] = {}
    path = folder / "indicators.yaml"
    for i, raw in enumerate(_entries(path, "indicators"), start=1):
        r = _Reader(path, f"#{i}", raw)
        code = r.code()
        r.entry = f"#{i} ({code})"
        if code in indicators:
            r.fail("code", "duplicate indicator code")
        thresholds = r.get("thresholds", dict)
        tr = _Reader(path, f"#{i} ({code}) thresholds", thresholds)
        yellow, red = tr.get("yellow", float), tr.get("red", float)
        if not 0 <= yellow <= red:
            r.fail("thresholds", f"need 0 <= yellow <= red, got yellow={yellow} red={red}")
        rng = r.get("range", dict, default={})
        rr = _Reader(path, f"#{i} ({code}) range", rng)
        reporters = tuple(r.get("reporters", list, default=[]))
        for kind in reporters:
            if kind not in kinds:
                r.fail("reporters", f"{kind!r} is not a unit kind ({', '.join(kinds)})")
        ind = Indicator(
            code=code,
            name=r.get("name", str),
            definition=r.get("definition", str, default=""),
            measure=r.get("measure", str),
            kind=r.get("kind", str, choices=INDICATOR_KINDS),
            direction=r.get("direction", str, choices=DIRECTIONS),
            frequency=r.get("frequency", str, choices=FREQUENCIES),
            release_lag=r.get("release_lag", int, default=0),
            source=r.get("source", str, choices=SOURCES),
            aggregate=r.get("aggregate", str, choices=AGGREGATES),
            department=r.code("department"),
            action=r.get("action", str),
            yellow=yellow,
            red=red,
            profile=r.get("profile", str, choices=PROFILES),
            profile_params=r.get("profile_params", dict, default={}),
            numerator=r.get("numerator", str, default=None),
            denominator=r.get("denominator", str, default=None),
            base=r.get("base", str, default=None),
            minimum=rr.get("min", float, default=None),
            maximum=rr.get("max", float, default=None),
            jump_factor=r.get("jump_factor", float, default=5.0),
            reporters=reporters,
            registry_rule=r.get("registry_rule", str, default=None),
            unit_profiles=r.get("unit_profiles", dict, default={}),
            cooperating=tuple(r.get("cooperating", list, default=[])),
            official=r.get("official", str, default=""),
            projection_margin=r.get("projection_margin", (int, float), default=None),
            warn_by=r.get("warn_by", str, default="status", choices=("status", "projection")),
        )
        if ind.projection_margin is not None and not 0 <= ind.projection_margin <= 100:
            r.fail("projection_margin", "must be between 0 and 100 (points of the target)")
        for unit_code in ind.cooperating:
            if unit_code not in units:
                r.fail("cooperating", f"{unit_code!r} is not in units.yaml")
        for unit_code, profile in ind.unit_profiles.items():
            if unit_code not in units:
                r.fail("unit_profiles", f"{unit_code!r} is not in units.yaml")
            if profile not in PROFILES or profile in ("milestones", "batch") \
                    and profile != ind.profile:
                r.fail("unit_profiles", f"{unit_code}: {profile!r} must be one of "
                       "linear, workdays, seasonal (or the indicator's own profile)")
        if (ind.source == "registry") != (ind.registry_rule is not None):
            r.fail("registry_rule", "registry indicators, and only they, name a registry_rule")
        if ind.registry_rule is not None and ind.registry_rule not in REGISTRY_RULES:
            r.fail("registry_rule", f"{ind.registry_rule!r} is not one of {', '.join(REGISTRY_RULES)}")
        if ind.department not in units or units[ind.department].kind != DEPARTMENT:
            r.fail("department", f"{ind.department!r} is not a department in units.yaml")
        if ind.action not in actions:
            r.fail("action", f"{ind.action!r} is not an action in actions.yaml")
        if ind.aggregate == "ratio" and not (ind.numerator and ind.denominator):
            r.fail("numerator", "a ratio needs both 'numerator' and 'denominator'")
        if ind.aggregate == "growth" and not ind.base:
            r.fail("base", "a growth rate needs the 'base' indicator it compares")
        if (ind.source == "derived") != (ind.aggregate in ("ratio", "growth")):
            r.fail("source", "derived indicators are exactly those aggregated as ratio or growth")
        if ind.aggregate == "sum" and ind.kind in ("ratio", "growth"):
            r.fail("aggregate", f"a {ind.kind} ({ind.measure}) cannot be summed across units: use "
                   "'ratio' (numerator and denominator), 'growth', 'district_only' or "
                   "'units_only'")
        if ind.aggregate == "units_only" and (ind.source != "submission" or not reporters):
            r.fail("aggregate", "'units_only' is for a figure units submit: it needs 'reporters'")
        if ind.aggregate in ("sum", "ratio", "growth", "units_only") and ind.source != "derived" \
                and not reporters:
            r.fail("reporters", "a summed indicator needs the unit kinds that report it")
        if ind.release_lag < 0 or ind.release_lag > 24:
            r.fail("release_lag", "must be between 0 and 24 months")
        if ind.profile == "milestones" and not isinstance(ind.profile_params.get("shares"), dict):
            r.fail("profile_params", "milestones need 'shares: {month: share}'")
        if ind.profile == "batch" and not isinstance(ind.profile_params.get("months"), dict):
            r.fail("profile_params", "batch needs 'months: {month: share}'")
        _check_no_double_count(r, ind, units)
        indicators[code] = ind
    for ind in indicators.values():
        for dep in derived_inputs(ind):
            if dep not in indicators:
                raise CatalogError(
                    f"indicators.yaml: entry {ind.code}: derived from unknown indicator {dep!r}")

    goals: list[Goal] = []
    path = folder / "goals.yaml"
    for i, raw in enumerate(_entries(path, "goals"), start=1):
        r = _Reader(path, f"#{i}", raw)
        ind_code = r.code("indicator")
        r.entry = f"#{i} ({ind_code})"
        if ind_code not in indicators:
            r.fail("indicator", f"{ind_code!r} is not in indicators.yaml")
        unit = r.get("unit", str, default=DISTRICT)
        if unit not in units:
            r.fail("unit", f"{unit!r} is not in units.yaml")
        year, base_year = r.get("year", int), r.get("baseline_year", int)
        if base_year >= year:
            r.fail("baseline_year", f"must be before the goal year {year}")
        goals.append(Goal(ind_code, unit, year, r.get("value", float), base_year,
                          r.get("baseline_value", float), r.get("note", str, default="")))

    from kj_pipelines.catalog.scoring_rules import ScoringRules, parse_scoring

    scoring_path = folder / "scoring.yaml"
    scoring = (parse_scoring(scoring_path, _load_yaml(scoring_path), units, actions)
               if scoring_path.exists() else ScoringRules())
    holidays = _load_holidays(folder / "holidays.yaml")
    settings_path = folder / "settings.yaml"
    deadline, escalate, lookback, first, registry = 10, 3, 2, FIRST_PERIOD, {}
    margin, small = Catalog.default_projection_margin, Catalog.small_count_max
    confirm_from = Catalog.projection_confirm_from_month
    if settings_path.exists():
        r = _Reader(settings_path, "settings", _load_yaml(settings_path) or {})
        deadline = r.get("submission_deadline_day", int, default=10)
        if not 1 <= deadline <= 28:
            r.fail("submission_deadline_day", "must be a day between 1 and 28")
        escalate = r.get("escalate_after_red_months", int, default=3)
        if not 1 <= escalate <= 12:
            r.fail("escalate_after_red_months", "must be between 1 and 12")
        lookback = r.get("warning_lookback_months", int, default=2)
        if not 0 <= lookback <= 120:
            r.fail("warning_lookback_months", "must be between 0 and 120")
        lists = _list_settings(r, indicators)
        counts = r.get("count_measures", list, default=list(COUNT_MEASURES))
        if not all(isinstance(m, str) and m for m in counts):
            r.fail("count_measures", "expected a list of measures such as 家, 个, 人")
        first = str(r.get("first_period", (str, dt.date), default=FIRST_PERIOD))[:7]
        if not re.match(r"^(19[7-9]\d|20\d\d)-(0[1-9]|1[0-2])$", first):
            r.fail("first_period", f"{first!r} is not a month YYYY-MM (e.g. 2019-01)")
        registry = _registry_mapping(settings_path, r.get("registry", dict, default={}))
        margin = float(r.get("projection_margin", (int, float), default=margin))
        if not 0 <= margin <= 100:
            r.fail("projection_margin", "must be between 0 and 100 (points of the target)")
        small = r.get("small_count_max", int, default=small)
        if not 0 <= small <= 1000:
            r.fail("small_count_max", "must be a whole number between 0 and 1000")
        confirm_from = r.get("projection_confirm_from_month", int, default=confirm_from)
        if not 1 <= confirm_from <= 12:
            r.fail("projection_confirm_from_month", "must be a month between 1 and 12")
    else:
        lists, counts = ListSettings(), list(COUNT_MEASURES)
    return Catalog(units, actions, indicators, tuple(goals), scoring, holidays, deadline,
                   escalate, lookback, lists, tuple(counts), kinds, top_label, first, registry,
                   margin, small, confirm_from)


def _load_units(path: Path) -> tuple[dict[str, Unit], dict[str, UnitKind], str]:
    """units.yaml: the optional ``kinds:`` and ``top_label:``, and the units with their parents."""
    doc = _load_yaml(path)
    entries = _entries(path, "units")
    kinds = dict(DEFAULT_KINDS)
    if doc.get("kinds") is not None:
        if not isinstance(doc["kinds"], list) or not doc["kinds"]:
            raise CatalogError(f"{path.name}: 'kinds:' must be a list of {{code, name}}")
        kinds = {}
        for i, raw in enumerate(doc["kinds"], start=1):
            r = _Reader(path, f"kinds #{i}", raw)
            code = r.get("code", str)
            if not re.match(r"^[a-z][a-z0-9_]*$", code):
                r.fail("code", f"{code!r} must be lower_snake_case (county, town, …)")
            if code in kinds:
                r.fail("code", "duplicate kind")
            kinds[code] = UnitKind(code, r.get("name", str), r.get("peers", str, default=code))
        if DEPARTMENT not in kinds:
            raise CatalogError(f"{path.name}: 'kinds:' must include '{DEPARTMENT}' (the units "
                               "responsible for indicators)")
    top_label = doc.get("top_label", "全区")
    if not isinstance(top_label, str) or not top_label.strip():
        raise CatalogError(f"{path.name}: 'top_label' must be text such as 全区, 全市 or 全县")
    units: dict[str, Unit] = {}
    for i, raw in enumerate(entries, start=1):
        r = _Reader(path, f"#{i}", raw)
        code = r.code()
        r.entry = f"#{i} ({code})"
        if code in units:
            r.fail("code", "duplicate unit code")
        parent = None if code == DISTRICT else r.get("parent", str, default=DISTRICT)
        if code == DISTRICT and r.get("parent", str, default=None) is not None:
            r.fail("parent", f"the top unit {DISTRICT} has no parent")
        units[code] = Unit(code, r.get("name", str), r.get("kind", str, choices=tuple(kinds)),
                           r.get("official", str, default=""), parent)
    if DISTRICT not in units:
        raise CatalogError(f"{path.name}: the top unit '{DISTRICT}' is missing")
    top_kind = units[DISTRICT].kind
    for i, unit in enumerate(units.values(), start=1):
        where = f"{path.name}: entry #{i} ({unit.code})"
        if unit.code != DISTRICT and unit.kind == top_kind:
            raise CatalogError(f"{where}: field 'kind': {top_kind!r} is the top unit's kind")
        if unit.parent is not None and unit.parent not in units:
            raise CatalogError(f"{where}: field 'parent': {unit.parent!r} is not in {path.name}")
        seen, above = {unit.code}, unit.parent
        while above is not None:
            if above in seen:
                raise CatalogError(f"{where}: field 'parent': the parents run in a circle")
            seen.add(above)
            above = units[above].parent
        if unit.kind == DEPARTMENT and unit.parent != DISTRICT:
            raise CatalogError(f"{where}: field 'parent': a department belongs to {DISTRICT}")
    return units, kinds, top_label.strip()


def _check_no_double_count(r: _Reader, ind: Indicator, units: dict[str, Unit]) -> None:
    """A summed indicator reported both by a unit and by one above it would be counted twice."""
    reporting = {c for c, u in units.items() if u.kind in ind.reporters}
    for code in sorted(reporting):
        above = units[code].parent
        while above is not None:
            if above in reporting:
                r.fail("reporters", f"{units[code].kind!r} units such as {code} roll up to "
                       f"{above} ({units[above].kind!r}), which reports too: its figure would "
                       "be counted twice")
            above = units[above].parent


def _registry_mapping(path: Path, raw: dict[str, Any]) -> dict[str, RegistryTable]:
    """settings.yaml ``registry: {enterprises: {table: qy_jbxx, columns: {town: ssjz}}}``."""
    out = {}
    for name, spec in raw.items():
        r = _Reader(path, f"registry.{name}", spec)
        if name not in REGISTRY_SCHEMA:
            r.fail("(table)", f"{name!r} is not a registry table "
                   f"({', '.join(REGISTRY_SCHEMA)})")
        columns = r.get("columns", dict, default={})
        for canonical, actual in columns.items():
            if canonical not in REGISTRY_SCHEMA[name]:
                r.fail(f"columns.{canonical}", f"not a column of {name} "
                       f"({', '.join(REGISTRY_SCHEMA[name])})")
            if not isinstance(actual, str) or not actual:
                r.fail(f"columns.{canonical}", f"expected a column name, got {actual!r}")
        out[name] = RegistryTable(r.get("table", str, default=name),
                                  {str(k): str(v) for k, v in columns.items()})
    return out


def _list_settings(r: _Reader, indicators: dict[str, Indicator]) -> ListSettings:
    values: dict[str, Any] = {}
    for name in ("at_risk_workdays", "reminder_workdays", "problem_due_workdays",
                 "supervision_feedback_workdays"):
        values[name] = r.get(name, int, default=getattr(ListSettings, name))
        if not 0 <= values[name] <= 250:
            r.fail(name, "must be between 0 and 250 working days")
    # investment of major projects is judged by an indicator's thresholds (黄/红) when named
    source = r.get("project_thresholds_from", str, default=None)
    if source is not None:
        if source not in indicators:
            r.fail("project_thresholds_from", f"{source!r} is not in indicators.yaml")
        values["project_yellow"], values["project_red"] = (indicators[source].yellow,
                                                           indicators[source].red)
    return ListSettings(**values)


def _load_holidays(path: Path) -> dict[int, dict[str, list[str]]]:
    """Holiday file the bureau updates when the State Council publishes the next year's schedule."""
    if not path.exists():
        return {}
    doc = _load_yaml(path) or {}
    years = doc.get("years", {}) if isinstance(doc, dict) else None
    if not isinstance(years, dict):
        raise CatalogError("holidays.yaml: expected 'years: {YYYY: {holidays: [...], workdays: [...]}}'")
    out: dict[int, dict[str, list[str]]] = {}
    for year, spec in years.items():
        r = _Reader(path, str(year), spec)
        out[int(year)] = {"holidays": [str(d) for d in r.get("holidays", list, default=[])],
                          "workdays": [str(d) for d in r.get("workdays", list, default=[])]}
    return out
