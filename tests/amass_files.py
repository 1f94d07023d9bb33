"""Hand-built AMASS-format files for the tests."""

import math

import numpy as np


def write_amass(path, n_frames=121, fps=120.0, width=156, fps_key="mocap_framerate", gender="male",
                **overrides):
    """A Z-up standing subject (root orientation +90 degrees about X), trans x = frame index."""
    poses = np.zeros((n_frames, width))
    poses[:, 0] = math.pi / 2
    trans = np.zeros((n_frames, 3))
    trans[:, 0] = np.arange(n_frames)
    trans[:, 2] = 0.9
    arrays = {"poses": poses, "trans": trans, "betas": np.zeros(16), "gender": np.array(gender),
              fps_key: np.array(fps)}
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path
