"""Worker processes shared by the engines: start them, and end them without hanging.

An engine's workers send tuples through one queue and watch one stop event; the parent reads the
queue.  These helpers hold the parts every engine needs the same way:

* **No orphans.**  A worker ends within about a second when its parent dies for any reason,
  SIGKILL included: on Linux the kernel sends it SIGKILL (``prctl(PR_SET_PDEATHSIG)``, set right
  after the start and followed by a ``getppid()`` check for a parent that died in between); on
  every platform a daemon thread also watches that its parent is still its parent.  Workers ignore
  SIGINT (the parent decides when a Ctrl-C stops them) and end their loop on SIGTERM.
* **Crashes are internal errors.**  An engine's worker reports an exception by sending
  ``("error", ..., "Type: message", ...)`` from inside its ``except`` block; the queue handed to it
  writes the full traceback to a log file (:mod:`algodiscover.crashlog`) and appends
  ``(worker traceback in PATH)`` to that message, which the engine raises as ``InternalError``.
  A worker that dies without finishing (a signal, a crash in native code) makes :func:`receive`
  raise ``InternalError`` itself.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import signal
import sys
import threading
import time
import traceback
from typing import Callable

from ..errors import InternalError

PARENT_POLL = 0.5  # seconds between a worker's checks that its parent is alive
HALT_POLL = 0.5  # seconds between the parent's checks of halted() while its consumer is away
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset`` narrow;
    ``os.cpu_count()`` reports the whole host)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


PARALLEL_FROM = 24  # m*k*n from which both engines default to all cores


def default_workers(shape, device: str = "cpu") -> int:
    """The one default of ``workers`` for every engine: all cores (:func:`available_cores`) from
    m*k*n = ``PARALLEL_FROM`` on, one process below (those shapes are found in about a second, less than
    starting processes costs) and off the CPU."""
    m, k, n = (int(x) for x in shape)
    if str(device).strip().lower() != "cpu" or m * k * n < PARALLEL_FROM:
        return 1
    return available_cores()


def start_workers(target, args_for: Callable[[int], tuple], n: int):
    """Start ``n`` daemon processes running ``target(*args_for(w), queue, stop_event)``; fork where the
    platform has it (no re-import), else spawn (the arguments must then pickle).  Each worker dies
    with this process (see the module docstring)."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    q = ctx.Queue()
    stop_event = ctx.Event()
    parent = os.getpid()
    # PR_SET_PDEATHSIG fires when the *thread* that started the child ends: only tie the workers to
    # it when that is the main thread (a search run from a short-lived thread relies on the watcher)
    deathsig = threading.current_thread() is threading.main_thread()
    procs = [ctx.Process(target=_child_main, args=(target, parent, deathsig, w, args_for(w), q, stop_event),
                         daemon=True) for w in range(n)]
    for p in procs:
        p.start()
    return procs, q, stop_event


def _child_main(target, parent: int, deathsig: bool, index: int, args: tuple, q, stop_event) -> None:
    """What a worker process runs: tie its life to the parent's, then the engine's ``target``."""
    die_with_parent(parent, deathsig)
    out = _ReportingQueue(q, index)
    try:
        target(*args, out, stop_event)
    except Exception as e:  # escaped the engine's own handler: receive() raises it as InternalError
        out.put(("crash", index, f"{type(e).__name__}: {e}"))
        out.put(("done", index))


def worker_stop(stop_event) -> Callable[[], bool]:
    """In a worker process: ignore SIGINT (the parent decides when a Ctrl-C stops the workers) and end on
    SIGTERM; returns ``stop()``, True once SIGTERM came or the parent set ``stop_event``."""
    flag = {"stop": False}

    def on_term(signum, frame):
        flag["stop"] = True

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)
    return lambda: flag["stop"] or stop_event.is_set()


def die_with_parent(parent: int, deathsig: bool = True) -> None:
    """Make this (child) process end when the process ``parent`` is no longer its parent."""
    if deathsig and sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watcher below still works
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(PARENT_POLL)
            if os.getppid() != parent:  # re-parented: the parent is gone
                try:
                    os.kill(os.getpid(), signal.SIGKILL)
                finally:
                    os._exit(1)

    threading.Thread(target=watch, name="algodiscover-parent-watch", daemon=True).start()


