"""python train.py [--config F] [key=value ...] -- MoCap-SPIN + PoseBERT training.

Training lands with issues 5 (MoCap-SPIN), 6 (PoseBERT) and 8 (multi-GPU). Until then this
entry point reports which body model training would use and what is not built yet.
"""

import sys

from mocap_hmr.body import find_model_file
from mocap_hmr.errors import MocapHMRError


def main() -> int:
    try:
        print(f"body model: {find_model_file(None)}")
    except MocapHMRError as exc:
        print(f"body model: none yet. {exc}")
    print("train.py: training is not built yet (issues 5 and 6: MoCap-SPIN and PoseBERT); "
          "nothing to run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
