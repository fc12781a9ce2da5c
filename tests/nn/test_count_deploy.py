"""count() against hand counts; deploy(): int8 ternary, additions only but the r products, equal to train mode."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from algodiscover.nn import SPNConv2d, SPNLinear, SPNLSTM, count, deploy, set_quant_mix  # noqa: E402
from algodiscover.nn.deploy import DeployedSPNConv2d  # noqa: E402
from algodiscover.nn.models import DigitsTeacher, studentize  # noqa: E402


def _set(spn, wb, wc, a):
    with torch.no_grad():
        spn.weight_b.copy_(torch.tensor(wb, dtype=torch.float32).reshape(spn.weight_b.shape))
        spn.weight_c.copy_(torch.tensor(wc, dtype=torch.float32).reshape(spn.weight_c.shape))
        spn.a_hat.copy_(torch.tensor(a, dtype=torch.float32))
    spn.set_quant_mix(1.0)
    return spn


def test_dense_hand_counts():
    # Linear 4 -> 3: 12 products, 3·(4-1) = 9 additions, 3 bias additions
    c = count(nn.Linear(4, 3), (4,))
    assert (c.multiplications, c.additions, c.separate["bias"]) == (12, 9, 3)
    # Conv 2 -> 3, 3x3, padding 1 on 5x5: 25 positions · 3 outputs · 18 products; 17 additions each
    c = count(nn.Conv2d(2, 3, 3, padding=1), (2, 5, 5))
    assert (c.multiplications, c.additions, c.separate["bias"]) == (25 * 3 * 18, 25 * 3 * 17, 75)
    # groups 2: each output sees 1 channel: 9 products
    c = count(nn.Conv2d(2, 4, 3, groups=2, bias=False), (2, 5, 5))
    assert (c.multiplications, c.additions, c.separate["bias"]) == (9 * 4 * 9, 9 * 4 * 8, 0)


def test_digits_teacher_hand_count():
    # conv1: 64 positions · 16 · 9 = 9216; conv2: 64 · 32 · 144 = 294912; linear 512 · 10 = 5120
    c = count(DigitsTeacher(), (1, 8, 8))
    assert c.multiplications == 9216 + 294912 + 5120 == 309248
    assert c.additions == 64 * 16 * 8 + 64 * 32 * 143 + 10 * 511
    assert c.separate["pooling"] == 32 * 64 and c.separate["activation"] == 64 * 16 + 64 * 32
    assert c.separate["bias"] == 64 * 16 + 64 * 32 + 10


def test_spn_linear_hand_count():
    # W_b rows: (1,0,-1) nnz 2 -> 1 addition; (1,1,1) -> 2; W_c rows (1,-1), (0,1), (0,0) -> 1 + 0 + 0
    spn = _set(SPNLinear(3, 3, 2), [[1, 0, -1], [1, 1, 1]], [[1, -1], [0, 1], [0, 0]], [2.0, -3.0])
    c = count(spn, (3,))
    assert (c.multiplications, c.additions, c.separate["bias"]) == (2, 4, 3)


def test_spn_conv_hand_count_p1_and_p2():
    # p = 1, 1 -> 2 channels, k = 2, r = 1 on 3x3 (no padding): 4 positions · 1 product;
    # W_b (1 hidden, 2x2 kernel, all ones) 3 additions; W_c (2 outputs from 1 unit) 0 additions
    spn = _set(SPNConv2d(1, 2, 2, 1, p=1, bias=False), [1, 1, 1, 1], [1, -1], [1.5])
    c = count(spn, (1, 3, 3))
    assert (c.multiplications, c.additions) == (4, 4 * 3)
    # p = 2: outputs 2x2 = one patch; r = 2; W_b kernel 3x3: unit 0 has 5 nonzeros, unit 1 has 1;
    # W_c (2 units -> 2 channels x 2x2): output (0,0,0) uses both units (1 addition), others one or none
    wb = [[1, 0, 1, 0, 1, 0, 1, 0, 1], [0, 0, 0, 0, -1, 0, 0, 0, 0]]
    wc = [[1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, -1, 0, 0]]
    spn = _set(SPNConv2d(1, 2, 2, 2, p=2, bias=False), wb, wc, [1.0, 2.0])
    c = count(spn, (1, 3, 3))
    assert (c.multiplications, c.additions) == (2, 4 + 0 + 1)


def test_lstm_hand_count():
    # per step: 4H·(I + H) products; additions 4H·(I − 1 + H − 1 + 1); gate products 3H apart
    c = count(nn.LSTM(3, 2, batch_first=True), (5, 3))
    assert c.multiplications == 5 * 8 * 5 and c.additions == 5 * 8 * 4 and c.separate["elementwise"] == 5 * 6
    spn = SPNLSTM(3, 2, 4, 3)
    set_quant_mix(spn, 1.0)
    cs = count(spn, (5, 3))
    assert cs.multiplications == 5 * (4 + 3) and cs.separate["elementwise"] == 5 * 6


def test_batchnorm_after_dense_is_folded_after_spn_is_counted():
    dense = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2))
    assert count(dense, (1, 4, 4)).multiplications == 16 * 2 * 9
    spn = nn.Sequential(SPNConv2d(1, 2, 3, 2, padding=1), nn.BatchNorm2d(2))
    assert count(spn, (1, 4, 4)).multiplications == 16 * 2 + 16 * 2


def _check_deploy(model, x, shape):
    model.eval()
    dep = deploy(model)
    for m in dep.modules():
        for name in ("w_b", "w_c"):
            if hasattr(m, name):
                w = getattr(m, name)
                assert w.dtype == torch.int8 and set(w.unique().tolist()) <= {-1, 0, 1}
    with torch.no_grad():
        torch.testing.assert_close(dep(x), model(x), atol=1e-4, rtol=1e-4)
        dep.op_counter.reset()
        dep(x[:1])
    c = count(model, shape)
    assert dep.op_counter.multiplications == c.multiplications
    assert dep.op_counter.additions == c.additions
    return dep


@pytest.mark.parametrize("p", [1, 2])
def test_deployed_student_equals_train_mode_and_count(p):
    torch.manual_seed(0)
    student, _ = studentize(DigitsTeacher(), "1.0x", p)
    set_quant_mix(student, 1.0)
    _check_deploy(student, torch.randn(5, 1, 8, 8), (1, 8, 8))


def test_deployed_conv_strided_grouped_and_lstm():
    torch.manual_seed(1)
    conv = SPNConv2d(4, 6, 3, 4, p=2, stride=2, padding=1, groups=2)
    conv.set_quant_mix(1.0)
    _check_deploy(nn.Sequential(conv), torch.randn(3, 4, 9, 9), (4, 9, 9))
    lstm = SPNLSTM(3, 4, 8, 6)
    set_quant_mix(lstm, 1.0)
    x = torch.randn(2, 5, 3)
    dep = lstm.deploy()
    with torch.no_grad():
        torch.testing.assert_close(dep(x)[0], lstm(x)[0], atol=1e-5, rtol=1e-5)
        dep.counter.reset()
        dep(x[:1])
    assert dep.counter.multiplications == count(lstm, (5, 3)).multiplications


def test_deployed_forward_multiplies_only_with_a_hat(monkeypatch):
    # every torch multiplication the deployed conv makes goes through _mul_a (the r products per patch)
    torch.manual_seed(2)
    conv = SPNConv2d(2, 3, 3, 5, p=1, padding=1, bias=False)
    conv.set_quant_mix(1.0)
    dep = conv.deploy()
    calls = []
    real = torch.Tensor.__mul__

    def spy(a, b):
        calls.append((tuple(a.shape), tuple(b.shape) if hasattr(b, "shape") else ()))
        return real(a, b)
    monkeypatch.setattr(torch.Tensor, "__mul__", spy)
    with torch.no_grad():
        dep(torch.randn(1, 2, 4, 4))
    monkeypatch.undo()
    assert calls == [((1, 5, 16), (5, 1))]
    assert isinstance(dep, DeployedSPNConv2d) and dep.counter.multiplications == 5 * 16
