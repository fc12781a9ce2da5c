"""Searches that outgrow one machine: the engines' work as tasks on a Dask cluster.

``discover ... --cluster ADDRESS`` (``tcp://host:8786``, ``host:8786`` or ``local:N``) and
``algodiscover.discover(..., cluster=client_or_address)`` run here.  :mod:`.tasks` holds what the
workers run (pure functions of JSON inputs, bounded by work), :mod:`.runner` the client that keeps
them busy and proves every candidate, :mod:`.connect` the connection and version check, and
:mod:`.checkpoint` the ``--checkpoint``/``--resume`` directory.  ``dask.distributed`` is imported only
when a cluster is used (``pip install 'algodiscover[cluster]'``).
"""

from .checkpoint import CheckpointError
from .connect import ClusterError, parse_address
from .runner import ClusterSearch, run_cluster

__all__ = ["run_cluster", "ClusterSearch", "ClusterError", "CheckpointError", "parse_address"]
