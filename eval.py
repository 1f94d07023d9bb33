"""python eval.py [--config FILE] [key=value ...]

Evaluates a training run (``eval.run``, default ``out_dir``) with the same configuration it
was trained with: its starting model and MoCap-SPIN, and PoseBERT on top, on the embedded
benchmarks (synthetic, no licensed data) and on the benchmarks listed under ``eval.real``.
Without --config it uses configs/default.yaml, so ``python train.py && python eval.py``
evaluates the default run. Writes report.md, report.json and PNGs into <run>/eval.
"""

import sys
from pathlib import Path

from mocap_hmr.config import parse_args
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.run import evaluate

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.yaml"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not any(a == "--config" or a.startswith("--config=") for a in argv):
        argv = ["--config", str(DEFAULT_CONFIG), *argv]
    try:
        evaluate(parse_args(argv, description=__doc__.splitlines()[0]))
    except MocapHMRError as exc:
        print(f"eval.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
