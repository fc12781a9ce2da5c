"""Multiplication accounting for one example at inference.

Rules (StrassenNets' accounting):
- a dense ``nn.Linear`` / ``nn.Conv2d``: every weight entry used at every output position is one
  multiplication (zero padding included, the usual MAC count); sums of the products are additions;
- an SPN layer (deployment form): the r products with â per output position (per p×p patch for
  ``SPNConv2d``) are its multiplications; its additions are the terms summed by the ternary W_b and W_c
  (nnz − 1 per nonzero row, from the current ternary values); the TWN scale factors are folded into â;
- ``nn.LSTM`` / ``SPNLSTM``: the products W_ih·x and W_hh·h per step as above, plus one addition per gate
  to add the two; the gate products f⊙c, i⊙g, o⊙tanh(c) are reported apart (``elementwise``), for teacher
  and student alike;
- BatchNorm after a dense layer is folded into that layer's weights (free); after an SPN layer it is a
  per-channel scale that ternary W_c cannot absorb, so it is counted as multiplications of its own entry;
- bias additions, pooling, activations and softmax are reported separately and are not multiplications.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .layers import NNError, SPNConv2d, SPNLinear, SPNLSTM

SEPARATE = ("bias", "pooling", "activation", "softmax", "elementwise")


@dataclass
class LayerCount:
    name: str
    kind: str
    multiplications: int = 0
    additions: int = 0
    separate: dict = field(default_factory=lambda: {k: 0 for k in SEPARATE})
    note: str = ""

    def as_dict(self):
        d = {"name": self.name, "kind": self.kind, "multiplications": self.multiplications,
             "additions": self.additions, **self.separate}
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class Counts:
    layers: list
    input_shape: tuple

    @property
    def multiplications(self) -> int:
        return sum(c.multiplications for c in self.layers)

    @property
    def additions(self) -> int:
        return sum(c.additions for c in self.layers)

    @property
    def separate(self) -> dict:
        return {k: sum(c.separate[k] for c in self.layers) for k in SEPARATE}

    def __getitem__(self, name) -> LayerCount:
        for c in self.layers:
            if c.name == name:
                return c
        raise KeyError(name)

    def as_dict(self):
        return {"input_shape": list(self.input_shape), "multiplications": self.multiplications,
                "additions": self.additions, "separate": self.separate,
                "layers": [c.as_dict() for c in self.layers]}

    def table(self) -> str:
        rows = [f"{'layer':<16} {'kind':<12} {'mults':>10} {'adds':>10}"]
        for c in self.layers:
            if c.multiplications or c.additions:
                rows.append(f"{c.name:<16} {c.kind:<12} {c.multiplications:>10} {c.additions:>10}")
        rows.append(f"{'total':<16} {'':<12} {self.multiplications:>10} {self.additions:>10}")
        return "\n".join(rows)


def _row_adds(m: torch.Tensor) -> int:
    """Σ over rows of max(nnz − 1, 0) for a (rows × cols) matrix."""
    return int(((m != 0).sum(1) - 1).clamp_min(0).sum())


def spn_linear_terms(layer: SPNLinear):
    qb, _, qc, _ = layer.ternary()
    return _row_adds(qb) + _row_adds(qc)


def spn_conv_terms(layer: SPNConv2d):
    qb, _, qc, _ = layer.ternary()
    # W_b: one sum per hidden unit; W_c: output (o, u, v) of group gi sums over that group's hidden units
    adds = _row_adds(qb.reshape(layer.r, -1))
    g, rg = layer.groups, layer.r // layer.groups
    for gi in range(g):
        blk = qc[gi * rg:(gi + 1) * rg].reshape(rg, -1).t()                # (og*p*p, rg)
        adds += _row_adds(blk)
    return adds


def count(model: nn.Module, input_shape) -> Counts:
    """Counts of ``model`` on one example of shape ``input_shape`` (without the batch dimension; token
    indices for a model starting with ``nn.Embedding``: shape (T,))."""
    input_shape = tuple(int(s) for s in input_shape)
    entries: dict[str, LayerCount] = {}
    order: list[str] = []
    names = {m: n or type(m).__name__ for n, m in model.named_modules()}
    last = {"kind": None}
    hooks = []

    def entry(mod, kind):
        name = names[mod]
        if name not in entries:
            entries[name] = LayerCount(name, kind)
            order.append(name)
        return entries[name]

    def hook(mod, inputs, output):
        x = inputs[0] if inputs else None
        out = output[0] if isinstance(output, tuple) else output
        if isinstance(mod, SPNLinear):
            e = entry(mod, "SPNLinear")
            pos = x.numel() // mod.in_features
            e.multiplications += pos * mod.r
            e.additions += pos * spn_linear_terms(mod)
            if mod.bias is not None:
                e.separate["bias"] += pos * mod.out_features
            last["kind"] = "spn"
        elif isinstance(mod, SPNConv2d):
            e = entry(mod, "SPNConv2d")
            _, _, nh, nw = mod.out_size(*x.shape[-2:])
            e.multiplications += nh * nw * mod.r
            e.additions += nh * nw * spn_conv_terms(mod)
            if mod.bias is not None:
                e.separate["bias"] += out.numel()
            last["kind"] = "spn"
        elif isinstance(mod, SPNLSTM):
            e = entry(mod, "SPNLSTM")
            t, hsz = x.shape[1], mod.hidden_size
            # W_ih x is counted by the hook of mod.ih (one call for all steps); W_hh h is applied inside the
            # step loop from the quantized weights: r_hh products and its W_b, W_c sums per step
            e.multiplications += t * mod.hh.r
            e.additions += t * spn_linear_terms(mod.hh)
            e.additions += t * 4 * hsz                       # W_ih x + W_hh h
            e.separate["elementwise"] += t * 3 * hsz
            e.separate["activation"] += t * 5 * hsz
            last["kind"] = "spn"
        elif isinstance(mod, nn.Linear):
            e = entry(mod, "Linear")
            pos = x.numel() // mod.in_features
            e.multiplications += pos * mod.out_features * mod.in_features
            e.additions += pos * mod.out_features * (mod.in_features - 1)
            if mod.bias is not None:
                e.separate["bias"] += pos * mod.out_features
            last["kind"] = "dense"
        elif isinstance(mod, nn.Conv2d):
            e = entry(mod, "Conv2d")
            per = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            e.multiplications += out.numel() * per
            e.additions += out.numel() * (per - 1)
            if mod.bias is not None:
                e.separate["bias"] += out.numel()
            last["kind"] = "dense"
        elif isinstance(mod, nn.LSTM):
            if mod.num_layers != 1 or mod.bidirectional or mod.proj_size:
                raise NNError("count supports one-layer unidirectional LSTMs without projection")
            e = entry(mod, "LSTM")
            t = x.shape[1] if mod.batch_first else x.shape[0]
            hsz, isz = mod.hidden_size, mod.input_size
            e.multiplications += t * 4 * hsz * (isz + hsz)
            e.additions += t * 4 * hsz * ((isz - 1) + (hsz - 1) + 1)
            if mod.bias:
                e.separate["bias"] += t * 4 * hsz                # b_ih + b_hh folded into one
            e.separate["elementwise"] += t * 3 * hsz
            e.separate["activation"] += t * 5 * hsz
            last["kind"] = "dense"
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            e = entry(mod, type(mod).__name__)
            if last["kind"] == "spn":
                e.multiplications += out.numel()
                e.note = "after an SPN layer: a per-channel scale ternary W_c cannot absorb"
            else:
                e.note = "folded into the preceding dense layer"
            e.separate["bias"] += out.numel()
        elif isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
                              nn.MaxPool1d, nn.AvgPool1d)):
            e = entry(mod, type(mod).__name__)
            e.separate["pooling"] += x.numel()
        elif isinstance(mod, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.ELU, nn.SiLU)):
            e = entry(mod, type(mod).__name__)
            e.separate["activation"] += out.numel()
        elif isinstance(mod, (nn.Softmax, nn.LogSoftmax)):
            e = entry(mod, type(mod).__name__)
            e.separate["softmax"] += out.numel()

    counted = (SPNLinear, SPNConv2d, SPNLSTM, nn.Linear, nn.Conv2d, nn.LSTM, nn.BatchNorm1d, nn.BatchNorm2d,
               nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.MaxPool1d, nn.AvgPool1d,
               nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.ELU, nn.SiLU, nn.Softmax, nn.LogSoftmax)
    for m in model.modules():
        if isinstance(m, counted):
            hooks.append(m.register_forward_hook(hook))
    first = next((m for m in model.modules() if not list(m.children())), None)
    if isinstance(first, nn.Embedding):
        x = torch.zeros((1,) + input_shape, dtype=torch.long)
    else:
        x = torch.zeros((1,) + input_shape)
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was)
        for h in hooks:
            h.remove()
    return Counts([entries[n] for n in order], input_shape)
