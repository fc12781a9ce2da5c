"""Describe the machine a benchmark ran on (named in every results file)."""

from __future__ import annotations

import os
import platform


def machine(device: str = "cpu") -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "device": device}
    try:
        import torch
        info["torch"] = torch.__version__
        if device.startswith("cuda") and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def describe(info: dict) -> str:
    dev = info.get("gpu") or info["device"]
    return (f"{info['host']}: {info['cpu']}, {info['cores']} cores, device {dev}, torch {info.get('torch', '?')}, "
            f"load average at start {info.get('load_average_at_start')}")
