"""The SQLite catalogue of proven schemes (see :mod:`.store`), the ``results/`` export (:mod:`.results`) and the
result tables (:mod:`.tables`: ``best_ranks`` is ``catalog best`` as an object that displays in Jupyter)."""

from .store import (APPLICATION_ID, Catalog, CatalogError, CatalogWriter, Entry, EntryList, default_path, prepare,
                    resolve_path)
from .tables import Table, best_ranks

__all__ = ["Catalog", "CatalogWriter", "CatalogError", "Entry", "EntryList", "default_path", "resolve_path", "prepare",
           "APPLICATION_ID", "Table", "best_ranks"]
