"""Where the project reads and writes: everything hangs off ``KJ_DATA_DIR`` (see shared interface)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from kj_pipelines.core.periods import TIMEZONE

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL = ZoneInfo(TIMEZONE)
PACKAGED_CATALOG = Path(__file__).resolve().parents[1] / "sample" / "catalog"


def now_local() -> dt.datetime:
    """The time in Asia/Shanghai, with its zone (the warehouse stores every time so): the wall
    clock, or ``KJ_TODAY`` (``YYYY-MM-DD``, read as 09:00 that day) when set — the one place
    the clock is injected, for rerunning a month as the bureau saw it on a day and for tests
    that must not depend on the day they run."""
    fixed = os.environ.get("KJ_TODAY", "").strip()
    if fixed:
        try:
            return dt.datetime.combine(dt.date.fromisoformat(fixed), dt.time(9, 0), LOCAL)
        except ValueError as exc:
            raise ValueError(f"KJ_TODAY={fixed!r} is not a date (YYYY-MM-DD)") from exc
    return dt.datetime.now(LOCAL).replace(microsecond=0)


def local(moment: dt.datetime) -> dt.datetime:
    """A time in Asia/Shanghai: one without a zone is taken to be that zone's wall clock."""
    return moment.replace(tzinfo=LOCAL) if moment.tzinfo is None else moment.astimezone(LOCAL)


@dataclass(frozen=True)
class DataPaths:
    """The fixed sub-folders of the data directory."""

    root: Path

    @classmethod
    def from_env(cls) -> DataPaths:
        return cls(Path(os.environ.get("KJ_DATA_DIR") or REPO_ROOT / "data").resolve())

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    @property
    def plans(self) -> Path:
        return self.root / "plans"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def catalog_folder(self) -> Path:
        """The data directory's catalog, or the packaged district catalog before ``kj sample``."""
        return self.catalog if (self.catalog / "indicators.yaml").exists() else PACKAGED_CATALOG

    def source_db_url(self) -> str:
        return os.environ.get("KJ_SOURCE_DB_URL") or f"sqlite:///{self.source / 'registry.sqlite'}"

    def ensure(self) -> None:
        for folder in (self.catalog, self.plans, self.inbox, self.archive, self.reports,
                       self.outbox, self.source):
            folder.mkdir(parents=True, exist_ok=True)
