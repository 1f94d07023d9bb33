"""Reports: paper-style Markdown tables and their JSON twin, and a run's metrics files read back."""

import json

import numpy as np
import pytest

from mocap_hmr.evaluation.report import read_metrics_csv, render_report, write_report
from mocap_hmr.evaluation.results import Result
from mocap_hmr.metrics import SPIN_3DPW, VIBE_3DPW

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


def test_metrics_csv_reads_columns_with_empty_cells_as_nan(tmp_path):
    (tmp_path / "metrics_a.csv").write_text("step,loss,joints\n10,2.5,\n20,1.5,0.5\n")
    table = read_metrics_csv(tmp_path / "metrics_a.csv")
    assert list(table) == ["step", "loss", "joints"]
    assert table["loss"].tolist() == [2.5, 1.5] and np.isnan(table["joints"][0]) and table["joints"][1] == 0.5
