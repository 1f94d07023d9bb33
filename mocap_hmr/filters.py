"""Plain temporal filters of joint-rotation sequences: the baselines PoseBERT has to beat.

What users of per-frame models smooth with today: a centred moving average, a
Savitzky-Golay filter (SmoothNet's baseline; scipy's coefficients) and the OneEuro filter
(Casiez et al., CHI 2012; VIBE's and TCMR's demos smooth with it). All three work the same
way on a sequence of SMPL rotations:

1. frames that are unobserved (``observed`` False, or any NaN/Inf) are filled: offline by
   linear interpolation of the rotation matrices between the nearest observed frames
   before and after (the nearest one held beyond the ends), online by holding the last
   observed frame (the first observed one before any is seen);
2. the 9 entries of every joint's rotation matrix are filtered along time;
3. each result is projected back onto the rotations (the nearest rotation matrix, by SVD).

Offline, the average and Savitzky-Golay windows are centred (shrinking at the ends for the
average, scipy's polynomial fit to the end window for Savitzky-Golay); online (``mode=
"online"``) they end at the current frame, so frame t depends on frames <= t only.
OneEuro is causal in both modes: an exponential smoother whose cut-off frequency rises
with the speed of the signal (``min_cutoff + beta * speed``, speed in matrix entries per
second, per joint), so slow motion is smoothed hard and fast motion lags little.

Default settings (``DEFAULTS``) were chosen by ``bench/tune_filters.py`` on windows of the
training corpus (seed 0, not the held-out test motion), with the corruption of the
embedded denoising benchmark: the lowest joint error of each filter's grid (Savitzky-Golay
of order 2 or more: of order 0 or 1 a centred one is the moving average). Any of them can
be given instead.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.signal import savgol_coeffs, savgol_filter

from mocap_hmr.errors import InputShapeError, MocapHMRError

FILTERS = ("average", "savgol", "one-euro")
MODES = ("offline", "online")
DEFAULTS = {
    "average": {"window": 11},
    "savgol": {"window": 21, "order": 2},
    "one-euro": {"min_cutoff": 0.3, "beta": 0.2, "d_cutoff": 1.0},
}
LABELS = {"average": "moving average", "savgol": "Savitzky-Golay", "one-euro": "OneEuro"}


def filter_rotations(rotmat: torch.Tensor, method: str, observed: torch.Tensor | None = None,
                     mode: str = "offline", fps: float = 30.0, **settings) -> torch.Tensor:
    """Filter one sequence (see the module docstring).

    rotmat: (N, 24, 3, 3) rotations (NaN/Inf frames count as unobserved); observed: (N,)
    bool, default all True; settings: the method's keys in ``DEFAULTS`` (window, order;
    min_cutoff, beta, d_cutoff in Hz). Returns (N, 24, 3, 3) float32 rotations on rotmat's
    device. Raises ``MocapHMRError`` when no frame is observed."""
    if method not in FILTERS:
        raise MocapHMRError(f"filter '{method}' is not one of {', '.join(FILTERS)}")
    if mode not in MODES:
        raise MocapHMRError(f"mode '{mode}' is not one of {', '.join(MODES)}")
    unknown = sorted(set(settings) - set(DEFAULTS[method]))
    if unknown:
        raise MocapHMRError(f"filter '{method}' has no setting {', '.join(unknown)}; it takes "
                            f"{', '.join(DEFAULTS[method])}")
    rotmat = torch.as_tensor(rotmat)
    n = rotmat.shape[0] if rotmat.dim() else 0
    if rotmat.dim() != 4 or rotmat.shape[1:] != (24, 3, 3):
        raise InputShapeError(f"rotations have shape {tuple(rotmat.shape)}; filters take (N, 24, 3, 3)")
    values = rotmat.detach().cpu().double().numpy().reshape(n, -1)
    seen = np.isfinite(values).all(1)
    if observed is not None:
        observed = torch.as_tensor(observed).cpu().numpy()
        if observed.shape != (n,):
            raise InputShapeError(f"observed has shape {observed.shape}; expected ({n},), one flag per frame")
        seen &= observed.astype(bool)
    if n == 0:
        return rotmat.float().clone()
    if not seen.any():
        raise MocapHMRError(f"no observed frame among the {n}: there is nothing to filter")
    filled = (_interpolate if mode == "offline" else _hold)(values, seen)
    options = {**DEFAULTS[method], **settings}
    if method == "average":
        smoothed = _average(filled, int(options["window"]), mode)
    elif method == "savgol":
        smoothed = _savgol(filled, int(options["window"]), int(options["order"]), mode)
    else:
        smoothed = _one_euro(filled, fps, float(options["min_cutoff"]), float(options["beta"]),
                             float(options["d_cutoff"]))
    return nearest_rotation(torch.from_numpy(smoothed).reshape(n, 24, 3, 3)).float().to(rotmat.device)


def nearest_rotation(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) any matrices -> (..., 3, 3) the nearest rotations (Frobenius norm): U diag(1, 1, det) V^T."""
    u, _, vh = torch.linalg.svd(matrix)
    det = torch.linalg.det(u @ vh)
    u = torch.cat([u[..., :2], u[..., 2:] * det[..., None, None]], -1)
    return u @ vh


