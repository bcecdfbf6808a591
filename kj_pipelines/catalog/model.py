"""The catalog's model: units and their kinds, actions, indicators, goals, list settings, the
registry's tables and the scoring rules of 季晾晒 and 年考评, as plain dataclasses
(:mod:`kj_pipelines.catalog.loader` reads them from ``catalog/*.yaml``).

Everything downstream (assets, checks, schedules, templates, validation) is generated from it.

A unit's score is the sum of its parts (indicators, milestones, projects, problems, supervision;
each with a weight, together 100) plus bonuses for landmark results, minus deductions for missing
and late submissions. A part a unit has nothing in is not applicable: the weights of the other
parts are scaled up to 100. The score is banded (names from the YAML), ranked within peer
groups, and the review names the units to share their practice and those for a talk (约谈).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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
    # units.yaml ``reports_via``: whether a unit of a reporting kind submits an indicator itself
    # ("self", the default) or leaves it to its children ("children"), for every indicator or
    # per indicator code ({TECH_CONTRACT: children}); "*" holds the unit-wide choice
    reports_via: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def through_children(self, indicator: str) -> bool:
        """Whether the unit leaves ``indicator`` to its children to report."""
        return self.reports_via.get(indicator, self.reports_via.get("*", "self")) == "children"


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
class Programme:
    """The region's own programme as its documents name it (settings.yaml ``programme:``): its
    name (“315”科技创新体系建设工程), the year's theme, and the annual summary's opening
    paragraph with ``{year}``, ``{region}``, ``{programme}`` and ``{theme}`` filled in."""

    name: str = ""
    themes: dict[int, str] = field(default_factory=dict, hash=False, compare=False)
    theme: str = ""  # every year's, where ``themes`` names none
    opening: str = ""

    def theme_of(self, year: int) -> str:
        return self.themes.get(year, self.theme)

    def opening_of(self, year: int, region: str) -> str:
        """The summary's first sentence(s) for ``year``; without a configured paragraph, one
        naming only what the catalog knows (the programme, if named)."""
        text = self.opening or ("{year}年，{region}" + ("围绕{programme}，" if self.name else "")
                                + "聚焦年度目标清单、重点任务清单和责任清单，狠抓各项指标落实。")
        return text.format(year=year, region=region, programme=self.name,
                           theme=self.theme_of(year))


OPENING_FIELDS = ("year", "region", "programme", "theme")


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
    programme: Programme = field(default_factory=Programme)

    # ── how documents name the region's own parts ──────────────────────────────────────

    @cached_property
    def has_registry(self) -> bool:
        """Whether some indicator is computed from an enterprise registry (登记库)."""
        return any(i.source == "registry" for i in self.indicators.values())

    def sources(self, *more: str) -> str:
        """A document's 来源 line: 月度填报 (and 登记库 where the region has one) and ``more``."""
        return "、".join(["月度填报", *(["登记库"] if self.has_registry else []), *more])

    def kinds_label(self, *, departments: bool = False) -> str:
        """The kinds of the units that submit workbooks (镇（街道）、园区; 乡镇（街道）; and 部门
        with ``departments``), named as units.yaml names them, in its order."""
        used = {u.kind for u in self.submitting_units()}
        return "、".join(k.name for code, k in self.kinds.items()
                        if code in used and (departments or code != DEPARTMENT)
                        and code != self.units[DISTRICT].kind)

    def actions_label(self) -> str:
        """How the documents name the actions together: 六大行动 for six, 三大行动 for three,
        各行动 where a count would read oddly."""
        count = len(self.actions)
        if 2 <= count <= 10:
            return "两三四五六七八九十"[count - 2] + "大行动"
        return "各行动"

    def department_label(self) -> str:
        """How the documents name the departments (部门, 市级部门)."""
        kind = self.kinds.get(DEPARTMENT)
        return kind.name if kind else "部门"

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
        names = dict.fromkeys(k.name for k in self.kinds.values() if k.peers == group)
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

    def counted(self) -> set[str]:
        """The codes of the indicators whose figures are whole numbers."""
        return {code for code, ind in self.indicators.items() if self.is_count(ind)}

    def is_count(self, indicator: Indicator) -> bool:
        """Whether the indicator's figures are whole numbers (家, 个, 人, …)."""
        return indicator.measure in self.count_measures

    def reporting_units(self, indicator: Indicator) -> list[Unit]:
        """Units that submit (or, for the registry, are computed for) an indicator."""
        if indicator.aggregate == "district_only":
            return [self.units[indicator.department]] if indicator.source == "submission" else []
        return [self.units[code] for code in self._reporters(indicator)]

    def _reporters(self, indicator: Indicator) -> list[str]:
        """A unit of a reporting kind reports unless it leaves the indicator to its children or
        a unit above it reports it itself (whose figure already holds this one's)."""
        key = (indicator.code, indicator.reporters)
        if key not in self._reporter_cache:
            kinds = set(indicator.reporters)
            itself = {c for c, u in self.units.items()
                      if u.kind in kinds and not u.through_children(indicator.code)}
            self._reporter_cache[key] = [
                c for c in self.units if c in itself
                and not any(a in itself for a in self.ancestors(c))]
        return self._reporter_cache[key]

    @cached_property
    def _reporter_cache(self) -> dict[tuple, list[str]]:
        return {}

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


# ── scoring rules (scoring.yaml) ──────────────────────────────────────────────────

PARTS = ("indicators", "milestones", "projects", "problems", "supervision")
PART_NAMES = {"indicators": "指标完成", "milestones": "任务节点", "projects": "重大项目",
              "problems": "问题销号", "supervision": "督办落实"}
DEFAULT_PARTS = {"indicators": 60.0, "milestones": 15.0, "projects": 10.0, "problems": 10.0,
                 "supervision": 5.0}
DEFAULT_STATUS_POINTS = {"green": 100.0, "done": 100.0, "yellow": 70.0, "red": 40.0, "grey": 0.0}
DEFAULT_BANDS = (("优秀", 90.0), ("良好", 75.0), ("一般", 60.0), ("滞后", 0.0))


@dataclass(frozen=True)
class Part:
    weight: float
    cap: float = 1.0  # how far ahead of plan one item may count (1.2: up to 120 %)


@dataclass(frozen=True)
class Landmark:
    """A landmark result (标志性成果) the assessment office has recognised for a unit."""

    unit: str
    date: dt.date
    points: float
    title: str


@dataclass(frozen=True)
class ScoringRules:
    parts: dict[str, Part] = field(
        default_factory=lambda: {k: Part(w) for k, w in DEFAULT_PARTS.items()})
    group_weights: dict[str, float] = field(default_factory=dict)  # action → weight; {}: equal
    status_points: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_POINTS))
    landmark_cap: float = 5.0
    missing_points: float = 2.0
    missing_cap: float = 10.0
    late_points: float = 1.0
    late_cap: float = 5.0
    bands: tuple[tuple[str, float], ...] = DEFAULT_BANDS  # highest first
    share_top: int = 0
    share_label: str = "介绍经验"
    talk_bands: tuple[str, ...] = ()
    talk_label: str = "约谈"
    landmarks: tuple[Landmark, ...] = ()

    def band(self, score: float) -> str:
        return next((name for name, low in self.bands if score >= low), self.bands[-1][0])
