"""time_conv_methods and plot_conv_timings (tiny cases: the loops are slow)."""

import matplotlib
import pytest

from convkit.lessons.timing import (
    DEFAULT_CASES,
    METHODS,
    ConvCase,
    CopyProductSplit,
    TimingRow,
    time_conv_methods,
    time_copy_and_product,
    torch_conv_kernel,
)
from convkit.viz.timing import plot_conv_timings

matplotlib.use("Agg")

TINY = (
    ConvCase("tiny", 1, 1, 6, 2, 3),
    ConvCase("strided", 2, 2, 7, 3, 3, padding=1, stride=2),
)


def test_rows_per_case_and_method():
    rows = time_conv_methods(TINY, repeats=2)
    assert [(r.case, r.method) for r in rows] == [
        (case.name, method) for case in TINY for method in METHODS
    ]
    assert all(isinstance(r, TimingRow) and r.seconds > 0 for r in rows)
    loops = {r.case: r.seconds for r in rows if r.method == "loops"}
    for r in rows:
        assert r.speedup == pytest.approx(loops[r.case] / r.seconds)
        assert r.macs == next(c.macs for c in TINY if c.name == r.case)
    assert rows[0].label == METHODS["loops"]


def test_case_arithmetic():
    case = ConvCase("c", 2, 3, 16, 8, 3, padding=1, stride=2)
    assert case.out_size == 8
    assert case.macs == 2 * 8 * 8 * 8 * 3 * 3 * 3
    assert [c.out_size for c in DEFAULT_CASES] == [6, 14, 14]
    assert case.copies == 2 * 8 * 8 * 3 * 3 * 3
    assert case.macs == case.copies * case.out_channels  # each copy meets every kernel


def test_copy_and_product_split():
    case = ConvCase("c", 2, 3, 9, 4, 3, padding=1, stride=2)
    split = time_copy_and_product(case, repeats=2)
    assert isinstance(split, CopyProductSplit) and split.case == "c"
    assert (split.copies, split.macs) == (case.copies, case.macs)
    assert split.copy_seconds > 0 and split.product_seconds > 0
    assert 0 < split.copy_share < 1
    assert split.cost_per_copy_vs_mac == pytest.approx(
        (split.copy_seconds / split.copies) / (split.product_seconds / split.macs))
    with pytest.raises(TypeError, match="ConvCase"):
        time_copy_and_product((1, 1, 6, 2, 3))
    with pytest.raises(ValueError, match="does not fit"):
        time_copy_and_product(ConvCase("big kernel", 1, 1, 3, 1, 5))
    with pytest.raises(ValueError, match="repeats"):
        time_copy_and_product(case, repeats=0)


def test_torch_conv_kernel_names_an_aten_convolution_quietly(capfd):
    name = torch_conv_kernel(DEFAULT_CASES[-1])
    assert name.startswith("aten::") and "conv" in name
    assert name not in ("aten::conv2d", "aten::convolution", "aten::_convolution")
    assert capfd.readouterr().err == ""  # the profiler's own log lines are swallowed
    with pytest.raises(TypeError, match="ConvCase"):
        torch_conv_kernel("a case")


def test_im2col_beats_the_loops_on_the_largest_default_case():
    """The chapter's claim, with a wide margin (a busy machine cannot flip it)."""
    rows = time_conv_methods(DEFAULT_CASES[-1:], repeats=1)
    by_method = {r.method: r for r in rows}
    assert by_method["im2col"].speedup > 50


def test_bad_arguments():
    with pytest.raises(ValueError, match="no cases"):
        time_conv_methods([])
    with pytest.raises(TypeError, match="ConvCase"):
        time_conv_methods([(1, 1, 6, 2, 3)])
    with pytest.raises(ValueError, match="does not fit"):
        time_conv_methods([ConvCase("big kernel", 1, 1, 3, 1, 5)])
    with pytest.raises(ValueError, match="repeats"):
        time_conv_methods(TINY, repeats=0)


def test_plot_has_log_axis_bars_and_speedup_labels():
    rows = [
        TimingRow("a", "loops", 1e-1, 10, 1.0),
        TimingRow("a", "im2col", 1e-4, 10, 1000.0),
        TimingRow("a", "torch", 2e-5, 10, 5000.0),
        TimingRow("b", "loops", 2e-2, 10, 1.0),
        TimingRow("b", "im2col", 4e-3, 10, 5.0),
    ]
    fig = plot_conv_timings(rows, title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.patches) == 5
    texts = {t.get_text() for t in ax.texts}
    assert {"×1,000", "×5,000", "×5.0", "×1.0"} <= texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="no rows"):
        plot_conv_timings([])
    with pytest.raises(TypeError, match="TimingRow"):
        plot_conv_timings([("a", "loops", 1.0)])