class _ReportingQueue:
    """The queue as a worker sees it: an ``"error"`` message sent while an exception is being handled
    gets the traceback written to a log file, and the file's path appended to its text."""

    def __init__(self, q, index: int):
        self._q, self._index = q, index

    def put(self, msg, *args, **kwargs):
        if isinstance(msg, tuple) and msg and msg[0] in ("error", "crash"):
            msg = self._with_log(msg)
        return self._q.put(msg, *args, **kwargs)

    def _with_log(self, msg: tuple) -> tuple:
        exc = sys.exc_info()[1]
        if exc is None:
            return msg
        from ..crashlog import write_crash_log
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        path = write_crash_log(f"algodiscover worker {self._index} (pid {os.getpid()}, parent {os.getppid()}) "
                               f"failed at {time.strftime('%Y-%m-%d %H:%M:%S')}\n{text}", what="worker")
        parts = list(msg)
        for i in range(1, len(parts)):  # the message text: the first string after the kind
            if isinstance(parts[i], str):
                parts[i] = f"{parts[i]} (worker traceback in {path})"
                return tuple(parts)
        return (*parts, f"worker traceback in {path}")

    def __getattr__(self, name):
        return getattr(self._q, name)


def receive(procs, q, stop_event, halted: Callable[[], bool], poll: float = 0.1):
    """Yield the workers' messages (tuples whose first item is their kind) until every worker has
    sent ``("done", ...)`` or none is alive.  ``halted()`` is asked between reads; when it says so,
    the workers are told to stop (their last messages still come).  An ``"error"`` message also
    stops them all; it is yielded for the engine to report (as ``InternalError``).  A worker that
    ends without a word (killed by a signal, a crash in native code) raises ``InternalError`` here.

    ``halted()`` is also asked every ``HALT_POLL`` seconds by a thread while the consumer holds this
    generator suspended (a notebook that took ``next()`` of a search and moved on): the workers then
    stop when the budget or count is used up instead of searching on unseen."""
    alive = len(procs)
    reported = False
    done_watching = threading.Event()

    def watch():  # another thread: halted() may see the engine's state mid-update, so errors retry
        while not done_watching.wait(HALT_POLL):
            try:
                if halted():
                    stop_event.set()
                    return
            except Exception:  # noqa: BLE001 - asked again at the next tick
                continue

    threading.Thread(target=watch, name="algodiscover-halt-watch", daemon=True).start()
    try:
        while alive > 0:
            if halted():
                stop_event.set()
            try:
                msg = q.get(timeout=poll)
            except queue_mod.Empty:
                if not reported:
                    _raise_if_died(procs)
                if not any(p.is_alive() for p in procs):
                    return
                continue
            if msg[0] == "done":
                alive -= 1
                continue
            if msg[0] == "crash":
                stop_event.set()
                raise InternalError(f"search worker {msg[1]} failed: {msg[2]}")
            if msg[0] == "error":
                stop_event.set()
                reported = True
            yield msg
    finally:
        done_watching.set()


def _raise_if_died(procs) -> None:
    """InternalError for the first worker that ended with a non-zero exit status (normal ends are 0)."""
    for w, p in enumerate(procs):
        code = p.exitcode
        if code is None or code == 0:
            continue
        if code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
            if -code == signal.SIGKILL:
                how += " (out of memory?)"
        else:
            how = f"exited with status {code}"
        raise InternalError(f"search worker {w} (pid {p.pid}) {how} before it finished")


def stop_workers(procs, q, stop_event, on_message: Callable[[tuple], None] | None = None,
                 grace: float = 5.0) -> None:
    """Ask the workers to stop and wait up to ``grace`` seconds, draining the queue meanwhile (a
    worker exits only once its queue feeder has flushed, so an undrained queue would hang it); then
    kill what is left and close the queue.  ``on_message`` sees what arrives while draining."""
    stop_event.set()
    deadline = time.monotonic() + grace
    while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
        try:
            msg = q.get(timeout=0.05)
        except (queue_mod.Empty, OSError, EOFError, ValueError):
            continue
        if on_message is not None:
            on_message(msg)
    for p in procs:
        if p.is_alive():
            p.kill()
        p.join(timeout=1.0)
    q.close()
    q.cancel_join_thread()
