"""algodiscover: discover, prove, catalogue and render fast matrix-multiplication algorithms.

The one convention (docs/DESIGN.md): for A (m x k), B (k x n), C = AB, all flattened row-major,
``vec(C) = W_c @ ((W_a @ vec(A)) * (W_b @ vec(B)))``.
"""

__version__ = "0.1.0"

from .core import Scheme, Shape, Verification, lower_bound, matmul_tensor, parse_shape, verify  # noqa: E402
from .errors import AlgoDiscoverError  # noqa: E402


def load(path, fmt=None):
    """Read the one scheme in a file and re-verify it (``scheme.verification`` holds the result).

    ``fmt``: a format name (json, perminov, npz, exp, m, bb, sms); default from the suffix, JSON keys or the
    content.  Files holding many schemes (``.npz``) need :func:`algodiscover.formats.load_all`.  Raises
    ``FormatError`` on a malformed file.  A scheme that fails verification is still returned, with
    ``verification.ring == "invalid"``: check ``scheme.verify().ok``.
    """
    from .formats import load as _load
    return _load(path, fmt)


def save(scheme, path, fmt=None):
    """Write a proven scheme to ``path`` and return the path written.

    The format is ``fmt`` or the suffix (``.json``, ``.npz``, ``.exp``, ``.m``, ``.bb``, ``.txt`` =
    Benson-Ballard, ``.sms``); an unknown or missing suffix without ``fmt`` raises ``FormatError``.  A scheme
    that fails exact verification raises ``VerificationError``; one valid only modulo 2 is written only to
    formats that record it (json, perminov).  An existing file is replaced (the CLI asks for ``--force``).
    """
    from .formats import save as _save
    return _save(scheme, path, fmt)


def discover(shape, rank, *, engine: str = "spn", cluster=None, **options):
    """Iterate over proven schemes for ``shape`` with at most ``rank`` products from a search engine.

    ``shape``: ``"2x2x3"``, ``"2,2,3"``, a tuple or a :class:`Shape`.  ``engine``: ``"spn"`` (StrassenNets,
    default) or ``"flip"`` (flip graphs with Hensel lifting); see ``search.engine_names()``.  Options:
    ``seed`` (int; default: a random one, recorded in each scheme's provenance), ``budget``
    (:class:`algodiscover.search.Budget`: restarts, time_limit, count), ``device`` (``"cpu"``/``"cuda"``),
    ``on_progress`` (called with :class:`algodiscover.search.Progress`), ``stop`` (a callable; True ends the
    search), and engine options: spn ``strategy`` (``NAME`` or ``NAME:key=value,...``), ``batch``,
    ``steps``, ``data``, ``coefficients``, ``workers``, ``curves``; flip ``ring`` (``"Z"``/``"Z2"``),
    ``start``, ``init``, ``workers``, ``symmetry``, ``field``.  ``cluster``: a ``distributed.Client`` or an
    address (``tcp://host:8786``, ``local:N``) to run the engine's work as tasks on a Dask cluster
    (:func:`algodiscover.cluster.run_cluster`).

    Every scheme yielded passed exact verification; engines deduplicate by canonical key.  Example::

        s = next(discover("2x2x2", 7, seed=0))
    """
    if cluster is not None:
        from .cluster import run_cluster
        return run_cluster(engine, shape, rank, cluster=cluster, **options)
    from .search import run_search
    return run_search(engine, shape, rank, **options)


__all__ = ["Scheme", "Shape", "Verification", "matmul_tensor", "parse_shape", "verify", "lower_bound",
           "load", "save", "discover", "AlgoDiscoverError", "__version__"]
