"""Reports: paper-style Markdown tables and their JSON twin, the Figure 7 gain histogram, training curves."""

import json

import numpy as np
import pytest

from mocap_hmr.evaluation.report import (
    BETTER,
    CURVE_BOX,
    CURVE_PANEL_HEIGHT,
    CURVE_WIDTH,
    GAIN_PANELS,
    GAIN_SIZE,
    PALETTE,
    gain_bins,
    gain_histogram,
    render_report,
    training_curves,
    write_report,
)
from mocap_hmr.evaluation.results import Result
from mocap_hmr.imageio import read_image
from mocap_hmr.metrics import SPIN_3DPW, VIBE_3DPW
from renderers import plots

SPIN = SPIN_3DPW.as_dict()


def _results() -> list[Result]:
    return [
        Result("starting model", "3dpw", "image", SPIN, {"pa_mpjpe": 59.21, "mpjpe": 96.94, "mpvpe": 116.4},
               samples=50),
        Result("MoCap-SPIN", "3dpw", "image", SPIN, {"pa_mpjpe": 55.63, "mpjpe": 97.02, "mpvpe": 110.2},
               samples=50),
        Result("starting model", "mpi-inf-3dhp", "image", SPIN, {"pa_mpjpe": 67.5, "mpjpe": 105.2}, samples=20),
        Result("MoCap-SPIN", "3dpw", "video", {**SPIN, "fps": 30},
               {"mpjpe": 97.0, "pa_mpjpe": 55.6, "accel_error": 31.24}, samples=48),
        Result("MoCap-SPIN + PoseBERT", "3dpw", "video", {**SPIN, "fps": 30},
               {"mpjpe": 93.4, "pa_mpjpe": 53.9, "accel_error": 8.31}, samples=48),
    ]


