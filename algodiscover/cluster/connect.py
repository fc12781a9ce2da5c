"""Reach a Dask cluster: an address (``tcp://host:8786``, ``host:8786``), ``local:N`` for a
LocalCluster of N one-thread processes on this machine, or a ``distributed.Client`` already made.

Every failure to reach it or to use it is a :class:`ClusterError` (bad input: exit 2, one line).
"""

from __future__ import annotations

import importlib.util
import re

from ..errors import AlgoDiscoverError

CONNECT_TIMEOUT_S = 5.0  # the Dask handshake after the TCP probe succeeded
PROBE_TIMEOUT_S = 3.0  # an unreachable scheduler is reported within this (plus start-up), well under 10 s
WORKER_WAIT_S = 30.0  # how long a scheduler without workers is waited on


class ClusterError(AlgoDiscoverError, ValueError):
    """A cluster that cannot be reached or used (address, versions, no workers, dask not installed)."""


def require_distributed():
    """``distributed``, or a clear error naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise ClusterError("--cluster needs dask.distributed: pip install 'algodiscover[cluster]' "
                           "(or: pip install 'dask[distributed]')") from None
    return distributed


_LOCAL = re.compile(r"^local(?::(\d+))?$")
_HOSTPORT = re.compile(r"^(?:(tcp|tls|inproc|ucx|ws|wss)://)?([A-Za-z0-9_.\-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")


def parse_address(address: str) -> tuple[str, object]:
    """``("local", N)`` or ``("remote", "tcp://host:port")``; a malformed address raises ClusterError."""
    if not isinstance(address, str) or not address.strip():
        raise ClusterError(f"--cluster needs an address such as tcp://host:8786 or local:4, got {address!r}")
    a = address.strip()
    m = _LOCAL.match(a)
    if m:
        n = int(m.group(1)) if m.group(1) else None
        if n is not None and n < 1:
            raise ClusterError(f"--cluster local:N needs N >= 1, got {a!r}")
        if n is None:
            from ..search._workers import available_cores
            n = available_cores()
        return "local", n
    m = _HOSTPORT.match(a)
    if m and 0 < int(m.group(3)) < 65536:
        return "remote", a if m.group(1) else f"tcp://{a}"
    raise ClusterError(f"--cluster {a!r} is not a scheduler address: expected tcp://host:port (e.g. "
                       f"tcp://10.0.0.5:8786), host:port, or local:N for N processes on this machine")


def has_dashboard() -> bool:
    return importlib.util.find_spec("bokeh") is not None


class Connection:
    """A client plus whatever this process started for it (a LocalCluster); ``close`` ends what we own."""

    def __init__(self, client, *, owned: bool, cluster=None, address: str):
        self.client, self.owned, self.cluster, self.address = client, owned, cluster, address

    @property
    def dashboard(self) -> str | None:
        if not has_dashboard():
            return None
        try:
            return self.client.dashboard_link
        except Exception:
            return None

    def workers(self) -> dict:
        """{address: nthreads} of the workers connected now."""
        try:
            return dict(self.client.nthreads())
        except Exception:
            return {}

    def close(self) -> None:
        if not self.owned:
            return
        try:
            self.client.close(timeout=5)
        except Exception:
            pass
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=10)
            except Exception:
                pass


def probe(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """A plain TCP connect to a ``tcp://host:port`` scheduler first: a refused or silent port is reported
    at once (distributed itself retries until its timeout), before dask is even imported."""
    import socket
    m = _HOSTPORT.match(address)
    if not m or (m.group(1) or "tcp") != "tcp":
        return
    host, port = m.group(2).strip("[]"), int(m.group(3))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, socket.timeout) else (e.strerror or str(e))
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({why}); is `dask scheduler` "
                           f"running there and the port open?") from None


def handshake(address: str, timeout: float = CONNECT_TIMEOUT_S) -> dict:
    """Ask the scheduler who it is over one Dask comm, bounded by ``timeout``: something that answers
    on the port but is not a Dask scheduler is refused here, before a Client (which would retry and
    hang on it) is made."""
    import asyncio

    async def ask():
        from distributed.comm import connect as comm_connect
        comm = await comm_connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(ask(), timeout))
    except BaseException as e:  # garbage on the wire can raise anything (MemoryError, ...)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ClusterError(f"{address} answers, but not as a Dask scheduler ({type(e).__name__}); check the "
                           f"address and port (the scheduler's default port is 8786)") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ClusterError(f"{address} answers, but not as a Dask scheduler; check the address and port "
                           f"(the scheduler's default port is 8786)")
    return reply


def connect(cluster, *, timeout: float = CONNECT_TIMEOUT_S) -> Connection:
    """A :class:`Connection` to ``cluster`` (address string or ``distributed.Client``)."""
    if isinstance(cluster, str):
        kind, where = parse_address(cluster)
        if kind == "remote":
            probe(where)
    distributed = require_distributed()
    if isinstance(cluster, distributed.Client):
        return Connection(cluster, owned=False, address=str(cluster.scheduler.address if cluster.scheduler else "?"))
    kind, where = parse_address(cluster)
    if kind == "local":
        import dask
        try:
            # the workers' statistical profiler samples every thread's stack each 10 ms: time taken from
            # the search (the dashboard keeps its task stream and progress without it)
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                lc = distributed.LocalCluster(n_workers=int(where), threads_per_worker=1, processes=True,
                                              host="127.0.0.1", dashboard_address=":0",
                                              worker_dashboard_address=":0", silence_logs=50)
            client = distributed.Client(lc, timeout=max(timeout, 30))
        except Exception as e:
            raise ClusterError(f"cannot start a LocalCluster of {where} processes: {type(e).__name__}: {e}") from None
        return Connection(client, owned=True, cluster=lc, address=f"local:{where} ({lc.scheduler_address})")
    handshake(where, timeout)
    try:
        client = distributed.Client(where, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {where} within {timeout:g} s ({type(e).__name__}"
                           f"{': ' + str(e).splitlines()[0] if str(e) else ''}); is `dask scheduler` running "
                           f"there and the port open?") from None
    except Exception as e:
        raise ClusterError(f"cannot use the Dask scheduler at {where}: {type(e).__name__}: {e}") from None
    return Connection(client, owned=True, address=where)


def check_workers(conn: Connection, *, wait: float = WORKER_WAIT_S) -> dict:
    """Wait for at least one worker, then check that every worker runs the client's algodiscover
    version (and commit, from a checkout); returns {worker address: nthreads}.  A mismatch, a worker
    that cannot import algodiscover, or no worker at all raises ClusterError."""
    from .tasks import identity, mismatch
    client = conn.client
    try:
        client.wait_for_workers(1, timeout=wait)
    except Exception:
        raise ClusterError(f"the Dask scheduler at {conn.address} has no worker after {wait:g} s; "
                           f"start some with `dask worker {conn.address.split(' ')[0]}`") from None
    mine = identity()
    try:
        theirs = client.run(identity)
    except ModuleNotFoundError as e:
        raise ClusterError(f"a worker of {conn.address} cannot import algodiscover ({e}); install the same "
                           f"algodiscover on every worker") from None
    except Exception as e:
        raise ClusterError(f"cannot ask the workers of {conn.address} which algodiscover they run: "
                           f"{type(e).__name__}: {e}") from None
    bad = [(w, mismatch(mine, got)) for w, got in sorted(theirs.items())]
    bad = [(w, why) for w, why in bad if why]
    if bad:
        w, why = bad[0]
        more = f" (and {len(bad) - 1} more worker(s))" if len(bad) > 1 else ""
        raise ClusterError(f"refusing to run: worker {w} runs {why}{more}; install the same algodiscover "
                           f"version and commit on the client and every worker")
    return conn.workers()
