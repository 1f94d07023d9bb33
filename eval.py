"""python eval.py [--config FILE] [key=value ...]

Evaluates a training run (``eval.run``, default ``out_dir``) with the same configuration it
was trained with: its starting model and MoCap-SPIN, and PoseBERT on top, on the embedded
benchmarks (synthetic, no licensed data) and on the benchmarks listed under ``eval.real``.
Without --config it uses configs/default.yaml, so ``python train.py && python eval.py``
evaluates the default run. Writes report.md, report.json and PNGs into <run>/eval.
"""

import sys

from mocap_hmr.config import run_script
from mocap_hmr.evaluation.run import evaluate


def main(argv: list[str] | None = None) -> int:
    return run_script(evaluate, sys.argv[1:] if argv is None else argv, "eval.py",
                      __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