def _interpolate(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(N, K) with rows to fill -> linear interpolation between observed rows, ends held."""
    frames = np.arange(len(values))
    known = frames[seen]
    return np.stack([np.interp(frames, known, values[seen, k]) for k in range(values.shape[1])], 1)


def _hold(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(N, K) -> every unobserved row replaced by the last observed one (the first, before any)."""
    return values[last_observed(torch.from_numpy(seen)).numpy()]


def last_observed(observed: torch.Tensor) -> torch.Tensor:
    """(..., T) bool -> (..., T) int64: the index of the latest observed frame at or before each
    frame (the first observed one before any is seen; 0 in a sequence with none)."""
    t = observed.shape[-1]
    steps = torch.arange(t, device=observed.device)
    seen = torch.where(observed, steps, -1).cummax(-1).values
    first = torch.where(observed.any(-1), observed.to(torch.uint8).argmax(-1), 0)
    return torch.where(seen < 0, first[..., None], seen)


def _average(values: np.ndarray, window: int, mode: str) -> np.ndarray:
    """Mean over the ``window`` frames centred on (offline) or ending at (online) each frame;
    the window shrinks where it would leave the sequence."""
    if window < 1:
        raise MocapHMRError(f"average: window={window}; it is at least 1 frame")
    n = len(values)
    sums = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, 0)])
    frames = np.arange(n)
    first = frames - (window // 2 if mode == "offline" else window - 1)
    last = first + window
    first, last = np.clip(first, 0, n), np.clip(last, 0, n)
    return (sums[last] - sums[first]) / (last - first)[:, None]


def _savgol(values: np.ndarray, window: int, order: int, mode: str) -> np.ndarray:
    """Savitzky-Golay: a polynomial of ``order`` fitted to the ``window`` frames centred on
    (offline) or ending at (online) each frame. A sequence shorter than the window uses the
    longest odd window it holds (the order lowered to fit)."""
    if window < 1 or window % 2 == 0 or not 0 <= order < window:
        raise MocapHMRError(f"savgol: window={window}, order={order}; the window is odd and the order below it")
    n = len(values)
    window = min(window, n if n % 2 else n - 1)
    order = min(order, window - 1)
    if window == 1:
        return values.copy()
    if mode == "offline":
        return savgol_filter(values, window, order, axis=0, mode="interp")
    coefficients = savgol_coeffs(window, order, pos=window - 1, use="dot")  # the fit's value at the window's end
    padded = np.concatenate([np.repeat(values[:1], window - 1, 0), values])
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # (N, K, window)
    return windows @ coefficients


def _one_euro(values: np.ndarray, fps: float, min_cutoff: float, beta: float, d_cutoff: float) -> np.ndarray:
    """OneEuro over time, per entry, with the speed taken per joint (9 entries together)."""
    if fps <= 0 or min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
        raise MocapHMRError(f"one-euro: fps={fps}, min_cutoff={min_cutoff}, d_cutoff={d_cutoff} must be > 0 and "
                            f"beta={beta} >= 0")

    def alpha(cutoff):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * fps)

    out = np.empty_like(values)
    out[0] = values[0]
    speed = np.zeros(values.shape[1] // 9)
    a_d = alpha(d_cutoff)
    for t in range(1, len(values)):
        rate = (values[t] - out[t - 1]) * fps
        speed = speed + a_d * (np.linalg.norm(rate.reshape(-1, 9), axis=1) - speed)
        a = np.repeat(alpha(min_cutoff + beta * speed), 9)
        out[t] = out[t - 1] + a * (values[t] - out[t - 1])
    return out
