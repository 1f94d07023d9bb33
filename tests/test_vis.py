"""The pictures room (mocap_hmr.vis) on tiny inputs: every figure is built, its artists say what
was drawn (bars, error bars, curves, panels), PNGs have the sizes asked for, different data draw
different pixels, and the house style never leaks into the process's matplotlib settings."""

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from mocap_hmr.imageio import read_image
from mocap_hmr.vis.charts import VERDICT_COLOURS, bar_chart, curve_chart, difference_chart
from mocap_hmr.vis.curves import line_plot, training_curves
from mocap_hmr.vis.figure import DPI, STYLE, pixel_figure, save_png, to_array
from mocap_hmr.vis.gain import (
    DISTANCE_INCHES,
    GAIN_INCHES,
    gain_bins,
    gain_by_distance,
    gain_by_distance_bins,
    gain_histogram,
)
from mocap_hmr.vis.grids import image_grid, overlay_picture


def _bars(ax) -> list[Rectangle]:
    return [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]


def test_gain_bins_match_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(60, 10, 500), rng.normal(57, 10, 500)
    edges, counts, contributions = gain_bins(a, b, bins=15)
    gain = a - b
    assert len(edges) == 17 and edges[8] == 0.0 and np.isclose(edges[-1], np.abs(gain).max())
    assert np.array_equal(counts, np.histogram(gain, edges)[0])
    last = len(edges) - 2
    inside = [(gain >= edges[i]) & ((gain < edges[i + 1]) | (i == last)) for i in range(last + 1)]
    assert np.allclose(contributions, [gain[m].sum() / len(gain) for m in inside])
    assert np.isclose(contributions.sum(), gain.mean())


def test_gain_bins_with_edges_count_outliers_in_the_end_bins():
    a, b = np.array([10.0, 0.0, 1.0, 0.0]), np.array([0.0, 5.0, 0.5, 0.0])  # gains 10, -5, 0.5, 0
    edges, counts, contributions = gain_bins(a, b, bins=[-1.0, 0.0, 1.0, 2.0])
    assert counts.tolist() == [1, 2, 1]
    assert np.allclose(contributions, [-5 / 4, 0.5 / 4, 10 / 4]) and np.isclose(contributions.sum(), 5.5 / 4)


def test_gain_bins_refuse_mismatched_samples():
    with pytest.raises(ValueError, match=r"\(N,\)"):
        gain_bins(np.zeros(3), np.zeros(4))



def test_gain_histogram_png(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.gamma(4, 15, 400)
    b = a - rng.normal(3, 8, 400)
    figure = gain_histogram(a, b, "start", "MoCap-SPIN", bins=20)
    counts_ax, contributions_ax = figure.axes
    edges, counts, contributions = gain_bins(a, b, bins=20)
    for ax, heights in ((counts_ax, counts), (contributions_ax, contributions)):
        bars = _bars(ax)
        assert len(bars) == 20 and np.allclose([p.get_height() for p in bars], heights)
        assert np.allclose([p.get_x() for p in bars], edges[:-1])
    # bins where MoCap-SPIN is better (gain > 0) are green, the others red
    green = [matplotlib.colors.to_hex(p.get_facecolor()) == "#2e8b57" for p in _bars(counts_ax)]
    assert green == list((edges[:-1] + edges[1:]) / 2 > 0)
    assert counts_ax.get_ylim()[1] >= counts.max()
    image = read_image(save_png(figure, tmp_path / "gain.png"))
    assert image.shape == (int(GAIN_INCHES[1] * DPI), int(GAIN_INCHES[0] * DPI), 3)
    other = to_array(gain_histogram(a, a - rng.normal(-3, 8, 400), "start", "MoCap-SPIN", bins=20))
    assert other.shape == image.shape and (other != image).any(-1).mean() > 0.01  # other data, other picture


def test_gain_by_distance_bins_are_quantiles_with_their_means_and_standard_errors():
    rng = np.random.default_rng(2)
    distance, gain = rng.uniform(0, 40, 101), rng.normal(2, 5, 101)
    binned = gain_by_distance_bins(distance, gain, bins=4)
    assert np.allclose(binned["edges"], np.quantile(distance, [0, 0.25, 0.5, 0.75, 1]))
    inside = [(distance >= lo) & ((distance < hi) | (i == 3))
              for i, (lo, hi) in enumerate(zip(binned["edges"][:-1], binned["edges"][1:], strict=True))]
    assert binned["count"].tolist() == [m.sum() for m in inside] and binned["count"].sum() == 101
    assert np.allclose(binned["mean"], [gain[m].mean() for m in inside])
    assert np.allclose(binned["distance"], [distance[m].mean() for m in inside])
    assert np.allclose(binned["se"], [gain[m].std(ddof=1) / np.sqrt(m.sum()) for m in inside])
    tied = gain_by_distance_bins(np.r_[np.zeros(6), 1.0], np.arange(7.0), bins=4)  # quantiles tie: fewer bins
    assert tied["count"].sum() == 7 and len(tied["count"]) == len(tied["edges"]) - 1 < 4
    with pytest.raises(ValueError, match=r"\(N,\)"):
        gain_by_distance_bins(np.zeros(3), np.zeros(4))


def test_gain_by_distance_png_one_dot_per_sample_one_error_bar_per_bin(tmp_path):
    rng = np.random.default_rng(3)
    distance = {"in-coverage": rng.uniform(0, 10, 30), "pose-gap": rng.uniform(10, 40, 20)}
    gain = {k: rng.normal(0.2 * d, 2.0) for k, d in distance.items()}
    figure = gain_by_distance(distance, gain, "start", "MoCap-SPIN", "pose distance (degrees)", bins=5,
                              note="Spearman ρ = 0.80")
    (ax,) = figure.axes
    dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in dots] == [30, 20]
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    binned = gain_by_distance_bins(np.r_[distance["in-coverage"], distance["pose-gap"]],
                                   np.r_[gain["in-coverage"], gain["pose-gap"]], bins=5)
    x, y = bars.lines[0].get_data()
    assert len(x) == 5 and np.allclose(x, binned["distance"]) and np.allclose(y, binned["mean"])
    segments = bars.lines[2][0].get_segments()  # the ± 2 s.e. bars
    assert np.allclose([s[1, 1] - s[0, 1] for s in segments], 4 * binned["se"])
    assert any(np.allclose(line.get_ydata(), 0) for line in ax.get_lines())  # the zero line
    assert "(mm)" in ax.get_ylabel() and "degrees" in ax.get_xlabel() and "Spearman" in ax.get_title()
    image = read_image(save_png(figure, tmp_path / "gain_by_distance.png"))
    assert image.shape == (int(DISTANCE_INCHES[1] * DPI), int(DISTANCE_INCHES[0] * DPI), 3)
    with pytest.raises(ValueError, match="same sets"):
        gain_by_distance({"a": np.zeros(2)}, {"b": np.zeros(2)}, "start", "MoCap-SPIN", "d")


