"""python train.py [--config F] [key=value ...] -- MoCap-SPIN + PoseBERT training.

Training lands with issues 5 (MoCap-SPIN), 6 (PoseBERT) and 8 (multi-GPU). Until then this
entry point prepares the body model training will use (SMPL via $SMPL_DIR, else the free
stand-in body, built on first use) and says what is not built yet.
"""

import sys

from mocap_hmr.body import BodyModel
from mocap_hmr.body.standin import resolve_body_model
from mocap_hmr.errors import MocapHMRError


def main() -> int:
    try:
        body = BodyModel(resolve_body_model())
    except MocapHMRError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"body model: {body.model_file} ({body.num_vertices} vertices, {body.faces.shape[0]} faces)")
    print("train.py: training is not built yet (issues 5 and 6: MoCap-SPIN and PoseBERT); "
          "nothing more to run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
