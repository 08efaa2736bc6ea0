"""Parquet data catalog: exact, partitioned storage of quotes, trades, bars and book deltas.

See :mod:`tradewire.data.catalog.store` for the layout and dedupe rule and
:mod:`tradewire.data.catalog.schema` for the column schemas.
"""

from tradewire.data.catalog.schema import DATA_TYPES, SCHEMAS
from tradewire.data.catalog.store import CatalogEntry, ParquetDataCatalog

__all__ = ["DATA_TYPES", "SCHEMAS", "CatalogEntry", "ParquetDataCatalog"]
