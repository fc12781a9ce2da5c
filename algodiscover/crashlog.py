"""Where tracebacks of internal errors are kept: one file per crash, whose path the error names.

The folder is ``$ALGODISCOVER_LOG_DIR`` when set, else the user's state folder
(``$XDG_STATE_HOME/algodiscover/logs``, by default ``~/.local/state/algodiscover/logs``), else
(unwritable home) ``<tempdir>/algodiscover-logs``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def log_dir() -> Path:
    """The folder for crash logs (not created)."""
    env = os.environ.get("ALGODISCOVER_LOG_DIR")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "algodiscover" / "logs"


def write_crash_log(text: str, what: str = "crash") -> str:
    """Write ``text`` (a traceback and its context) to a new file and return its path.

    Never raises: when no folder can be written, the path returned says so instead."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{what}-{stamp}-{os.getpid()}.log"
    candidates = [log_dir()]
    if not os.environ.get("ALGODISCOVER_LOG_DIR"):
        candidates.append(Path(tempfile.gettempdir()) / "algodiscover-logs")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with open(path, "a", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            return str(path)
        except OSError:
            continue
    return "(no log written: no writable log folder; set ALGODISCOVER_LOG_DIR)"