def _metrics_csv_tables(n_a=30, n_b=20):
    return {"a": {"step": 10.0 * np.arange(1, n_a + 1), "loss": np.geomspace(10, 0.1, n_a),
                  "joints": np.geomspace(5, 0.05, n_a)},
            "b": {"step": 10.0 * np.arange(1, n_b + 1), "loss": np.linspace(5, 1, n_b)}}


def test_training_curves_one_panel_per_column_one_curve_per_table():
    for log_y in (False, True):
        figure = training_curves(_metrics_csv_tables(), columns=("loss", "joints"), log_y=log_y)
        loss, joints = figure.axes
        assert [len(loss.lines), len(joints.lines)] == [2, 1]  # b has no 'joints'
        assert loss.get_yscale() == ("log" if log_y else "linear")
        assert [t.get_text() for t in loss.get_legend().get_texts()] == ["a", "b"]
        np.testing.assert_allclose(loss.lines[1].get_ydata(), np.linspace(5, 1, 20))


def test_training_curves_refuse_a_missing_column():
    with pytest.raises(ValueError, match="columns found: joints, loss, step"):
        training_curves(_metrics_csv_tables(), columns=("rotation",))


def test_line_plot_keeps_gaps_and_labels():
    values = np.array([1.0, 2.0, np.nan, 4.0])
    figure = line_plot([values, values + 1], ["tab:red", "tab:blue"], ["input", "smoothed"], title="t", xlabel="frame")
    ax = figure.axes[0]
    assert len(ax.lines) == 2 and np.isnan(ax.lines[0].get_ydata()[2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["input", "smoothed"]
    assert ax.get_xlabel() == "frame" and ax.get_title() == "t"


def test_bar_chart_draws_a_bar_per_finite_value_with_its_value():
    figure = bar_chart(["bn", "regressor+last-1", "all"], {"x": [1.0, float("nan"), 3.0], "y": [2.0, 2.5, 0.5]},
                       "t", "y (mm)", ("start", 2.0))
    ax = figure.axes[0]
    heights = sorted(p.get_height() for p in _bars(ax))
    assert heights == [0.5, 1.0, 2.0, 2.5, 3.0]  # the NaN draws no bar
    written = {t.get_text() for t in ax.texts}
    assert {"1.0", "3.0", "2.5", "0.5"} <= written
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["start: 2.0", "x", "y"]
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == 2.0 for line in ax.lines)
    assert ax.get_ylim()[0] == 0
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[1] == "regressor+\nlast-1"


def test_single_series_bar_chart_names_only_the_reference():
    ax = bar_chart(["a", "b"], {"only": [1.0, 2.0]}, "t", "y", ("start", 3.0)).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["start: 3.0"]
    assert bar_chart(["a"], {"only": [1.0]}, "t", "y").axes[0].get_legend() is None


def test_difference_chart_has_error_bars_of_two_standard_errors_coloured_by_verdict(tmp_path):
    verdicts = ["lower", "tied", "higher"]
    figure = difference_chart(["v", "w", "x"], [(-5.0, 1.0), (0.5, 1.0), (3.0, 0.5)], verdicts, "t", "y")
    ax = figure.axes[0]
    bars = _bars(ax)
    assert [p.get_height() for p in bars] == [-5.0, 0.5, 3.0]
    assert [matplotlib.colors.to_hex(p.get_facecolor()) for p in bars] == [VERDICT_COLOURS[v] for v in verdicts]
    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errorbars) == 1
    segments = errorbars[0].lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 1], 6)) for s in segments] == [(-7.0, -3.0), (-1.5, 2.5), (2.0, 4.0)]
    assert {t.get_text() for t in ax.texts} == {"\u22125.0 ± 1.0", "+0.5 ± 1.0", "+3.0 ± 0.5"}
    image = read_image(save_png(figure, tmp_path / "d.png"))
    width, height = figure.get_size_inches() * DPI
    assert image.shape == (int(height), int(width), 3)


