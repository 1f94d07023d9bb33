"""PoseBERT on top of any per-frame model: refine one sequence of SMPL poses of any length.

Every frame is refined from a window of T frames (default: the model's positional table
length, at most 64, the release demo's window), all windows of a sequence batched into a
few forward passes instead of one pass per frame:

- offline: frame t is read from the window of frames s ... s + T - 1 whose start s is the
  multiple of ``stride`` nearest to t - T//2 (with stride 1: frame t sits at position T // 2,
  T = 16: 8 frames before, 7 after). Near the ends the window is shifted to stay inside the
  sequence, as naver/posebert's demo does: the first frames are read from the window
  starting at frame 0, the last ones from the window ending at frame N - 1. Each distinct
  window runs once: about N / stride windows, every frame read at most stride // 2
  positions from its window's centre (stride 1 is the release demo's reading, one window
  per frame; the default, T // 4, is 4 times cheaper and reads the same frames to within
  rounding, see docs/smoothing.md).
- online: frame t is read at the last position of the window ending at frame t (frames
  t - T + 1 ... t), so its output depends on frames <= t only; before frame T - 1 the
  window's start is padding. For a live stream, ``refine_latest`` computes only the newest
  frame of each of several people, in one forward pass (the same value).

A keypoint PoseBERT (``input="h36m"``) takes 3D joints instead of poses: (N, 17, 3) H36M
joints in the camera frame, rescaled to the model's reference skeleton when it has one (or
to ``skeleton``), and returns SMPL rotations the same way.

A sequence shorter than T is one window, padded at the end. Padding, frames whose mask is
False and frames with NaN/Inf values are unobserved: the model sees the mask token there
(they are never attention keys) and fills them in. A frame whose window has no observed
frame at all gets the model's mean pose.
"""

from __future__ import annotations

import numpy as np
import torch

from mocap_hmr.errors import InputShapeError, MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_rot6d, rot6d_to_matrix
from mocap_hmr.models.keypoint_input import keypoint_features
from mocap_hmr.models.posebert import PoseBERT

MODES = ("offline", "online")
DEMO_WINDOW = 64  # naver/posebert's demo window, for its 1024-position table


def default_window(model: PoseBERT) -> int:
    """T for ``refine``: the model's positional table length, at most 64."""
    return min(model.max_len, DEMO_WINDOW)


