"""The scoring rules of 季晾晒 and 年考评, read from ``catalog/scoring.yaml`` and checked on load.

A unit's score is the sum of its parts (indicators, milestones, projects, problems, supervision;
each with a weight, together 100) plus bonuses for landmark results, minus deductions for missing
and late submissions. A part a unit has nothing in is not applicable: the weights of the other
parts are scaled up to 100. The score is banded (names from the YAML), ranked within peer
groups, and the review names the units to share their practice and those for a talk (约谈).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kj_pipelines.catalog.model import Action, Unit, _Reader

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

