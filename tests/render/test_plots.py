"""Training-curve and best-rank plots: files written, lines drawn, bad input refused."""

import pytest

from algodiscover.errors import FormatError
from algodiscover.render.plots import plot_best_ranks, plot_training_curves


def _curves(n_restarts=3, steps=(0, 10, 20, 30)):
    return [{"step": s, "residual": [1.0 / (1 + s + k) for k in range(n_restarts)],
             "quantized_fraction": [min(1.0, s / 30) for _ in range(n_restarts)]} for s in steps]


def test_training_curves_png(tmp_path):
    fig = plot_training_curves(_curves(), tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    ax_r, ax_q = fig.axes
    assert len(ax_r.lines) == 3 and len(ax_q.lines) == 3
    assert ax_r.get_yscale() == "log"


def test_training_curves_limits_lines_and_handles_zero_and_nan(tmp_path):
    curves = _curves(n_restarts=8)
    curves[-1]["residual"][0] = 0.0            # a solved restart: drawn at the floor of the log axis
    curves[1]["residual"][1] = float("nan")
    fig = plot_training_curves(curves, tmp_path / "c.svg", max_lines=5)
    assert len(fig.axes[0].lines) == 5
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")


def test_training_curves_new_batch_continues_the_axis():
    curves = _curves(steps=(0, 10, 20)) + _curves(steps=(0, 10, 20))
    fig = plot_training_curves(curves)
    xs = fig.axes[0].lines[0].get_xdata()
    assert max(xs) == 40  # second batch drawn after the first (20 + 20)


def test_training_curves_empty_is_a_plot_saying_so(tmp_path):
    fig = plot_training_curves([], tmp_path / "c.pdf")
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")
    assert any("no training curve" in t.get_text() for t in fig.axes[0].texts)


@pytest.mark.parametrize("bad", ["c.txt", "missing-dir/c.png"])
def test_bad_plot_paths(tmp_path, bad):
    with pytest.raises(FormatError):
        plot_training_curves(_curves(), tmp_path / bad)


def test_bad_snapshots():
    with pytest.raises(FormatError, match="snapshot 0"):
        plot_training_curves([[1, 2, 3]])
    with pytest.raises(FormatError, match="step"):
        plot_training_curves([{"step": "x", "residual": [1.0]}])


def test_best_ranks(tmp_path):
    rows = [dict(shape="2x2x2", catalog_rank=7, best_known=7, lower_bound=7),
            dict(shape=(3, 3, 3), catalog_rank=23, best_known=23, lower_bound=19),
            dict(shape="2x3x4", catalog_rank=None, best_known=20, lower_bound=None)]
    fig = plot_best_ranks(rows, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2×2×2", "3×3×3", "2×3×4"]
    # four marker series: schoolbook, lower bound, best known, catalogue
    assert len(ax.collections) == 4
    by_label = {c.get_label(): c.get_offsets().tolist() for c in ax.collections}
    assert by_label["m·k·n (schoolbook)"] == [[0, 8], [1, 27], [2, 24]]
    assert by_label["catalogue"] == [[0, 7], [1, 23]]


def test_best_ranks_bad_rows():
    with pytest.raises(FormatError):
        plot_best_ranks([{"catalog_rank": 7}])
    with pytest.raises(FormatError, match="best_known"):
        plot_best_ranks([{"shape": "2x2x2", "best_known": 7.5}])
    from algodiscover.errors import ShapeError
    with pytest.raises(ShapeError):
        plot_best_ranks([{"shape": "2x2"}])
