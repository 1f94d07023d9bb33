"""python train.py [--config FILE] [key=value ...]

Trains MoCap-SPIN and PoseBERT in one process (or, under ``torchrun --nproc_per_node=N
train.py ...``, in N processes, one per GPU: README, "Several GPUs"). Without --config it uses
configs/default.yaml: the embedded default (stand-in body, procedural motion, default
appearance) with a small preset that finishes on a 2-core CPU in minutes. The run folder
(out_dir) gets config.yaml, metrics_*.csv, checkpoints/last.pt, pictures/ and posebert.pt.
"""

import sys

from mocap_hmr.config import run_script
from mocap_hmr.training.runner import train


def main(argv: list[str] | None = None) -> int:
    return run_script(train, sys.argv[1:] if argv is None else argv, "train.py",
                      __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
