"""quant.scaled_ternary_ste (the addition used by the SPN layers): TWN values and scale, STE gradient, phase-in."""

import pytest

torch = pytest.importorskip("torch")

from algodiscover.quant import scaled_ternary_ste  # noqa: E402


def test_twn_threshold_scale_and_straight_through_gradient():
    w = torch.tensor([[0.9, -0.1, 0.5, -1.2], [0.05, 0.0, -0.3, 0.02]], requires_grad=True)
    wq, q, alpha = scaled_ternary_ste(w, "twn", dims=(1,))
    # row 0: mean|w| = 0.675, threshold 0.4725 -> keeps 0.9, 0.5, -1.2; alpha = (0.9+0.5+1.2)/3
    # row 1: mean|w| = 0.0925, threshold 0.06475 -> keeps -0.3 only; alpha = 0.3
    assert q.tolist() == [[1, 0, 1, -1], [0, 0, -1, 0]]
    torch.testing.assert_close(alpha.flatten(), torch.tensor([2.6 / 3, 0.3]))
    torch.testing.assert_close(wq, alpha * q)
    g = torch.arange(8.0).reshape(2, 4)
    (wq * g).sum().backward()
    torch.testing.assert_close(w.grad, g)          # identity in w


def test_mix_phases_quantization_in():
    w = torch.tensor([[0.9, -0.1, 0.5, -1.2]])
    w0, _, _ = scaled_ternary_ste(w, dims=(1,), mix=0.0)
    wh, q, a = scaled_ternary_ste(w, dims=(1,), mix=0.5)
    torch.testing.assert_close(w0, w)
    torch.testing.assert_close(wh, 0.5 * w + 0.5 * a * q)
