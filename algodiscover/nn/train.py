"""Knowledge distillation and the staged schedule of StrassenNets as a reusable trainer.

The paper's schedule: (1) train the SPN with full-precision W_b, W_c; (2) quantize W_b, W_c to ternary with the
straight-through estimator and keep training (the quantization may be phased in); (3) fix the ternary
W_b, W_c and fine-tune the full-precision â (and biases).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .layers import NNError, freeze_ternary, set_quant_mix


def distillation_loss(student_logits, targets, teacher_logits=None, *, lam: float = 0.5,
                      temperature: float = 4.0):
    """(1 − λ)·CE(student, y) + λ·T²·KL(softmax(teacher/T) ‖ softmax(student/T)).

    Logits of shape (N, C) or (N, ..., C) (flattened over the leading dimensions); ``teacher_logits=None`` or
    ``lam = 0`` gives the plain cross-entropy."""
    if not 0.0 <= lam <= 1.0:
        raise NNError(f"lambda must lie in [0, 1], got {lam}")
    if not temperature > 0:
        raise NNError(f"temperature must be positive, got {temperature}")
    c = student_logits.shape[-1]
    s = student_logits.reshape(-1, c)
    ce = F.cross_entropy(s, targets.reshape(-1))
    if teacher_logits is None or lam == 0:
        return ce
    t = teacher_logits.detach().reshape(-1, c)
    T = float(temperature)
    kl = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True, reduction="batchmean")
    return (1 - lam) * ce + lam * T * T * kl


@dataclass
class Stage:
    """One stage: ``epochs`` at learning rate ``lr`` (cosine-decayed within the stage); ``quant_mix`` 0 = full
    precision, 1 = ternary; ``ramp`` epochs phase the quantization in linearly from 0 to ``quant_mix``;
    ``freeze_ternary`` keeps W_b, W_c fixed (train â and biases only)."""
    name: str
    epochs: int
    lr: float
    quant_mix: float = 0.0
    ramp: int = 0
    freeze_ternary: bool = False
    weight_decay: float = 0.0


def paper_schedule(epochs=(20, 30, 10), lr=(3e-3, 2e-3, 1e-3), ramp: int = 5):
    """Full-precision SPN → ternary (phased in over ``ramp`` epochs) → fine-tune â."""
    return [Stage("full-precision", epochs[0], lr[0], 0.0),
            Stage("ternary", epochs[1], lr[1], 1.0, ramp=ramp),
            Stage("fine-tune-a", epochs[2], lr[2], 1.0, freeze_ternary=True)]


@dataclass
class History:
    rows: list = field(default_factory=list)

    def add(self, **row):
        self.rows.append(row)


def train_staged(model: nn.Module, batches, loss_fn, stages, *, evaluate=None, seed: int = 0,
                 on_epoch=None, clip: float = 5.0) -> History:
    """Train ``model`` through ``stages``.

    ``batches(epoch_generator)`` yields ``(inputs, targets)`` for one epoch; ``loss_fn(model, inputs, targets)``
    returns the scalar loss; ``evaluate(model)`` (optional) returns a dict of metrics recorded after each
    epoch. Returns the per-epoch :class:`History` (stage, epoch, loss, seconds, metrics)."""
    hist = History()
    gen = torch.Generator().manual_seed(seed)
    epoch_no = 0
    t0 = time.perf_counter()
    for st in stages:
        freeze_ternary(model, st.freeze_ternary)
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise NNError(f"stage {st.name!r} has nothing to train")
        opt = torch.optim.Adam(params, lr=st.lr, weight_decay=st.weight_decay)
        total = max(st.epochs, 1)
        for e in range(st.epochs):
            mix = st.quant_mix * min(1.0, (e + 1) / st.ramp) if st.ramp else st.quant_mix
            set_quant_mix(model, mix)
            for g in opt.param_groups:
                g["lr"] = st.lr * 0.5 * (1 + math.cos(math.pi * e / total))
            model.train()
            tot, n = 0.0, 0
            for xb, yb in batches(gen):
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model, xb, yb)
                if not torch.isfinite(loss):
                    raise NNError(f"training diverged in stage {st.name!r} (loss {float(loss)})")
                loss.backward()
                if clip:
                    torch.nn.utils.clip_grad_norm_(params, clip)
                opt.step()
                tot += float(loss.detach()) * len(xb)
                n += len(xb)
            row = dict(stage=st.name, epoch=epoch_no, quant_mix=mix, loss=tot / max(n, 1),
                       seconds=round(time.perf_counter() - t0, 3))
            if evaluate is not None:
                model.eval()
                with torch.no_grad():
                    row.update(evaluate(model))
            hist.add(**row)
            if on_epoch is not None:
                on_epoch(row)
            epoch_no += 1
    freeze_ternary(model, False)
    return hist


def schedule_dict(stages):
    return [asdict(s) for s in stages]
