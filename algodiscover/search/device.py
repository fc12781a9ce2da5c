"""Compute-device checks shared by the torch-based engines."""

from __future__ import annotations

from ..errors import DeviceError

DEVICES = ("cpu", "cuda")


def resolve_device(device: str) -> str:
    """'cpu' or 'cuda' (or 'cuda:N'); raises DeviceError when CUDA is asked for but absent."""
    if device is None:
        return "cpu"
    dev = str(device).strip().lower()
    if dev == "cpu":
        return "cpu"
    if dev == "cuda" or dev.startswith("cuda:"):
        import torch
        if not torch.cuda.is_available():
            raise DeviceError(f"device {device!r} was requested but no CUDA GPU is available; use --device cpu")
        return dev
    raise DeviceError(f"unknown device {device!r}; expected cpu or cuda")
