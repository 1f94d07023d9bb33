"""python train.py [--config FILE] [key=value ...]

Trains MoCap-SPIN and PoseBERT in one process (or, under ``torchrun --nproc_per_node=N
train.py ...``, in N processes, one per GPU: README, "Several GPUs"). Without --config it uses
configs/default.yaml: the embedded default (stand-in body, procedural motion, default
appearance) with a small preset that finishes on a 2-core CPU in minutes. The run folder
(out_dir) gets config.yaml, metrics_*.csv, checkpoints/last.pt, pictures/ and posebert.pt.
"""

import sys
from pathlib import Path

from mocap_hmr.config import parse_args
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.training.runner import train

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.yaml"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not any(a == "--config" or a.startswith("--config=") for a in argv):
        argv = ["--config", str(DEFAULT_CONFIG), *argv]
    try:
        train(parse_args(argv, description=__doc__.splitlines()[0]))
    except MocapHMRError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
