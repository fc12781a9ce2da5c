"""The experiments' teacher networks and the student built from a teacher (every conv, linear and LSTM layer
replaced by its SPN with a budget)."""

from __future__ import annotations

import copy
import math
import re

from torch import nn

from .layers import NNError, SPNConv2d, SPNLinear, SPNLSTM, from_dense


class DigitsTeacher(nn.Sequential):
    """conv 1→16 3×3, conv 16→32 3×3 (padding 1, ReLU), 2×2 max pooling, linear 512 → 10."""

    def __init__(self):
        super().__init__(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 10))


class CifarTeacher(nn.Sequential):
    """A small CNN for 32×32 colour images: conv 3→32, 32→32, pool, 32→64, 64→64, pool, linear 4096 → 10."""

    def __init__(self):
        super().__init__(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 8 * 8, 10))


class CharLM(nn.Module):
    """Character language model: embedding → one-layer LSTM → linear to the vocabulary."""

    def __init__(self, vocab_size: int, embed: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, idx):
        h, _ = self.lstm(self.embed(idx))
        return self.out(h)


ARCHITECTURES = {"digits": DigitsTeacher, "cifar10": CifarTeacher, "text": CharLM}


def parse_budget(text) -> tuple:
    """``'1.0x'`` / ``'0.5X'`` → ('factor', 1.0); ``'64'`` → ('fixed', 64)."""
    s = str(text).strip()
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)[xX]", s)
    if m:
        f = float(m.group(1))
        if not f > 0:
            raise NNError(f"--budget factor must be positive, got {text!r}")
        return ("factor", f)
    if re.fullmatch(r"\d+", s) and int(s) > 0:
        return ("fixed", int(s))
    raise NNError(f"--budget must be a positive integer R or a factor like 1.0x, got {text!r}")


def layer_outputs(layer) -> int:
    if isinstance(layer, nn.Conv2d):
        return layer.out_channels
    if isinstance(layer, nn.Linear):
        return layer.out_features
    if isinstance(layer, nn.LSTM):
        return 4 * layer.hidden_size
    raise NNError(f"no SPN for {type(layer).__name__}")


def budget_r(layer, budget) -> int:
    kind, v = parse_budget(budget) if not isinstance(budget, tuple) else budget
    r = max(1, math.ceil(v * layer_outputs(layer) - 1e-9)) if kind == "factor" else int(v)
    g = getattr(layer, "groups", 1)
    return -(-r // g) * g


def studentize(teacher: nn.Module, budget="1.0x", p: int = 1, seed: int = 0, ranks: dict | None = None):
    """A copy of ``teacher`` with every Conv2d, Linear and LSTM replaced by its SPN (``from_dense``).

    ``ranks`` (name → r, or (r_ih, r_hh) for an LSTM) overrides the budget per layer. Returns (student, ranks)."""
    student = copy.deepcopy(teacher)
    used = {}

    def swap(mod, prefix):
        for name, child in list(mod.named_children()):
            full = f"{prefix}{name}"
            if isinstance(child, (nn.Conv2d, nn.Linear, nn.LSTM)):
                r = ranks[full] if ranks and full in ranks else budget_r(child, budget)
                if isinstance(child, nn.LSTM) and isinstance(r, int):
                    r = (r, r)
                setattr(mod, name, from_dense(child, tuple(r) if isinstance(r, list) else r,
                                              p=p if isinstance(child, nn.Conv2d) else 1, seed=seed))
                used[full] = list(r) if isinstance(r, tuple) else r
            elif not isinstance(child, (SPNConv2d, SPNLinear, SPNLSTM)):
                swap(child, full + ".")
    swap(student, "")
    if not used:
        raise NNError("the teacher has no Conv2d, Linear or LSTM layer to replace")
    return student, used
