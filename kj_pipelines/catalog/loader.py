"""Reading the catalog folder (``catalog/*.yaml``) into its model, strictly: every error names
the file, the entry and the field (a bureau writes these files, and the whole graph is generated
from them)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from kj_pipelines.catalog.model import (
    _CODE,
    AGGREGATES,
    COUNT_MEASURES,
    DEFAULT_BANDS,
    DEFAULT_KINDS,
    DEFAULT_PARTS,
    DEFAULT_STATUS_POINTS,
    DEPARTMENT,
    DIRECTIONS,
    DISTRICT,
    FIRST_PERIOD,
    FREQUENCIES,
    INDICATOR_KINDS,
    OPENING_FIELDS,
    PARTS,
    PROFILES,
    REGISTRY_RULES,
    REGISTRY_SCHEMA,
    SOURCES,
    Action,
    Catalog,
    CatalogError,
    Goal,
    Indicator,
    Landmark,
    ListSettings,
    Part,
    Programme,
    RegistryTable,
    ScoringRules,
    Unit,
    UnitKind,
    derived_inputs,
)


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
    _check_reports_via(folder / "units.yaml", units, indicators)
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
        programme = _programme(settings_path, r.get("programme", dict, default={}))
    else:
        lists, counts, programme = ListSettings(), list(COUNT_MEASURES), Programme()
    return Catalog(units, actions, indicators, tuple(goals), scoring, holidays, deadline,
                   escalate, lookback, lists, tuple(counts), kinds, top_label, first, registry,
                   margin, small, confirm_from, programme)


def _programme(path: Path, raw: dict[str, Any]) -> Programme:
    """settings.yaml ``programme: {name, theme: text or {year: text}, opening}``."""
    r = _Reader(path, "programme", raw)
    theme = r.get("theme", (str, dict), default="")
    themes: dict[int, str] = {}
    if isinstance(theme, dict):
        for year, text in theme.items():
            if not isinstance(year, int) or not isinstance(text, str):
                r.fail("theme", f"expected {{year: text}}, got {year!r}: {text!r}")
            themes[year] = text
        theme = ""
    out = Programme(r.get("name", str, default=""), themes, theme,
                    r.get("opening", str, default=""))
    try:
        out.opening_of(2000, "")
    except (KeyError, IndexError, ValueError) as exc:
        r.fail("opening", f"{exc} is not a field ({', '.join('{' + f + '}' for f in OPENING_FIELDS)})")
    return out


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
                           r.get("official", str, default=""), parent, _reports_via(r))
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


_VIA = ("self", "children")


def _reports_via(r: _Reader) -> dict[str, str]:
    """``reports_via: children`` (every indicator) or ``{TECH_CONTRACT: children, …}``."""
    raw = r.get("reports_via", (str, dict), default={})
    spec = {"*": raw} if isinstance(raw, str) else raw
    for key, value in spec.items():
        if value not in _VIA:
            r.fail("reports_via", f"{value!r} is not one of {', '.join(_VIA)}"
                   + ("" if key == "*" else f" (for {key})"))
    return {str(k): str(v) for k, v in spec.items()}


def _check_reports_via(path: Path, units: dict[str, Unit],
                       indicators: dict[str, Indicator]) -> None:
    """Indicators named in ``reports_via`` exist; a unit leaving an indicator to its children has
    children of a reporting kind (or its figure would be owed by nobody)."""
    for i, unit in enumerate(units.values(), start=1):
        where = f"{path.name}: entry #{i} ({unit.code}): field 'reports_via'"
        for code, via in unit.reports_via.items():
            if code != "*" and code not in indicators:
                raise CatalogError(f"{where}: {code!r} is not in indicators.yaml")
            named = indicators.values() if code == "*" else [indicators[code]]
            for ind in named:
                if via != "children" or unit.kind not in ind.reporters and code == "*":
                    continue
                below = {units[c].kind for c in units if units[c].parent == unit.code}
                if not below & set(ind.reporters):
                    raise CatalogError(
                        f"{where}: {unit.code} leaves {ind.code} to its children, but none of "
                        f"them is of a kind that reports it ({', '.join(ind.reporters)})")


def _check_no_double_count(r: _Reader, ind: Indicator, units: dict[str, Unit]) -> None:
    """A summed indicator reported both by a unit and by one above it would be counted twice:
    where the reporting kinds nest (towns and their counties), the catalog must say per unit
    which one reports (``reports_via: children`` on the counties whose towns report)."""
    reporting = {c for c, u in units.items() if u.kind in ind.reporters}
    # (a unit's choice for another indicator says nothing about this one)
    if any(ind.code in u.reports_via or "*" in u.reports_via
           for u in units.values() if u.code in reporting):
        itself = {c for c in reporting if not units[c].through_children(ind.code)}
        for kind in ind.reporters:  # each reporting kind still reports somewhere
            of_kind = [c for c in reporting if units[c].kind == kind]
            if of_kind and all(_covered(c, itself, units) for c in of_kind):
                r.fail("reporters", f"no {kind!r} unit reports {ind.code}: every one rolls up to "
                       "a unit reporting it itself (set `reports_via: children` on the units "
                       "whose children report)")
        return
    for code in sorted(reporting):
        above = units[code].parent
        while above is not None:
            if above in reporting:
                r.fail("reporters", f"{units[code].kind!r} units such as {code} roll up to "
                       f"{above} ({units[above].kind!r}), which reports too: its figure would "
                       f"be counted twice (if some {units[above].kind!r} units report through "
                       "their children, say so with `reports_via: children` in units.yaml)")
            above = units[above].parent


def _covered(code: str, itself: set[str], units: dict[str, Unit]) -> bool:
    """Whether a unit above ``code`` reports the indicator itself."""
    above = units[code].parent
    while above is not None:
        if above in itself:
            return True
        above = units[above].parent
    return code not in itself


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


def _number(r: _Reader, fld: str, default: float, low: float = 0.0) -> float:
    value = r.get(fld, float, default=default)
    if value < low:
        r.fail(fld, f"must be at least {low:g}")
    return value


def parse_scoring(path: Path, raw: Any, units: dict[str, Unit],
                  actions: dict[str, Action]) -> ScoringRules:
    """Check ``scoring.yaml``; every error names the file, the entry and the field. A file in the
    first release's shape (``weights`` by status and ``bands``) still loads: its ``weights`` are
    the status points and the parts take their default weights."""
    top = _Reader(path, "(top level)", raw or {})
    parts_raw = top.get("parts", dict, default=None)
    parts = {k: Part(w) for k, w in DEFAULT_PARTS.items()}
    if parts_raw is not None:
        parts = {}
        for name, spec in parts_raw.items():
            r = _Reader(path, f"parts.{name}", spec)
            if name not in PARTS:
                r.fail("(entry)", f"{name!r} is not one of {', '.join(PARTS)}")
            parts[name] = Part(_number(r, "weight", 0.0), _number(r, "cap", 1.0, low=1.0))
        if not parts or sum(p.weight for p in parts.values()) <= 0:
            top.fail("parts", "name at least one part with a weight above 0")
    groups: dict[str, float] = {}
    if parts_raw is not None and "indicators" in parts_raw:
        r = _Reader(path, "parts.indicators", parts_raw["indicators"])
        for action, weight in (r.get("groups", dict, default={}) or {}).items():
            if action not in actions:
                r.fail("groups", f"{action!r} is not an action in actions.yaml")
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
                r.fail("groups", f"the weight of {action!r} must be a number ≥ 0")
            groups[action] = float(weight)
        if groups and (missing := sorted(set(actions) - set(groups))):
            r.fail("groups", f"no weight for {', '.join(missing)}: give every action a weight "
                             "(0 leaves it out)")

    points = dict(DEFAULT_STATUS_POINTS)
    for key in ("status_points", "weights"):
        given = top.get(key, dict, default={})
        for status, value in given.items():
            if status not in DEFAULT_STATUS_POINTS or not isinstance(value, int | float):
                top.fail(key, f"expected points for {', '.join(DEFAULT_STATUS_POINTS)}, "
                              f"got {status!r}: {value!r}")
            points[status] = float(value)

    bonuses = top.get("bonuses", dict, default={})
    landmark = _Reader(path, "bonuses.landmark", bonuses.get("landmark") or {})
    deductions = top.get("deductions", dict, default={})
    missing = _Reader(path, "deductions.missing_submission",
                      deductions.get("missing_submission") or {})
    late = _Reader(path, "deductions.late_submission", deductions.get("late_submission") or {})

    bands = []
    for i, spec in enumerate(top.get("bands", list, default=[]), start=1):
        r = _Reader(path, f"bands #{i}", spec)
        bands.append((r.get("name", str), _number(r, "min", 0.0, low=float("-inf"))))
    bands.sort(key=lambda b: -b[1])
    if bands and bands[-1][1] > 0:
        top.fail("bands", "the lowest band must start at 0 so every score has a band")

    review = _Reader(path, "review", top.get("review", dict, default={}))
    band_names = {b[0] for b in bands or DEFAULT_BANDS}
    talk = tuple(review.get("talk_bands", list, default=[]))
    if unknown := [b for b in talk if b not in band_names]:
        review.fail("talk_bands", f"{', '.join(map(str, unknown))} is not a band in 'bands'")

    landmarks = []
    for i, spec in enumerate(top.get("landmarks", list, default=[]), start=1):
        r = _Reader(path, f"landmarks #{i}", spec)
        unit = r.get("unit", str)
        if unit not in units:
            r.fail("unit", f"{unit!r} is not in units.yaml")
        day = r.get("date", dt.date)
        landmarks.append(Landmark(unit, day, _number(r, "points", 0.0), r.get("title", str)))

    return ScoringRules(
        parts=parts, group_weights=groups, status_points=points,
        landmark_cap=_number(landmark, "cap", 5.0),
        missing_points=_number(missing, "points", 2.0), missing_cap=_number(missing, "cap", 10.0),
        late_points=_number(late, "points", 1.0), late_cap=_number(late, "cap", 5.0),
        bands=tuple(bands) or DEFAULT_BANDS,
        share_top=int(_number(review, "share_top", 0.0)),
        share_label=review.get("share_label", str, default="介绍经验"),
        talk_bands=talk, talk_label=review.get("talk_label", str, default="约谈"),
        landmarks=tuple(landmarks))

