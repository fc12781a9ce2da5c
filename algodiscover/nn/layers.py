"""SPN layers (StrassenNets, Tschannen et al. 2018): matrix products inside network layers as 2-layer
sum-product networks with a budget of ``r`` multiplications.

For a product ``W x`` (W fixed after training, x the layer input) the SPN is
``y = W_c (â ⊙ (W_b x))`` with ternary ``W_b`` (r × in) and ``W_c`` (out × r) and the full-precision
vector ``â = W_a vec(W)`` (r), learned directly. At inference only the r products with â are
multiplications; ``W_b`` and ``W_c`` apply with additions and subtractions (see :mod:`.deploy`).

Quantization (``quant_mix``): 0 = full-precision SPN, 1 = ternary with TWN thresholds
(0.7·mean|w| per hidden unit) and TWN scales, through the straight-through estimator of
:mod:`algodiscover.quant`. The scale of row t of W_b and of column t of W_c multiply only hidden unit t,
so both fold into â_t at deployment. Values in between phase quantization in.

``SPNConv2d`` over p×p output patches (the paper's construction): a convolution with ``r`` output
channels, kernel ``(p-1)·stride + k`` and stride ``p·stride`` (W_b: one set of r sums per output patch),
the per-channel scale â, then a transposed convolution with kernel and stride p (W_c) that writes the
c_out·p² outputs of the patch. With p = 1 W_c is a 1×1 convolution.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AlgoDiscoverError
from ..quant import TWN_FACTOR, scaled_ternary_ste


class NNError(AlgoDiscoverError, ValueError):
    """Bad input to ``algodiscover.nn`` (a layer argument, a data directory, a saved model)."""


def _pos_int(name, v, minimum=1):
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise NNError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return v


def conv_out_size(h, w, kernel_size, p, stride, padding):
    """(H_out, W_out) of the dense convolution and the grid (nh, nw) of p×p output patches."""
    ho = (h + 2 * padding - kernel_size) // stride + 1
    wo = (w + 2 * padding - kernel_size) // stride + 1
    if ho < 1 or wo < 1:
        raise NNError(f"input {h}x{w} is smaller than the kernel {kernel_size} with padding {padding}")
    return ho, wo, -(-ho // p), -(-wo // p)


def pad_for_patches(x, kernel_size, p, stride, padding):
    """Zero-pad top/left by ``padding`` and bottom/right so that the patch grid covers every output;
    returns (padded input, H_out, W_out)."""
    h, w = x.shape[-2:]
    ho, wo, nh, nw = conv_out_size(h, w, kernel_size, p, stride, padding)
    K, ps = (p - 1) * stride + kernel_size, p * stride
    need_h, need_w = (nh - 1) * ps + K, (nw - 1) * ps + K
    pb, pr = need_h - h - padding, need_w - w - padding
    x = F.pad(x, (padding, max(pr, 0), padding, max(pb, 0)))
    if pb < 0 or pr < 0:
        x = x[..., :x.shape[-2] + min(pb, 0), :x.shape[-1] + min(pr, 0)]
    return x, ho, wo


class _SPNBase(nn.Module):
    """Shared quantization state: ``quant_mix`` in [0, 1] and the quantizer mode."""

    def _init_quant(self, quant_mode: str, twn_factor: float):
        if quant_mode not in ("twn", "round"):
            raise NNError(f"quant_mode must be 'twn' or 'round', got {quant_mode!r}")
        self.quant_mode = quant_mode
        self.twn_factor = float(twn_factor)
        self.register_buffer("quant_mix", torch.tensor(0.0))

    def set_quant_mix(self, mix: float) -> None:
        if not 0.0 <= float(mix) <= 1.0:
            raise NNError(f"quant_mix must lie in [0, 1], got {mix!r}")
        self.quant_mix.fill_(float(mix))

    def _q(self, w, dims):
        mix = float(self.quant_mix)
        if mix == 0.0:
            return w, None, None
        return scaled_ternary_ste(w, self.quant_mode, mix=mix, factor=self.twn_factor, dims=dims)

    def ternary(self):
        """(q_b, alpha_b, q_c, alpha_c): the ternary matrices and their per-hidden-unit scales (no gradient)."""
        with torch.no_grad():
            _, qb, ab = scaled_ternary_ste(self.weight_b, self.quant_mode, factor=self.twn_factor, dims=self._dims_b)
            _, qc, ac = scaled_ternary_ste(self.weight_c, self.quant_mode, factor=self.twn_factor, dims=self._dims_c)
        return qb, ab, qc, ac

    def folded_a_hat(self) -> torch.Tensor:
        """â with the ternary scales of W_b (row t) and W_c (column t) folded in: shape (r,)."""
        _, ab, _, ac = self.ternary()
        return (self.a_hat.detach() * ab.reshape(-1) * ac.reshape(-1)).clone()

    def freeze_ternary(self, frozen: bool = True) -> None:
        """Stage 3 of the schedule: keep W_b, W_c fixed (their ternary values no longer change)."""
        self.weight_b.requires_grad_(not frozen)
        self.weight_c.requires_grad_(not frozen)


class SPNLinear(_SPNBase):
    """``y = W_c (â ⊙ (W_b x)) + bias`` with W_b (r × in), W_c (out × r) ternary and â (r) full precision."""

    _dims_b = (1,)
    _dims_c = (0,)

    def __init__(self, in_features: int, out_features: int, r: int, bias: bool = True, *,
                 quant_mode: str = "twn", twn_factor: float = TWN_FACTOR):
        super().__init__()
        self.in_features = _pos_int("in_features", in_features)
        self.out_features = _pos_int("out_features", out_features)
        self.r = _pos_int("r", r)
        self.weight_b = nn.Parameter(torch.randn(r, in_features) / math.sqrt(in_features))
        self.weight_c = nn.Parameter(torch.randn(out_features, r) / math.sqrt(r))
        self.a_hat = nn.Parameter(torch.ones(r))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self._init_quant(quant_mode, twn_factor)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, "
                f"bias={self.bias is not None}, quant_mix={float(self.quant_mix):g}")

    def weights(self):
        wb, _, _ = self._q(self.weight_b, self._dims_b)
        wc, _, _ = self._q(self.weight_c, self._dims_c)
        return wb, wc

    def forward(self, x):
        wb, wc = self.weights()
        h = F.linear(x, wb) * self.a_hat
        return F.linear(h, wc, self.bias)

    def effective_weight(self) -> torch.Tensor:
        """The dense (out × in) matrix this SPN computes: W_c diag(â) W_b (with the current quantization)."""
        wb, wc = self.weights()
        return wc @ (self.a_hat[:, None] * wb)

    def deploy(self):
        from .deploy import DeployedSPNLinear
        return DeployedSPNLinear.from_layer(self)


class SPNConv2d(_SPNBase):
    """The SPN convolution over p×p output patches (see the module docstring).

    Weights: ``weight_b`` (r, c_in/groups, K, K) with K = (p-1)·stride + k; ``weight_c`` (r, c_out/groups, p, p),
    the weight of ``conv_transpose2d`` with kernel and stride p; ``a_hat`` (r,). For each output patch the layer
    computes r sums of inputs (W_b), r products with â, and c_out·p² sums of those (W_c).
    """

    _dims_b = (1, 2, 3)
    _dims_c = (1, 2, 3)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, r: int, p: int = 1,
                 stride: int = 1, padding: int = 0, groups: int = 1, bias: bool = True, *,
                 quant_mode: str = "twn", twn_factor: float = TWN_FACTOR):
        super().__init__()
        self.in_channels = _pos_int("in_channels", in_channels)
        self.out_channels = _pos_int("out_channels", out_channels)
        self.kernel_size = _pos_int("kernel_size", kernel_size)
        self.r = _pos_int("r", r)
        self.p = _pos_int("p", p)
        self.stride = _pos_int("stride", stride)
        self.padding = _pos_int("padding", padding, 0)
        self.groups = _pos_int("groups", groups)
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels), ("r", r)):
            if n % groups:
                raise NNError(f"{name} = {n} must be divisible by groups = {groups}")
        self.K = (p - 1) * stride + kernel_size
        fan_in = in_channels // groups * self.K ** 2
        self.weight_b = nn.Parameter(torch.randn(r, in_channels // groups, self.K, self.K) / math.sqrt(fan_in))
        self.weight_c = nn.Parameter(torch.randn(r, out_channels // groups, p, p) / math.sqrt(r // groups))
        self.a_hat = nn.Parameter(torch.ones(r))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self._init_quant(quant_mode, twn_factor)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, r={self.r}, p={self.p}, "
                f"stride={self.stride}, padding={self.padding}, groups={self.groups}, "
                f"quant_mix={float(self.quant_mix):g}")

    def out_size(self, h: int, w: int):
        """Output (H_out, W_out) of the dense convolution this layer replaces and the patch grid (nh, nw)."""
        return conv_out_size(h, w, self.kernel_size, self.p, self.stride, self.padding)

    def _pad_input(self, x):
        return pad_for_patches(x, self.kernel_size, self.p, self.stride, self.padding)

    def weights(self):
        wb, _, _ = self._q(self.weight_b, self._dims_b)
        wc, _, _ = self._q(self.weight_c, self._dims_c)
        return wb, wc

    def forward(self, x):
        wb, wc = self.weights()
        xp, ho, wo = self._pad_input(x)
        z = F.conv2d(xp, wb, stride=self.p * self.stride, groups=self.groups)
        z = z * self.a_hat[:, None, None]
        y = F.conv_transpose2d(z, wc, stride=self.p, groups=self.groups)[..., :ho, :wo]
        if self.bias is not None:
            y = y + self.bias[:, None, None]
        return y

    def effective_weight(self) -> torch.Tensor:
        """E (c_out, p, p, c_in/groups, K, K): output (o, u, v) of a patch = Σ E[o,u,v] · input window.

        For p = 1 this is the dense conv weight ``E[:, 0, 0]`` (c_out, c_in/groups, k, k)."""
        wb, wc = self.weights()
        g, rg, og = self.groups, self.r // self.groups, self.out_channels // self.groups
        wb = (self.a_hat[:, None, None, None] * wb).reshape(g, rg, -1)              # (g, rg, cig*K*K)
        wc = wc.reshape(g, rg, og * self.p * self.p)                                 # (g, rg, og*p*p)
        e = torch.einsum("gtc,gti->gci", wc, wb)                                     # (g, og*p*p, cig*K*K)
        return e.reshape(self.out_channels, self.p, self.p, self.in_channels // g, self.K, self.K)

    def deploy(self):
        from .deploy import DeployedSPNConv2d
        return DeployedSPNConv2d.from_layer(self)


class SPNLSTM(nn.Module):
    """One-layer LSTM (batch_first) whose products W_ih·x and W_hh·h are SPNs (gate order i, f, g, o as torch)."""

    def __init__(self, input_size: int, hidden_size: int, r_ih: int, r_hh: int, *,
                 quant_mode: str = "twn", twn_factor: float = TWN_FACTOR):
        super().__init__()
        self.input_size = _pos_int("input_size", input_size)
        self.hidden_size = _pos_int("hidden_size", hidden_size)
        self.ih = SPNLinear(input_size, 4 * hidden_size, r_ih, bias=True, quant_mode=quant_mode, twn_factor=twn_factor)
        self.hh = SPNLinear(hidden_size, 4 * hidden_size, r_hh, bias=False, quant_mode=quant_mode,
                            twn_factor=twn_factor)

    def forward(self, x, state=None):
        n, t, _ = x.shape
        hsz = self.hidden_size
        if state is None:
            h = x.new_zeros(n, hsz)
            c = x.new_zeros(n, hsz)
        else:
            h, c = (s.reshape(n, hsz) for s in state)
        xi = self.ih(x)                                        # all input products at once
        wb, wc = self.hh.weights()                             # quantized once per sequence, not per step
        a = self.hh.a_hat
        outs = []
        for step in range(t):
            gates = xi[:, step] + F.linear(F.linear(h, wb) * a, wc)
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, 1), (h[None], c[None])

    def deploy(self):
        from .deploy import DeployedSPNLSTM
        return DeployedSPNLSTM.from_layer(self)


SPN_LAYERS = (SPNLinear, SPNConv2d)


# ----------------------------------------------------------------------------------------------- from_dense

def _svd_factors(m: torch.Tensor, r: int, gen=None):
    """m (out × in) ≈ U diag(s) V with r components; components past the rank get small random vectors."""
    u, s, vh = torch.linalg.svd(m.detach().double(), full_matrices=False)
    k = min(r, s.numel())
    U = torch.zeros(m.shape[0], r, dtype=torch.float64)
    V = torch.zeros(r, m.shape[1], dtype=torch.float64)
    a = torch.zeros(r, dtype=torch.float64)
    U[:, :k], V[:k], a[:k] = u[:, :k], vh[:k], s[:k]
    if r > k:  # extra hidden units: random directions with â = 0 (the start equals the truncated SVD; the
        # gradient of â_t is not zero, so training can use them)
        U[:, k:] = torch.randn(m.shape[0], r - k, generator=gen, dtype=torch.float64) / math.sqrt(m.shape[0])
        V[k:] = torch.randn(r - k, m.shape[1], generator=gen, dtype=torch.float64) / math.sqrt(m.shape[1])
    return U.float(), a.float(), V.float()


def patch_matrix(weight: torch.Tensor, p: int, stride: int = 1) -> torch.Tensor:
    """The dense conv weight (c_out, c_in, k, k) as the patch map E (c_out, p, p, c_in, K, K):
    E[o, u, v, c, i, j] = weight[o, c, i - u·stride, j - v·stride] (zero outside the kernel)."""
    co, ci, k, _ = weight.shape
    K = (p - 1) * stride + k
    e = weight.new_zeros(co, p, p, ci, K, K)
    for u in range(p):
        for v in range(p):
            e[:, u, v, :, u * stride:u * stride + k, v * stride:v * stride + k] = weight
    return e


def from_dense(layer: nn.Module, r, *, p: int = 1, seed: int = 0, **kw) -> nn.Module:
    """An SPN layer initialised from a trained dense ``nn.Linear``, ``nn.Conv2d`` or ``nn.LSTM``.

    ``r``: hidden units (an int; for an LSTM a pair ``(r_ih, r_hh)`` or one int for both). The full-precision
    SPN starts at the best rank-r approximation (truncated SVD) of the layer's matrix (the patch map for
    p > 1): exact when r reaches its rank. Quantization starts off (``quant_mix = 0``).
    """
    gen = torch.Generator().manual_seed(seed)
    if isinstance(layer, nn.Linear):
        spn = SPNLinear(layer.in_features, layer.out_features, int(r), bias=layer.bias is not None, **kw)
        U, a, V = _svd_factors(layer.weight, spn.r, gen)
        with torch.no_grad():
            spn.weight_b.copy_(V)
            spn.weight_c.copy_(U)
            spn.a_hat.copy_(a)
            if layer.bias is not None:
                spn.bias.copy_(layer.bias)
        return spn
    if isinstance(layer, nn.Conv2d):
        k = layer.kernel_size
        if k[0] != k[1] or layer.stride[0] != layer.stride[1] or layer.padding[0] != layer.padding[1] \
                or tuple(layer.dilation) != (1, 1) or isinstance(layer.padding, str):
            raise NNError(f"from_dense supports square kernels, equal strides/paddings and no dilation, got {layer}")
        spn = SPNConv2d(layer.in_channels, layer.out_channels, k[0], int(r), p=p, stride=layer.stride[0],
                        padding=layer.padding[0], groups=layer.groups, bias=layer.bias is not None, **kw)
        g = layer.groups
        rg, og = spn.r // g, layer.out_channels // g
        e = patch_matrix(layer.weight.detach(), p, layer.stride[0])            # (co, p, p, cig, K, K)
        wb = torch.zeros_like(spn.weight_b)
        wc = torch.zeros_like(spn.weight_c)
        a = torch.zeros(spn.r)
        for gi in range(g):
            m = e[gi * og:(gi + 1) * og].reshape(og * p * p, -1)
            U, ag, V = _svd_factors(m, rg, gen)
            wb[gi * rg:(gi + 1) * rg] = V.reshape(rg, *spn.weight_b.shape[1:])
            wc[gi * rg:(gi + 1) * rg] = U.t().reshape(rg, og, p, p)
            a[gi * rg:(gi + 1) * rg] = ag
        with torch.no_grad():
            spn.weight_b.copy_(wb)
            spn.weight_c.copy_(wc)
            spn.a_hat.copy_(a)
            if layer.bias is not None:
                spn.bias.copy_(layer.bias)
        return spn
    if isinstance(layer, nn.LSTM):
        if layer.num_layers != 1 or layer.bidirectional or not layer.batch_first or layer.proj_size:
            raise NNError("from_dense supports one-layer, unidirectional, batch_first LSTMs without projection")
        r_ih, r_hh = (r, r) if isinstance(r, int) else r
        spn = SPNLSTM(layer.input_size, layer.hidden_size, int(r_ih), int(r_hh), **kw)
        dense_ih = nn.Linear(layer.input_size, 4 * layer.hidden_size)
        dense_hh = nn.Linear(layer.hidden_size, 4 * layer.hidden_size, bias=False)
        with torch.no_grad():
            dense_ih.weight.copy_(layer.weight_ih_l0)
            b = layer.bias_ih_l0 + layer.bias_hh_l0 if layer.bias else torch.zeros(4 * layer.hidden_size)
            dense_ih.bias.copy_(b)
            dense_hh.weight.copy_(layer.weight_hh_l0)
        spn.ih = from_dense(dense_ih, r_ih, seed=seed, **kw)
        spn.hh = from_dense(dense_hh, r_hh, seed=seed + 1, **kw)
        return spn
    raise NNError(f"from_dense supports nn.Linear, nn.Conv2d and nn.LSTM, got {type(layer).__name__}")


def exact_spn_conv(conv: nn.Conv2d, p: int = 1) -> SPNConv2d:
    """The SPN with ternary W_b, W_c that equals a dense conv exactly (the naive algorithm as an SPN):
    one hidden unit per weight and patch position, t = (o, u, v, c, i, j); W_b selects the input
    x[c, u·s+i, v·s+j] of the window, â_t = weight[o, c, i, j], W_c adds unit t into output (o, u, v).
    r = c_out · p² · (c_in/groups) · k². Quantization on (``quant_mix = 1``): the one-hot rows are their own
    ternary values with scale 1."""
    co, cig, k, _ = conv.weight.shape
    g, s = conv.groups, conv.stride[0]
    og = co // g
    rg = og * p * p * cig * k * k
    spn = SPNConv2d(conv.in_channels, co, k, rg * g, p=p, stride=s, padding=conv.padding[0], groups=g,
                    bias=conv.bias is not None)
    wb = torch.zeros_like(spn.weight_b)
    wc = torch.zeros_like(spn.weight_c)
    a = torch.zeros(spn.r)
    t = 0
    for gi in range(g):
        for o in range(og):
            for u in range(p):
                for v in range(p):
                    for c in range(cig):
                        for i in range(k):
                            for j in range(k):
                                wb[t, c, u * s + i, v * s + j] = 1
                                wc[t, o, u, v] = 1
                                a[t] = conv.weight[gi * og + o, c, i, j]
                                t += 1
    with torch.no_grad():
        spn.weight_b.copy_(wb)
        spn.weight_c.copy_(wc)
        spn.a_hat.copy_(a)
        if conv.bias is not None:
            spn.bias.copy_(conv.bias)
    spn.set_quant_mix(1.0)
    return spn


def set_quant_mix(model: nn.Module, mix: float) -> None:
    for m in model.modules():
        if isinstance(m, _SPNBase):
            m.set_quant_mix(mix)


def freeze_ternary(model: nn.Module, frozen: bool = True) -> None:
    for m in model.modules():
        if isinstance(m, _SPNBase):
            m.freeze_ternary(frozen)