def _rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the table under ``heading``: header row first, the alignment row left out."""
    lines = text.split(f"## {heading}")[1].split("\n## ")[0].splitlines()
    table = [line for line in lines if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table]


def test_image_table_has_methods_as_rows_and_benchmark_metric_columns_with_the_best_in_bold():
    text, warnings = render_report(_results(), "Table 1")
    rows = _rows(text, "Image results")
    assert rows[0] == ["Method", "3dpw PA-MPJPE", "3dpw MPJPE", "3dpw MPVPE", "mpi-inf-3dhp PA-MPJPE",
                       "mpi-inf-3dhp MPJPE"]
    assert rows[1] == ["starting model", "59.2", "**96.9**", "116.4", "67.5", "105.2"]
    assert rows[2] == ["MoCap-SPIN", "**55.6**", "97.0", "**110.2**", "–", "–"]
    assert warnings == [] and "Warning" not in text
    footer = text.split("## Image results")[1].split("## Video results")[0]
    assert "3dpw: lsp14 joints, pelvis-aligned (SPIN_3DPW), N=50" in footer
    assert "Units: mm (PA-MPJPE, MPJPE, MPVPE)" in footer


def test_video_table_follows_table_4_and_states_its_protocol_and_units():
    text, _ = render_report(_results(), "Table 4")
    rows = _rows(text, "Video results")
    assert rows[0] == ["Method", "3dpw MPJPE", "3dpw PA-MPJPE", "3dpw Accel"]
    assert rows[1] == ["MoCap-SPIN", "97.0", "55.6", "31.2"]
    assert rows[2] == ["MoCap-SPIN + PoseBERT", "**93.4**", "**53.9**", "**8.3**"]
    assert "3dpw: lsp14 joints, pelvis-aligned (SPIN_3DPW), fps=30, N=48" in text
    assert "mm/frame² (Accel)" in text


def test_delta_vs_first_row():
    text, _ = render_report(_results(), "deltas", delta=True)
    rows = _rows(text, "Video results")
    assert rows[1][1] == "97.0"
    assert rows[2][1:] == ["**93.4** (-3.6)", "**53.9** (-1.7)", "**8.3** (-22.9)"]


def test_a_benchmark_under_several_protocols_is_split_and_flagged():
    results = _results()[:2]
    results[1] = Result("MoCap-SPIN", "3dpw", "image", VIBE_3DPW.as_dict(), {"pa_mpjpe": 55.6}, samples=50)
    text, warnings = render_report(results, "mixed")
    rows = _rows(text, "Image results")
    assert rows[0] == ["Method", "3dpw [a] PA-MPJPE", "3dpw [a] MPJPE", "3dpw [a] MPVPE", "3dpw [b] PA-MPJPE"]
    assert rows[2] == ["MoCap-SPIN", "–", "–", "–", "55.6"]
    assert len(warnings) == 1 and "3dpw was scored under 2 protocols" in warnings[0]
    assert "pelvis-aligned" in warnings[0] and "hips-aligned" in warnings[0]
    assert f"**Warning:** {warnings[0]}" in text


def test_protocol_labels_alone_do_not_count_as_different_protocols():
    results = _results()[:2]
    results[1].protocol = {**SPIN, "name": "renamed", "description": "other words"}
    assert render_report(results, "same")[1] == []


def test_report_files_round_trip(tmp_path):
    results = _results()
    results[0].metrics["pa_mpjpe"] = np.float32(59.25)  # numpy scalars are written as plain numbers
    paths = write_report(results, tmp_path / "out", "Results", notes=["seed 0"])
    assert paths == {"markdown": tmp_path / "out" / "report.md", "json": tmp_path / "out" / "report.json"}
    assert paths["markdown"].read_text() == render_report(results, "Results", ["seed 0"])[0]
    data = json.loads(paths["json"].read_text())
    assert (data["title"], data["notes"], data["warnings"]) == ("Results", ["seed 0"], [])
    loaded = [Result(**d) for d in data["results"]]
    assert [r.as_dict() for r in loaded] == json.loads(json.dumps([r.as_dict() for r in results], default=float))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.md"]


def test_two_results_for_one_cell_are_refused():
    with pytest.raises(ValueError, match="two results"):
        render_report(_results()[:2] * 2, "twice")


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
    image = read_image(gain_histogram(a, b, tmp_path / "gain.png", "start", "MoCap-SPIN", bins=20))
    assert image.shape == (GAIN_SIZE[1], GAIN_SIZE[0], 3)
    assert (image[:60] != 255).any(-1).sum() > 1000  # title and statistics are written
    for left, top, right, bottom in GAIN_PANELS:
        assert (image[top + 1:bottom, left + 1:right] != 255).any(-1).mean() > 0.1  # bars, not a blank frame
    # the tallest bar (a gain > 0, so green) reaches the top of its count, widened to a round tick, and no higher
    edges, counts, _ = gain_bins(a, b, bins=20)
    left, top, right, bottom = GAIN_PANELS[0]
    tallest = int(np.argmax(counts))
    col = int(left + ((edges[tallest] + edges[tallest + 1]) / 2 - edges[0]) / (edges[-1] - edges[0]) * (right - left))
    row = bottom - counts[tallest] / plots.nice_range(0, max(counts.max(), 5))[-1] * (bottom - top)
    green = (image[:, col] == BETTER).all(-1)
    assert green[int(row) + 2:bottom].all() and not green[top:int(row) - 1].any()


def test_a_bar_covers_the_expected_pixels():
    image = np.full((400, 600, 3), 255, dtype=np.uint8)
    ax = plots.Axes(image, (100, 50, 500, 350), xlim=(0.0, 4.0), ylim=(0.0, 10.0))
    plots.bars(ax, [1.0], [2.0], [5.0], (200, 0, 0))
    red = (image == (200, 0, 0)).all(-1)
    rows, cols = np.nonzero(red)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (200, 349, 200, 298)
    assert red.sum() == 150 * 99


def test_text_is_drawn_where_anchored():
    image = np.full((40, 200, 3), 255, dtype=np.uint8)
    plots.draw_text(image, "gain 10%", 100, 20, scale=2, align="center", valign="middle")
    rows, cols = np.nonzero((image != 255).any(-1))
    width = (6 * len("gain 10%") - 1) * 2
    assert cols.min() >= 100 - width // 2 - 1 and cols.max() <= 100 + width // 2 + 1
    assert rows.min() >= 20 - 9 and rows.max() <= 20 + 9


def _metrics_csv(path, loss) -> None:
    lines = ["step,loss,joints,samples_per_s"] + [f"{10 * (i + 1)},{v},{v / 2},100.0" for i, v in enumerate(loss)]
    path.write_text("\n".join(lines) + "\n")


def test_training_curves_png(tmp_path):
    _metrics_csv(tmp_path / "metrics_a.csv", np.geomspace(10, 0.1, 30))
    _metrics_csv(tmp_path / "metrics_b.csv", np.linspace(5, 1, 20))
    files = {"a": tmp_path / "metrics_a.csv", "b": tmp_path / "metrics_b.csv"}
    for log_y in (False, True):
        image = read_image(training_curves(files, tmp_path / "curves.png", columns=("loss", "joints"), log_y=log_y))
        assert image.shape == (2 * CURVE_PANEL_HEIGHT, CURVE_WIDTH, 3)
        for panel in range(2):
            left, top, right, bottom = CURVE_BOX
            inside = image[panel * CURVE_PANEL_HEIGHT + top:panel * CURVE_PANEL_HEIGHT + bottom, left:right]
            for colour in PALETTE[:2]:
                assert (inside == colour).all(-1).sum() > 100  # both curves are drawn in every panel


def test_training_curves_refuse_a_missing_column(tmp_path):
    _metrics_csv(tmp_path / "metrics_a.csv", [1.0, 0.5])
    with pytest.raises(ValueError, match="columns found: joints, loss, samples_per_s, step"):
        training_curves({"a": tmp_path / "metrics_a.csv"}, tmp_path / "x.png", columns=("rotation",))
