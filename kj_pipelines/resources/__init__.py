"""Resources: where the data lives (``KJ_DATA_DIR``), the warehouse, and the notifier."""

import os
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from kj_pipelines.domain.catalog import Catalog, load_catalog
from kj_pipelines.notify import Notifier
from kj_pipelines.settings import DataPaths


class KJDataResource(dg.ConfigurableResource):
    """The data directory and its catalog (目录)."""

    root: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.root))

    def catalog(self) -> Catalog:
        return load_catalog(self.paths.catalog)


class NotifierResource(dg.ConfigurableResource):
    """Apprise URLs, space separated (``KJ_NOTIFY_URLS``); none: Markdown files in ``outbox/``."""

    urls: str = ""
    outbox: str

    def notifier(self) -> Notifier:
        return Notifier.from_setting(self.urls, Path(self.outbox))


def default_resources() -> dict[str, object]:
    paths = DataPaths.from_env()
    urls = dg.EnvVar("KJ_NOTIFY_URLS") if os.environ.get("KJ_NOTIFY_URLS") else ""
    return {
        "kj_data": KJDataResource(root=str(paths.root)),
        "warehouse": DuckDBResource(database=str(paths.warehouse)),
        "notifier": NotifierResource(urls=urls, outbox=str(paths.outbox)),
    }
