"""python train.py [--config F] [key=value ...] -- MoCap-SPIN + PoseBERT training.

Training lands with issues 5 (MoCap-SPIN), 6 (PoseBERT) and 8 (multi-GPU). Until then this
entry point prepares what training will use on the embedded default -- the body model
(SMPL via $SMPL_DIR, else the free stand-in body, built on first use) and the motion corpus
(the procedural corpus, synthesized and indexed on first use) -- and says what is not
built yet.
"""

import sys

from mocap_hmr.body import BodyModel
from mocap_hmr.body.standin import resolve_body_model
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.errors import MocapHMRError


def main() -> int:
    try:
        body = BodyModel(resolve_body_model())
        index_file = default_motion_index()
        index = load_index(index_file)
    except MocapHMRError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"body model: {body.model_file} ({body.num_vertices} vertices, {body.faces.shape[0]} faces)")
    print(f"motion: {index_file} ({index.num_sequences} sequences, {index.num_frames} frames at {index.fps:g} fps)")
    print("train.py: training is not built yet (issues 5 and 6: MoCap-SPIN and PoseBERT); "
          "nothing more to run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