def refine(poses: torch.Tensor | np.ndarray, model: PoseBERT, mask: torch.Tensor | np.ndarray | None = None,
           mode: str = "offline", window: int | None = None, stride: int | None = None,
           batch_size: int = 1024, skeleton: torch.Tensor | None = None) -> torch.Tensor:
    """Refine one person's sequence (see the module docstring for the windows).

    poses: (N, 24, 3, 3) rotation matrices, or (N, 72) / (N, 24, 3) axis-angle; for a
    keypoint model (N, 17, 3) H36M joints (``skeleton`` (17, 3): the reference bones,
    default the model's); mask: (N,)
    bool, False where the per-frame model saw nobody (default: all True); batch_size:
    windows per forward pass. Returns (N, 24, 3, 3) float32 rotations on the poses' device,
    all finite. The model runs in eval mode and without gradients (its mode is restored).
    """
    if mode not in MODES:
        raise MocapHMRError(f"mode '{mode}' is not one of {', '.join(MODES)}")
    device = next(model.parameters()).device
    poses = torch.as_tensor(poses)
    frames_in, finite = _model_inputs(poses.to(device=device, dtype=torch.float32), model, skeleton)
    n = frames_in.shape[0]
    observed = finite
    if mask is not None:
        mask = torch.as_tensor(mask, device=device)
        if mask.shape != (n,):
            raise InputShapeError(f"mask has shape {tuple(mask.shape)}; expected ({n},), one flag per frame")
        observed = observed & mask.bool()
    t = window or default_window(model)
    if t < 1:
        raise MocapHMRError(f"window={window}: a window has at least one frame")
    step = max(t // 4, 1) if stride is None else stride
    if not 1 <= step <= t:
        raise MocapHMRError(f"stride={stride}: offline windows are 1 to {t} (the window) frames apart")
    if n == 0:
        return torch.empty(0, 24, 3, 3, device=poses.device)
    frames = torch.arange(n, device=device)
    if mode == "offline":
        nearest = torch.div(frames - t // 2 + step // 2, step, rounding_mode="floor") * step
        starts, window_of = torch.unique(nearest.clamp(0, max(n - t, 0)), return_inverse=True)
        position = frames - starts[window_of]
    else:
        window_of, starts, position = frames, frames - t + 1, torch.full_like(frames, t - 1)
    mean_pose = rot6d_to_matrix(model.init_pose.reshape(24, 6)).float()
    out = torch.empty(n, 24, 3, 3, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for first in range(0, len(starts), batch_size):
                index = starts[first:first + batch_size, None] + torch.arange(t, device=device)  # (W, T)
                inside = (index >= 0) & (index < n)
                index = index.clamp(0, n - 1)
                window_observed = observed[index] & inside
                refined = model(frames_in[index], window_observed).rotmat.float()  # (W, T, 24, 3, 3)
                reads = ((window_of >= first) & (window_of < first + len(index))).nonzero()[:, 0]
                w = window_of[reads] - first
                blind = ~window_observed[w].any(1)
                out[reads] = torch.where(blind[:, None, None, None], mean_pose, refined[w, position[reads]])
    finally:
        model.train(was_training)
    return out.to(poses.device)


def refine_latest(recent: torch.Tensor, model: PoseBERT, window: int | None = None) -> torch.Tensor:
    """A live stream's newest frame for each of P people, in one forward pass: what
    ``refine(..., mode="online")`` returns for the last frame of each person's sequence.

    recent: (P, K, 24, 3, 3) rotations, each person's last K frames (NaN where unobserved);
    the last ``window`` of them are read (default: the model's window), fewer are padded before
    the first as ``refine`` pads a sequence's start. Returns (P, 24, 3, 3) float32 rotations on
    recent's device (the model's mean pose for a person with no observed frame in the window)."""
    device = next(model.parameters()).device
    recent = torch.as_tensor(recent)
    if recent.dim() != 5 or recent.shape[2:] != (24, 3, 3):
        raise InputShapeError(f"recent has shape {tuple(recent.shape)}; expected (P, K, 24, 3, 3): each person's "
                              "last K frames as rotation matrices")
    t = window or default_window(model)
    people, k = recent.shape[:2]
    rotmat, finite = _rotation_matrices(recent[:, -t:].to(device=device, dtype=torch.float32).flatten(0, 1))
    frames = matrix_to_rot6d(rotmat).reshape(people, -1, 24, 6)
    observed = finite.reshape(people, -1)
    pad = t - frames.shape[1]
    if pad > 0:  # the window starts before the stream: padded frames are unobserved
        frames = torch.cat([frames[:, :1].expand(-1, pad, -1, -1), frames], 1)
        observed = torch.cat([observed.new_zeros(people, pad), observed], 1)
    mean_pose = rot6d_to_matrix(model.init_pose.reshape(24, 6)).float()
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(frames, observed).rotmat[:, -1].float()
    finally:
        model.train(was_training)
    blind = ~observed.any(1)
    return torch.where(blind[:, None, None, None], mean_pose, out).to(recent.device)


def _model_inputs(poses: torch.Tensor, model: PoseBERT, skeleton: torch.Tensor | None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's per-frame input, (N, 24, 6) 6D or (N, 54) keypoint features, with
    non-finite frames made harmless, and (N,) bool: the frame was finite."""
    if model.input == "smpl":
        rotmat, finite = _rotation_matrices(poses)
        return matrix_to_rot6d(rotmat), finite
    n = poses.shape[0] if poses.dim() else 0
    if poses.shape != (n, 17, 3):
        raise InputShapeError(f"joints have shape {tuple(poses.shape)}; this PoseBERT takes keypoints: (N, 17, 3) "
                              "H36M joints (rows of J_regressor_h36m)")
    finite = torch.isfinite(poses.flatten(1)).all(1)
    reference = model.skeleton if skeleton is None else torch.as_tensor(skeleton, device=poses.device)
    joints = torch.where(finite[:, None, None], poses, 0.0)  # unobserved anyway: any finite value will do
    return keypoint_features(joints, reference), finite


def _rotation_matrices(poses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 24, 3, 3) | (N, 72) | (N, 24, 3) -> rotations (N, 24, 3, 3) with non-finite frames
    replaced by identities, and (N,) bool: the frame was finite."""
    n = poses.shape[0] if poses.dim() else 0
    if poses.shape not in ((n, 24, 3, 3), (n, 72), (n, 24, 3)):
        raise InputShapeError(
            f"poses has shape {tuple(poses.shape)}; refine takes (N, 24, 3, 3) rotation matrices or "
            "(N, 72) / (N, 24, 3) axis-angle"
        )
    finite = torch.isfinite(poses.flatten(1)).all(1)
    if poses.shape[-2:] != (3, 3):
        poses = axis_angle_to_matrix(torch.where(finite[:, None], poses.flatten(1), 0.0).reshape(n, 24, 3))
    identity = torch.eye(3, device=poses.device)
    return torch.where(finite[:, None, None, None], poses, identity), finite
