"""Deployment form of the SPN layers: W_b, W_c stored as int8 ternary, applied by gathering the inputs with
coefficient +1 and −1 and summing (additions and subtractions only); the only multiplications are the r
products with the folded â (â · scale of W_b row t · scale of W_c column t) per output position (patch).

Every deployed layer reports what it did to an :class:`OpCounter`: ``multiplications`` counts the entries
of the one elementwise product with â as it is executed; ``additions`` the terms summed (terms − 1 per
nonzero row); bias additions and the LSTM's elementwise gate products are kept apart, as in ``count``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# elements gathered at once (bounds the memory of a deployed conv on a large batch)
_CHUNK_ELEMENTS = 1 << 24


@dataclass
class OpCounter:
    multiplications: int = 0
    additions: int = 0
    bias_additions: int = 0
    elementwise: int = 0

    def reset(self):
        self.multiplications = self.additions = self.bias_additions = self.elementwise = 0


def _sign_indices(m: torch.Tensor, sentinel: int):
    """For a ternary int8 matrix (rows × cols): index matrices of the +1 and −1 entries of each row, padded
    with ``sentinel`` (the index of an appended zero), and the additions one evaluation costs."""
    rows = m.shape[0]
    out = []
    for val in (1, -1):
        mask = m == val
        width = max(int(mask.sum(1).max()) if rows else 0, 1)
        idx = torch.full((rows, width), sentinel, dtype=torch.long)
        for t in range(rows):
            nz = torch.nonzero(mask[t]).flatten()
            idx[t, :nz.numel()] = nz
        out.append(idx)
    nnz = (m != 0).sum(1)
    adds = int((nnz - 1).clamp_min(0).sum())
    return out[0], out[1], adds


def _signed_sum(x: torch.Tensor, plus: torch.Tensor, minus: torch.Tensor, dim: int) -> torch.Tensor:
    """Σ x[plus] − Σ x[minus] along ``dim`` of ``x`` (which carries a zero at index ``sentinel`` = size − 1)."""
    def gather(idx):
        g = x.index_select(dim, idx.reshape(-1))
        shape = list(x.shape)
        shape[dim:dim + 1] = list(idx.shape)
        return g.reshape(shape).sum(dim + 1)
    return gather(plus) - gather(minus)


class _Deployed(nn.Module):
    def __init__(self):
        super().__init__()
        self.counter = OpCounter()

    def _mul_a(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        out = s * a
        self.counter.multiplications += out.numel()
        return out


class DeployedSPNLinear(_Deployed):
    """y = W_c (â ⊙ (W_b x)) + bias with int8 W_b, W_c and additions only outside the r products."""

    @classmethod
    def from_layer(cls, layer) -> "DeployedSPNLinear":
        self = cls()
        qb, _, qc, _ = layer.ternary()
        self.in_features, self.out_features, self.r = layer.in_features, layer.out_features, layer.r
        self.register_buffer("w_b", qb.to(torch.int8))
        self.register_buffer("w_c", qc.to(torch.int8))
        self.register_buffer("a_hat", layer.folded_a_hat())
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().clone())
        self.bp, self.bm, self.adds_b = _sign_indices(self.w_b, layer.in_features)
        self.cp, self.cm, self.adds_c = _sign_indices(self.w_c, layer.r)
        return self

    @torch.no_grad()
    def forward(self, x):
        lead = x.shape[:-1]
        x = x.reshape(-1, self.in_features)
        n = x.shape[0]
        xz = torch.cat([x, x.new_zeros(n, 1)], 1)
        s = _signed_sum(xz, self.bp, self.bm, 1)                        # (n, r)
        h = self._mul_a(s, self.a_hat)
        hz = torch.cat([h, h.new_zeros(n, 1)], 1)
        y = _signed_sum(hz, self.cp, self.cm, 1)                        # (n, out)
        self.counter.additions += n * (self.adds_b + self.adds_c)
        if self.bias is not None:
            y = y + self.bias
            self.counter.bias_additions += y.numel()
        return y.reshape(*lead, self.out_features)


class DeployedSPNConv2d(_Deployed):
    """The SPN convolution with int8 W_b, W_c: an unfolded input window per patch, signed gathers, r products."""

    @classmethod
    def from_layer(cls, layer) -> "DeployedSPNConv2d":
        self = cls()
        self.layer_cfg = dict(in_channels=layer.in_channels, out_channels=layer.out_channels,
                              kernel_size=layer.kernel_size, r=layer.r, p=layer.p, stride=layer.stride,
                              padding=layer.padding, groups=layer.groups)
        qb, _, qc, _ = layer.ternary()
        g, r, co, ci, p, K = layer.groups, layer.r, layer.out_channels, layer.in_channels, layer.p, layer.K
        rg, og, cig = r // g, co // g, ci // g
        full_b = torch.zeros(r, ci, K, K, dtype=torch.int8)       # block-diagonal over groups
        full_c = torch.zeros(co, p, p, r, dtype=torch.int8)       # output (o, u, v) as a sum of hidden units
        for gi in range(g):
            full_b[gi * rg:(gi + 1) * rg, gi * cig:(gi + 1) * cig] = qb[gi * rg:(gi + 1) * rg].to(torch.int8)
            blk = qc[gi * rg:(gi + 1) * rg].to(torch.int8)           # (rg, og, p, p)
            full_c[gi * og:(gi + 1) * og, :, :, gi * rg:(gi + 1) * rg] = blk.permute(1, 2, 3, 0)
        self.register_buffer("w_b", full_b.reshape(r, -1))
        self.register_buffer("w_c", full_c.reshape(co * p * p, r))
        self.register_buffer("a_hat", layer.folded_a_hat())
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().clone())
        self.bp, self.bm, self.adds_b = _sign_indices(self.w_b, ci * K * K)
        self.cp, self.cm, self.adds_c = _sign_indices(self.w_c, r)
        return self

    @torch.no_grad()
    def forward(self, x):
        from .layers import pad_for_patches
        cfg = self.layer_cfg
        xp, ho, wo = pad_for_patches(x, cfg["kernel_size"], cfg["p"], cfg["stride"], cfg["padding"])
        p, ps = cfg["p"], cfg["p"] * cfg["stride"]
        K = (p - 1) * cfg["stride"] + cfg["kernel_size"]
        cols = F.unfold(xp, K, stride=ps)                                  # (n, ci*K*K, L)
        n, _, L = cols.shape
        nh = (xp.shape[-2] - K) // ps + 1
        nw = (xp.shape[-1] - K) // ps + 1
        per = max(1, _CHUNK_ELEMENTS // max(1, L * cfg["r"] * max(self.bp.shape[1], self.cp.shape[1])))
        outs = []
        for i in range(0, n, per):
            c = cols[i:i + per]
            cz = torch.cat([c, c.new_zeros(c.shape[0], 1, L)], 1)
            s = _signed_sum(cz, self.bp, self.bm, 1)                      # (b, r, L)
            h = self._mul_a(s, self.a_hat[:, None])
            hz = torch.cat([h, h.new_zeros(h.shape[0], 1, L)], 1)
            outs.append(_signed_sum(hz, self.cp, self.cm, 1))             # (b, co*p*p, L)
        y = torch.cat(outs, 0)
        self.counter.additions += n * L * (self.adds_b + self.adds_c)
        co = cfg["out_channels"]
        y = y.reshape(n, co, p, p, nh, nw).permute(0, 1, 4, 2, 5, 3).reshape(n, co, nh * p, nw * p)
        y = y[..., :ho, :wo]
        if self.bias is not None:
            y = y + self.bias[:, None, None]
            self.counter.bias_additions += y.numel()
        return y


class DeployedSPNLSTM(_Deployed):
    @classmethod
    def from_layer(cls, layer) -> "DeployedSPNLSTM":
        self = cls()
        self.hidden_size = layer.hidden_size
        self.ih = DeployedSPNLinear.from_layer(layer.ih)
        self.hh = DeployedSPNLinear.from_layer(layer.hh)
        self.ih.counter = self.hh.counter = self.counter
        return self

    def _share(self, counter):
        self.counter = self.ih.counter = self.hh.counter = counter

    @torch.no_grad()
    def forward(self, x, state=None):
        n, t, _ = x.shape
        hsz = self.hidden_size
        if state is None:
            h, c = x.new_zeros(n, hsz), x.new_zeros(n, hsz)
        else:
            h, c = (s.reshape(n, hsz) for s in state)
        xi = self.ih(x)
        outs = []
        for step in range(t):
            gates = xi[:, step] + self.hh(h)
            self.counter.additions += gates.numel()          # adding the two products
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            self.counter.elementwise += 3 * h.numel()         # f⊙c, i⊙g, o⊙tanh(c)
            outs.append(h)
        return torch.stack(outs, 1), (h[None], c[None])


def deploy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every SPN layer in deployment form, all sharing one :class:`OpCounter`
    (``model.op_counter``). Dense layers left in the model are not counted by it."""
    from .layers import SPNConv2d, SPNLinear, SPNLSTM
    model = copy.deepcopy(model).eval()
    counter = OpCounter()

    def swap(mod):
        for name, child in list(mod.named_children()):
            if isinstance(child, (SPNLinear, SPNConv2d, SPNLSTM)):
                d = child.deploy()
                if isinstance(d, DeployedSPNLSTM):
                    d._share(counter)
                else:
                    d.counter = counter
                setattr(mod, name, d)
            else:
                swap(child)
    swap(model)
    model.op_counter = counter
    return model
