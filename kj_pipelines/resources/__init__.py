"""Resources: where the data lives (``KJ_DATA_DIR``), the warehouse, and the notifier."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
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


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse, ``warehouse.duckdb`` in the data directory (one file per region)."""

    data_dir: str

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # dagster-duckdb's resource retries while another process holds the file
        with DuckDBResource(database=str(DataPaths(Path(self.data_dir)).warehouse)
                            ).get_connection() as conn:
            yield conn


class NotifierResource(dg.ConfigurableResource):
    """Apprise URLs, space separated (``KJ_NOTIFY_URLS``); none: Markdown files in ``outbox/``."""

    urls: str = ""
    data_dir: str

    def notifier(self) -> Notifier:
        return Notifier.from_setting(self.urls, DataPaths(Path(self.data_dir)).outbox)


def default_resources() -> dict[str, object]:
    """Configured from the environment when the run starts (``EnvVar``), so the UI shows where
    each setting comes from; without ``KJ_DATA_DIR``, the repository's ``data/``."""
    data_dir = dg.EnvVar("KJ_DATA_DIR") if os.environ.get("KJ_DATA_DIR") \
        else str(DataPaths.from_env().root)
    urls = dg.EnvVar("KJ_NOTIFY_URLS") if os.environ.get("KJ_NOTIFY_URLS") else ""
    return {
        "kj_data": KJDataResource(root=data_dir),
        "warehouse": WarehouseResource(data_dir=data_dir),
        "notifier": NotifierResource(urls=urls, data_dir=data_dir),
    }
