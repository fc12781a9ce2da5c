"""SPN layers: with the right effective weights they equal the dense layers; the STE passes gradients."""

import itertools

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from algodiscover.nn import (NNError, SPNConv2d, SPNLinear, SPNLSTM, exact_spn_conv, from_dense,  # noqa: E402
                             set_quant_mix)
from algodiscover.nn.layers import patch_matrix  # noqa: E402

CONVS = [  # (c_in, c_out, k, stride, padding, groups, H)
    (3, 4, 3, 1, 1, 1, 7), (4, 6, 3, 1, 0, 2, 8), (2, 3, 3, 2, 1, 1, 9), (3, 5, 2, 1, 1, 1, 6), (1, 2, 1, 1, 0, 1, 5)]


def _dense_from_patch_map(spn, x):
    """Reference for any SPN conv: out[o, P·p+u, Q·p+v] = Σ E[o,u,v,c,i,j] · xpad[c, P·p·s+i, Q·p·s+j] by loops."""
    e = spn.effective_weight()
    xp, ho, wo = spn._pad_input(x)
    p, s, K, g = spn.p, spn.stride, spn.K, spn.groups
    cig, og = spn.in_channels // g, spn.out_channels // g
    _, _, nh, nw = spn.out_size(*x.shape[-2:])
    y = torch.zeros(x.shape[0], spn.out_channels, nh * p, nw * p)
    for o, P, Q in itertools.product(range(spn.out_channels), range(nh), range(nw)):
        gi = o // og
        win = xp[:, gi * cig:(gi + 1) * cig, P * p * s:P * p * s + K, Q * p * s:Q * p * s + K]
        y[:, o, P * p:(P + 1) * p, Q * p:(Q + 1) * p] = torch.einsum("uvcij,ncij->nuv", e[o], win)
    y = y[..., :ho, :wo]
    return y + spn.bias[:, None, None]


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("cfg", CONVS, ids=str)
def test_exact_ternary_spn_equals_dense_conv(cfg, p):
    # the naive algorithm as an SPN: one hidden unit per (weight, patch position), ternary one-hot W_b, W_c
    ci, co, k, s, pad, g, h = cfg
    torch.manual_seed(0)
    conv = nn.Conv2d(ci, co, k, stride=s, padding=pad, groups=g)
    spn = exact_spn_conv(conv, p)
    assert spn.r == co * p * p * (ci // g) * k * k
    qb, ab, qc, ac = spn.ternary()
    assert set(qb.unique().tolist()) <= {0.0, 1.0} and torch.all(ab == 1) and torch.all(ac == 1)
    x = torch.randn(2, ci, h, h + 1)
    torch.testing.assert_close(spn(x), conv(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cfg", CONVS, ids=str)
def test_p1_spn_equals_dense_conv_with_effective_weight(cfg):
    ci, co, k, s, pad, g, h = cfg
    torch.manual_seed(1)
    spn = SPNConv2d(ci, co, k, r=2 * g, p=1, stride=s, padding=pad, groups=g)
    with torch.no_grad():
        spn.a_hat.normal_()
        spn.bias.normal_()
    x = torch.randn(3, ci, h, h)
    for mix in (0.0, 1.0):  # full precision and ternary
        set_quant_mix(spn, mix)
        w = spn.effective_weight()[:, 0, 0]          # (c_out, c_in/g, k, k)
        ref = F.conv2d(x, w, spn.bias, stride=s, padding=pad, groups=g)
        torch.testing.assert_close(spn(x), ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("cfg", CONVS[1:3], ids=str)
def test_patch_spn_equals_its_patch_map(cfg, p):
    ci, co, k, s, pad, g, h = cfg
    torch.manual_seed(2)
    spn = SPNConv2d(ci, co, k, r=3 * g, p=p, stride=s, padding=pad, groups=g)
    with torch.no_grad():
        spn.a_hat.normal_()
        spn.bias.normal_()
    set_quant_mix(spn, 1.0)
    x = torch.randn(2, ci, h, h)
    torch.testing.assert_close(spn(x), _dense_from_patch_map(spn, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("p", [1, 2])
def test_spn_with_the_dense_patch_map_equals_the_dense_conv(p):
    # the derivation: an SPN conv equals a dense conv iff its patch map E is the conv's Toeplitz structure
    # E[o,u,v,c,i,j] = w[o,c,i-u,j-v]; from_dense with r = the map's rank reaches it in full precision
    torch.manual_seed(3)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    e = patch_matrix(conv.weight.detach(), p)
    rank = int(torch.linalg.matrix_rank(e.reshape(4 * p * p, -1)))
    spn = from_dense(conv, rank, p=p)
    torch.testing.assert_close(spn.effective_weight(), e, atol=1e-5, rtol=1e-5)
    x = torch.randn(2, 3, 8, 7)
    torch.testing.assert_close(spn(x), conv(x), atol=1e-5, rtol=1e-5)


def test_spn_linear_equals_dense_with_effective_weight_and_from_dense():
    torch.manual_seed(4)
    lin = nn.Linear(6, 5)
    spn = from_dense(lin, 5)
    x = torch.randn(4, 6)
    torch.testing.assert_close(spn(x), lin(x), atol=1e-5, rtol=1e-5)
    set_quant_mix(spn, 1.0)
    torch.testing.assert_close(spn(x), F.linear(x, spn.effective_weight(), spn.bias), atol=1e-5, rtol=1e-5)
    qb, ab, qc, ac = spn.ternary()
    assert set(qb.unique().tolist()) <= {-1.0, 0.0, 1.0} and set(qc.unique().tolist()) <= {-1.0, 0.0, 1.0}
    # ternary weights are alpha·q with the TWN threshold 0.7·mean|w| per hidden unit
    wb, wc = spn.weights()
    torch.testing.assert_close(wb, ab * qb)
    thr = 0.7 * spn.weight_b.abs().mean(1, keepdim=True)
    assert torch.equal(qb != 0, spn.weight_b.abs() > thr)


def test_spn_lstm_equals_dense_lstm_from_dense():
    torch.manual_seed(5)
    lstm = nn.LSTM(5, 4, batch_first=True)
    spn = from_dense(lstm, 16)         # r = 4H: exact in full precision
    x = torch.randn(3, 7, 5)
    (y, (h, c)), (y2, (h2, c2)) = lstm(x), spn(x)
    torch.testing.assert_close(y2, y, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(c2, c, atol=1e-5, rtol=1e-5)
    assert isinstance(spn, SPNLSTM) and spn.ih.r == 16 and spn.hh.r == 16


@pytest.mark.parametrize("layer,x", [
    (lambda: SPNLinear(6, 4, 3), lambda: torch.randn(5, 6)),
    (lambda: SPNConv2d(2, 3, 3, 4, p=2, padding=1), lambda: torch.randn(2, 2, 6, 6)),
])
def test_gradients_flow_through_the_ste(layer, x):
    torch.manual_seed(6)
    m, inp = layer(), x()
    set_quant_mix(m, 1.0)
    m(inp).square().sum().backward()
    for name in ("weight_b", "weight_c", "a_hat"):
        g = getattr(m, name).grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0, name
    # straight through: the gradient w.r.t. the latent weight equals the gradient w.r.t. the ternary weight
    m.zero_grad()
    wb, wc = m.weights()
    wb.retain_grad()
    (F.linear(inp, wb) * m.a_hat if isinstance(m, SPNLinear) else
     F.conv2d(m._pad_input(inp)[0], wb, stride=m.p) * m.a_hat[:, None, None]).sum().backward()
    torch.testing.assert_close(m.weight_b.grad, wb.grad)


def test_freeze_ternary_trains_a_hat_only():
    m = SPNLinear(4, 3, 2)
    set_quant_mix(m, 1.0)
    m.freeze_ternary()
    assert not m.weight_b.requires_grad and not m.weight_c.requires_grad and m.a_hat.requires_grad


def test_bad_arguments_are_nn_errors():
    with pytest.raises(NNError, match="divisible"):
        SPNConv2d(3, 4, 3, 4, groups=2)
    with pytest.raises(NNError, match="r must be"):
        SPNLinear(3, 4, 0)
    with pytest.raises(NNError, match="quant_mix"):
        SPNLinear(3, 4, 2).set_quant_mix(2.0)
    with pytest.raises(NNError, match="from_dense supports"):
        from_dense(nn.ReLU(), 3)
