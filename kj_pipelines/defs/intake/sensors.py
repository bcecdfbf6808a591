"""The inbox's sensor: a workbook dropped into ``inbox/`` (by SHA-256, noting when it arrived)
re-runs ``monthly_review`` for every month it touches, so a late submission updates its month
without a manual backfill; a link, folder or unreadable file gets a run that quarantines it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from kj_pipelines.catalog.model import FIRST_PERIOD
from kj_pipelines.core.files import sha256_of
from kj_pipelines.core.periods import add_months, last_complete_month
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.jobs import monthly_review, review_requests
from kj_pipelines.defs.resources import KJDataResource
from kj_pipelines.intake.inbox import inbox_entries, record_arrival, still_written
from kj_pipelines.intake.submissions import read_submissions

MAX_FILES_PER_TICK = 50


REMEMBERED_HASHES = 2_000


def inbox_run_requests(files: list[tuple[str, list[str]]], latest: str,
                       first: str = FIRST_PERIOD) -> list[dg.RunRequest]:
    """One ``monthly_review`` run per month a new file touches (and the month a year later,
    whose growth rate it is the base of); a file with no usable month is ingested with the
    latest month. ``files`` holds (sha256, periods) pairs."""
    triggers = []
    for sha, periods in files:
        months = {p for p in periods if first <= p <= latest}
        months |= {add_months(p, 12) for p in months if add_months(p, 12) <= latest}
        triggers.append((f"inbox:{sha[:16]}", {"kj/trigger": "inbox", "kj/file_sha256": sha[:16]},
                         months or {latest}))
    return review_requests(triggers)


@dg.sensor(
    name="inbox_sensor",
    job=monthly_review,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="填报到达：inbox/ 中出现新文件（按SHA-256识别）时，为其涉及的月份重跑月调度，迟报的历史月份也自动重算。",
)
def inbox_sensor(context: dg.SensorEvaluationContext, kj_data: KJDataResource):
    seen: list[str] = json.loads(context.cursor) if context.cursor else []
    known = set(seen)
    catalog = kj_data.catalog()
    now = now_local()
    today = now.date()
    inbox = kj_data.paths.inbox
    new: list[tuple[str, Path]] = []
    files, odd = inbox_entries(inbox)
    unreadable: list[str] = []
    for path in files[:MAX_FILES_PER_TICK]:
        if still_written(path):
            continue  # a copy in progress: the next tick
        try:
            sha = sha256_of(path)
        except OSError:
            # unreadable (permissions) or moved to the archive by a run meanwhile: a run
            # quarantines what cannot be read, once
            unreadable.append(f"unreadable:{path.name}:{_inode(path)}")
            continue
        if sha not in known:
            new.append((sha, path))
            # when it reached the inbox: what lateness is judged on (kj_pipelines.intake.inbox)
            record_arrival(inbox, sha, now)
    # a link, a folder, an unreadable file: a run quarantines it (keyed by name and inode)
    oddities = [key for key in unreadable + [f"odd:{p.name}:{_inode(p)}" for p, _ in odd]
                if key not in known]
    results = read_submissions([(path, path.name) for _, path in new], catalog, today)
    found = [(sha, sorted(set(result.accepted["period"])))
             for (sha, _), result in zip(new, results, strict=True)]
    found += [(hashlib.sha256(key.encode()).hexdigest(), []) for key in oddities]
    seen.extend([sha for sha, _ in new] + oddities)
    if not found:
        return dg.SkipReason("inbox/ 中没有新文件")
    context.update_cursor(json.dumps(seen[-REMEMBERED_HASHES:]))
    requests = inbox_run_requests(found, last_complete_month(today), catalog.first_period)
    # what the tick did, in its log (the tick list says only how many runs it asked for)
    context.log.info(f"新文件 {len(new)} 个（{'、'.join(p.name for _, p in new) or '无'}）"
                     + (f"，待隔离 {len(oddities)} 个" if oddities else "")
                     + f"；重跑月调度 {', '.join(sorted({r.partition_key for r in requests}))}")
    return requests


def _inode(path: Path) -> int:
    try:
        return path.lstat().st_ino
    except OSError:
        return 0