def test_a_diverged_difference_has_no_bar_and_says_so():
    ax = difference_chart(["v", "w"], [(-2.0, 0.5), (np.nan, np.nan)], ["lower", "diverged"], "t", "y").axes[0]
    assert [t.get_text() for t in ax.texts] == ["\u22122.0 ± 0.5", "diverged"]
    assert ax.texts[1].xy == (1, 0.0) and np.isnan(_bars(ax)[1].get_height())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lower (beyond 2 s.e.)"]
    low, high = ax.get_ylim()
    assert low < -3.0 and 0.0 < high < 1.0  # the limits hold the finite bar and its error bar only


def test_curve_chart_one_panel_per_metric_with_points_written():
    figure = curve_chart([0, 0.5, 1], [("a (mm)", {"s": [3.0, 1.0, 2.0]}), ("b (mm)", {"s": [5.0, np.nan, 4.0]})],
                         "t", "x", [("r", 2.5)])
    top, bottom = figure.axes
    assert top.lines[0].get_ydata().tolist() == [3.0, 1.0, 2.0] and top.lines[1].get_ydata()[0] == 2.5
    assert len(bottom.lines) == 1  # no reference given for the second panel
    assert [t.get_text() for t in top.texts] == ["3.0", "1.0", "2.0"] and len(bottom.texts) == 2
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["0", "0.5", "1"]


def test_image_grid_panels_labels_and_points():
    rows = [np.zeros((3, 8, 8, 3), np.uint8), np.full((2, 8, 8, 3), 255, np.uint8)]
    points = [None, [np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((0, 2))]]
    figure = image_grid(rows, ["first", "second"], ["a", "b", "c"], points=points)
    images = [a for a in figure.axes if a.images]
    assert len(images) == 5 and len(figure.axes) == 6  # a panel left empty in the short row
    assert [a.get_ylabel() for a in figure.axes[::3]] == ["first", "second"]
    assert [a.get_title() for a in figure.axes[:3]] == ["a", "b", "c"]
    dots = [c for a in figure.axes for c in a.collections if isinstance(c, PathCollection)]
    assert len(dots) == 1 and dots[0].get_offsets().shape == (2, 2)
    assert all(isinstance(a.images[0], AxesImage) for a in images)


def test_overlay_picture_shows_meshes_over_the_crops(tiny_body_dir):
    from mocap_hmr.body import BodyModel

    body = BodyModel(tiny_body_dir)
    vertices = body(torch.zeros(3, 24, 3)).vertices.detach()
    images, camera = torch.zeros(3, 3, 32, 32), torch.tensor([[0.9, 0.0, 0.0]]).expand(3, 3)
    seen = overlay_picture(images, vertices, camera, body.faces, columns=2)
    away = overlay_picture(images, vertices + torch.tensor([50.0, 0.0, 0.0]), camera, body.faces, columns=2)
    assert seen.dtype == np.uint8 and seen.shape == away.shape and seen.shape[2] == 3
    assert seen.shape[0] > seen.shape[1] * 0.8  # 2 rows of 2 panels (one empty)
    assert (np.abs(seen.astype(int) - away.astype(int)).sum(-1) > 60).mean() > 0.02  # the meshes are drawn


def test_pixel_figure_has_the_exact_size_and_the_style_does_not_leak():
    before = {key: matplotlib.rcParams[key] for key in STYLE}
    for width, height in ((316, 512), (150, 220), (1, 1)):
        assert to_array(pixel_figure(width, height)).shape == (height, width, 3)
    bar_chart(["a"], {"x": [1.0]}, "t", "y")
    assert {key: matplotlib.rcParams[key] for key in STYLE} == before
