"""algodiscover: discover, prove, catalogue and render fast matrix-multiplication algorithms.

The one convention (DESIGN.md): for A (m x k), B (k x n), C = AB, all flattened row-major,
``vec(C) = W_c @ ((W_a @ vec(A)) * (W_b @ vec(B)))``.
"""

__version__ = "0.1.0"

from .core import Scheme, Shape, Verification, lower_bound, matmul_tensor, parse_shape, verify  # noqa: E402
from .errors import AlgoDiscoverError  # noqa: E402


def load(path, fmt=None):
    """Read one scheme from a file and re-verify it."""
    from .formats import load as _load
    return _load(path, fmt)


def save(scheme, path, fmt=None):
    """Write a proven scheme to a file (format chosen by suffix)."""
    from .formats import save as _save
    return _save(scheme, path, fmt)


def discover(shape, rank, *, engine: str = "spn", cluster=None, **options):
    """Iterate over proven schemes for ``shape`` with ``rank`` products from a search engine.

    ``cluster``: a ``distributed.Client`` or an address (``tcp://host:8786``, ``local:N``) to run the
    engine's work as tasks on a Dask cluster (:func:`algodiscover.cluster.run_cluster`)."""
    if cluster is not None:
        from .cluster import run_cluster
        return run_cluster(engine, shape, rank, cluster=cluster, **options)
    from .search import run_search
    return run_search(engine, shape, rank, **options)


__all__ = ["Scheme", "Shape", "Verification", "matmul_tensor", "parse_shape", "verify", "lower_bound",
           "load", "save", "discover", "AlgoDiscoverError", "__version__"]
