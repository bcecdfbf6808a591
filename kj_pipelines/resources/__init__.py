"""Resources: where the data lives (``KJ_DATA_DIR``), the warehouse, and the notifier."""


from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from kj_pipelines.domain.catalog import Catalog, load_catalog
from kj_pipelines.settings import DataPaths


class KJDataResource(dg.ConfigurableResource):
    """The data directory and its catalog (目录)."""

    root: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.root))

    def catalog(self) -> Catalog:
        return load_catalog(self.paths.catalog)


def default_resources() -> dict[str, object]:
    paths = DataPaths.from_env()
    return {
        "kj_data": KJDataResource(root=str(paths.root)),
        "warehouse": DuckDBResource(database=str(paths.warehouse)),
    }
