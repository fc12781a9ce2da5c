"""Worker processes shared by the engines: start them, and end them without hanging.

An engine's workers send tuples through one queue and watch one stop event; the parent reads the
queue.  These helpers hold the parts every engine needs the same way.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import time
from typing import Callable


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset`` narrow;
    ``os.cpu_count()`` reports the whole host)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def start_workers(target, args_for: Callable[[int], tuple], n: int):
    """Start ``n`` daemon processes running ``target(*args_for(w), queue, stop_event)``; fork where the
    platform has it (no re-import), else spawn (the arguments must then pickle)."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    q = ctx.Queue()
    stop_event = ctx.Event()
    procs = [ctx.Process(target=target, args=(*args_for(w), q, stop_event), daemon=True) for w in range(n)]
    for p in procs:
        p.start()
    return procs, q, stop_event


def receive(procs, q, stop_event, halted: Callable[[], bool], poll: float = 0.1):
    """Yield the workers' messages (tuples whose first item is their kind) until every worker has
    sent ``("done", ...)`` or none is alive.  ``halted()`` is asked between reads; when it says so,
    the workers are told to stop (their last messages still come).  An ``"error"`` message also
    stops them all; it is yielded for the engine to report."""
    alive = len(procs)
    while alive > 0:
        if halted():
            stop_event.set()
        try:
            msg = q.get(timeout=poll)
        except queue_mod.Empty:
            if not any(p.is_alive() for p in procs):
                return
            continue
        if msg[0] == "done":
            alive -= 1
            continue
        if msg[0] == "error":
            stop_event.set()
        yield msg


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
