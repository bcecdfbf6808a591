"""Where the project reads and writes: everything hangs off ``KJ_DATA_DIR`` (see shared interface)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = "Asia/Shanghai"
FIRST_PERIOD = "2019-01"


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

    def source_db_url(self) -> str:
        return os.environ.get("KJ_SOURCE_DB_URL") or f"sqlite:///{self.source / 'registry.sqlite'}"

    def ensure(self) -> None:
        for folder in (self.catalog, self.plans, self.inbox, self.archive, self.reports,
                       self.outbox, self.source):
            folder.mkdir(parents=True, exist_ok=True)
