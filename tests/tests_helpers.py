"""Helpers importable from tests (the conftest fixtures as plain functions, for hypothesis tests)."""

from algodiscover import Scheme
from tests.conftest import LADERMAN, STRASSEN, WINOGRAD


def strassen_scheme() -> Scheme:
    return Scheme((2, 2, 2), **STRASSEN)


def winograd_scheme() -> Scheme:
    return Scheme((2, 2, 2), **WINOGRAD)


def laderman_scheme() -> Scheme:
    return Scheme((3, 3, 3), **LADERMAN)


def wait_for_process_group(pgid: int, size: int, timeout: float = 60.0) -> int:
    """Wait until process group ``pgid`` holds at least ``size`` processes (Linux /proc); returns how many it
    holds.  Lets a signal test signal a search once its workers exist instead of after a fixed sleep."""
    import os
    import time
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < timeout:
        n = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:  # fields after the command name: state, ppid, pgrp, ...
                n += 1
        if n >= size:
            return n
        time.sleep(0.05)
    return n
