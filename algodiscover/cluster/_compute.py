"""A compute process beside a Dask worker thread: it trains SPN restart ranges outside the worker.

Why: a Dask worker process runs its event loop (heartbeats, monitors, the comms) in a second thread.
The SPN loop calls thousands of small torch operations a second, each releasing and retaking the
GIL; with the event loop thread in the same process, every handover can wait for the OS to schedule
the other thread, and on a busy machine that cost the search a third to a half of its speed
(measured: ``benchmarks/results/cluster-first.md``).  In its own process, started without the
nanny's ``MALLOC_TRIM_THRESHOLD_=65536`` (which made the loop about 1.5x slower), the loop runs as in the
local engine's worker processes.

Protocol: one JSON request per line on stdin (the arguments of ``tasks._spn_range`` without
``stop``), one JSON reply per line on stdout (``{"ok", "candidates", "stats", "complete"}`` or
``{"ok": false, "error"}``), before it ``{"candidate"}`` lines as candidates are found when the
request asks ``"stream": true``.  SIGUSR1 asks the running request to stop (it replies with what it has);
the process ends when stdin closes, and a running request stops when the parent process is gone
(the worker was killed), so nothing is left computing for nobody.

    python -m algodiscover.cluster._compute
"""

from __future__ import annotations

import json
import os
import signal
import sys


def main() -> int:
    flag = {"stop": False}
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides
    signal.signal(signal.SIGUSR1, lambda *_: flag.__setitem__("stop", True))
    parent = os.getppid()

    def stop() -> bool:
        return flag["stop"] or os.getppid() != parent

    import torch
    torch.set_num_threads(1)
    from .tasks import _spn_range
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        flag["stop"] = False
        try:
            req = json.loads(line)

            def send(cand):  # a candidate as soon as it is found (the worker streams it to the client)
                out.write(json.dumps({"candidate": cand}, separators=(",", ":")) + "\n")
                out.flush()
            cands, stats, complete = _spn_range(req["shape"], int(req["rank"]), seed=int(req["seed"]),
                                                j0=int(req["j0"]), j1=int(req["j1"]), options=req["options"],
                                                stop=stop, on_candidate=send if req.get("stream") else None)
            reply = {"ok": True, "candidates": cands, "stats": stats, "complete": complete}
        except Exception as e:  # reported to the task, which raises it on the worker
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        try:
            out.write(json.dumps(reply, separators=(",", ":")) + "\n")
            out.flush()
        except (BrokenPipeError, OSError):
            return 0
        if os.getppid() != parent:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
