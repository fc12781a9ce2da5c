"""The SQLite catalogue of proven schemes (see :mod:`.store`) and the ``results/`` export (:mod:`.results`)."""

from .store import (APPLICATION_ID, Catalog, CatalogError, CatalogWriter, Entry, default_path, prepare,
                    resolve_path)

__all__ = ["Catalog", "CatalogWriter", "CatalogError", "Entry", "default_path", "resolve_path", "prepare",
           "APPLICATION_ID"]
