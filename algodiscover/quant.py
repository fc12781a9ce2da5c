"""The ternary quantizer and its straight-through estimator: one module for the SPN search engine's
gradient strategies and for the network layers (``algodiscover.nn``).

Imports torch: load it only from torch-using code (``import algodiscover`` stays fast).

- ``ternarize(w, mode="round")``: hard rounding of each entry to {-1, 0, 1} (clamped);
  ``mode="twn"``: Ternary Weight Networks (Li et al. 2016): threshold
  Δ = ``twn_factor`` · mean|w| (0.7 by default) over the last ``dims``, values sign(w)·[|w| > Δ];
  ``threshold=`` overrides Δ with a given (e.g. learned) tensor.
- ``twn_scale(w, q)``: the TWN scale α = mean |w| over the entries kept (the least-squares scale).
- ``ste(w, q)``: w + (q − w).detach(): forward value q, gradient of the identity (straight-through).
- ``ternary_ste(w, mode=..., mix=1.0)``: ``(1 − mix)·w + mix·ste(w, ternarize(w))`` for a staged
  schedule that phases quantization in (``mix`` from 0 to 1).
"""

from __future__ import annotations

import torch

TWN_FACTOR = 0.7


def twn_threshold(w: torch.Tensor, factor: float = TWN_FACTOR, dims=None) -> torch.Tensor:
    """Δ = factor · mean|w| (over ``dims``, all entries when None), kept broadcastable against ``w``."""
    if dims is None:
        return factor * w.abs().mean()
    return factor * w.abs().mean(dim=dims, keepdim=True)


def ternarize(w: torch.Tensor, mode: str = "round", *, threshold=None, factor: float = TWN_FACTOR,
              dims=None) -> torch.Tensor:
    """Values in {-1, 0, 1} (same dtype as ``w``); no gradient (use :func:`ste` for one)."""
    with torch.no_grad():
        if mode == "round":
            if threshold is not None:
                return torch.sign(w) * (w.abs() > threshold).to(w.dtype)
            return w.round().clamp(-1, 1)
        if mode == "twn":
            d = twn_threshold(w, factor, dims) if threshold is None else threshold
            return torch.sign(w) * (w.abs() > d).to(w.dtype)
        raise ValueError(f"unknown quantizer mode {mode!r}; expected 'round' or 'twn'")


def twn_scale(w: torch.Tensor, q: torch.Tensor, dims=None) -> torch.Tensor:
    """α = Σ|w|·|q| / Σ|q|: the scale that best fits α·q to w (1 where q is all zero)."""
    mask = q.abs()
    if dims is None:
        num, den = (w.abs() * mask).sum(), mask.sum()
    else:
        num, den = (w.abs() * mask).sum(dim=dims, keepdim=True), mask.sum(dim=dims, keepdim=True)
    return torch.where(den > 0, num / den.clamp_min(1), torch.ones_like(num))


def ste(w: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Straight-through estimator: forward ``q``, backward the identity in ``w``."""
    return w + (q - w).detach()


def ternary_ste(w: torch.Tensor, mode: str = "round", *, mix=1.0, threshold=None,
                factor: float = TWN_FACTOR, dims=None) -> torch.Tensor:
    """Phase-in quantization: ``(1 - mix)·w + mix·ste(w, ternarize(w))``; ``mix`` scalar or tensor in [0, 1]."""
    q = ste(w, ternarize(w, mode, threshold=threshold, factor=factor, dims=dims))
    if isinstance(mix, (int, float)) and mix == 1:
        return q
    return (1 - mix) * w + mix * q


def scaled_ternary_ste(w: torch.Tensor, mode: str = "twn", *, mix=1.0, factor: float = TWN_FACTOR,
                       dims=None):
    """Scaled ternary weights with a straight-through gradient, phased in by ``mix``.

    Returns ``(w_q, q, alpha)``: ``q = ternarize(w, mode, dims=dims)`` in {-1, 0, 1}, ``alpha = twn_scale(w, q,
    dims)`` (one scale per slice over ``dims``, broadcastable against ``w``) and
    ``w_q = (1 - mix)·w + mix·ste(w, alpha·q)``. At ``mix = 1`` the forward value is exactly ``alpha·q``, so a
    layer using it computes with ternary weights whose scales can be folded elsewhere (``algodiscover.nn``
    folds them into the full-precision vector â).
    """
    q = ternarize(w, mode, factor=factor, dims=dims)
    with torch.no_grad():
        alpha = twn_scale(w, q, dims)
    wq = ste(w, alpha * q)
    if not (isinstance(mix, (int, float)) and mix == 1):
        wq = (1 - mix) * w + mix * wq
    return wq, q, alpha
