"""The progress helper: every item, a final line on stderr, a slow pace where stderr is a log."""

from mocap_hmr.progress import LOG_INTERVAL_S, progress


def test_every_item_and_a_final_line_on_stderr(capsys):
    assert list(progress(iter(range(3)), 3, "indexing runs", unit="files")) == [0, 1, 2]
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n")
    assert "indexing runs" in err and "3/3" in err and "files/s" in err


def test_a_log_is_written_every_few_seconds_not_at_every_redraw(capsys):
    bar = progress(range(3), 3, "training", unit="steps")  # under pytest, stderr is not a terminal
    assert bar.mininterval == LOG_INTERVAL_S
    bar.close()
