"""Procedural human motion in AMASS's file format: the free default motion corpus and the
test corpus.

This is *not* motion capture. Every sequence is computed from a few random numbers by
hand-written rules (gait cycles, squats, jumps, sit-downs ... see ``FAMILIES``), so it is
plausible-looking human motion with none of the detail, variety or physics of recorded
motion. It lets the project run, and its tests pass, without the licensed AMASS data;
numbers measured with it say nothing about results on AMASS.

``synthesize_motion(out_dir, minutes, seed)`` writes ``out_dir/subject_XX/<family>_NNN.npz``
files, AMASS's SMPL+H layout:

    poses            float64 (N, 156)  axis-angle: root, SMPL joints 1..21, 90 finger values (0)
    trans            float64 (N, 3)    metres, Z up
    betas            float64 (16,)     one draw per subject
    dmpls            float64 (N, 8)    soft-tissue coefficients (0)
    gender           str array         'neutral' | 'male' | 'female'
    mocap_framerate  float64 ()        frames per second

Motion is generated in SMPL's Y-up frame (head +Y, facing +Z, the subject's left at +X) and
turned to AMASS's Z-up frame with ``yup_to_zup`` before writing, the translation as a vector
(J0 = 0), so that the AMASS loader, which stores the vector ``ZUP_TO_YUP trans``, gives back the
generated translation. The output is a
deterministic function of ``(minutes, seed, fps)``; a longer corpus of the same seed starts
with the sequences of a shorter one (all but the shorter one's last, which is cut to fit).

Pose semantics used throughout (SMPL, axis-angle components in radians): hip X < 0 lifts
the thigh forward; knee X > 0 bends the knee; ankle X < 0 dorsiflexes; spine, neck X > 0
bends forward; shoulder rotations take the T-pose arm (left arm along +X) to a direction
by the shortest arc, so a hanging left arm is about (0, 0, -1.2) and a right one
(0, 0, +1.2); elbow Y < 0 (left) / > 0 (right) flexes; right joints mirror left ones as
(x, -y, -z). The root is ``Ry(yaw) @ Rx(pitch) @ Rz(roll)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.atomic import atomic_write
from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.geometry.frames import yup_to_zup

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
NUM_POSE_JOINTS = 22  # the root and SMPL joints 1..21: the body part of an SMPL+H pose
AMASS_POSE_DIM = 156
NUM_BETAS = 16
NUM_DMPLS = 8
GENDERS = ("neutral", "male", "female")
SEQUENCE_SECONDS = (3.0, 20.0)
GRAVITY = 9.81

# Sagittal leg model (metres): thigh, shin, and the heel and toe points as (up, forward)
# offsets from the ankle. Standing, the root translation is STANDING_HEIGHT above the floor.
THIGH, SHIN = 0.40, 0.42
FOOT_POINTS = np.array([[-0.07, -0.05], [-0.07, 0.14]])
STANDING_HEIGHT = 0.93

# Axis-angle component bounds (lower xyz, upper xyz) of the left and centre joints; the
# right joints mirror the left ones.
_LIMITS = {
    "left_hip": ((-2.2, -0.7, -0.5), (0.6, 0.7, 1.0)),
    "left_knee": ((0.0, -0.15, -0.15), (2.5, 0.15, 0.15)),
    "left_ankle": ((-0.6, -0.4, -0.35), (0.9, 0.4, 0.35)),
    "left_foot": ((-0.5, -0.15, -0.15), (0.5, 0.15, 0.15)),
    "spine1": ((-0.35, -0.45, -0.35), (0.8, 0.45, 0.35)),
    "spine2": ((-0.3, -0.4, -0.3), (0.6, 0.4, 0.3)),
    "spine3": ((-0.3, -0.4, -0.3), (0.6, 0.4, 0.3)),
    "neck": ((-0.5, -0.8, -0.45), (0.7, 0.8, 0.45)),
    "head": ((-0.4, -0.6, -0.35), (0.5, 0.6, 0.35)),
    "left_collar": ((-0.3, -0.4, -0.3), (0.3, 0.4, 0.45)),
    "left_shoulder": ((-0.8, -2.5, -1.75), (0.8, 1.3, 1.75)),
    "left_elbow": ((-0.2, -2.5, -0.25), (0.2, 0.0, 0.25)),
    "left_wrist": ((-0.8, -0.6, -1.0), (0.8, 0.6, 1.0)),
}
_MIRROR = np.array([1.0, -1.0, -1.0])


def _joint_limits() -> np.ndarray:
    limits = np.empty((NUM_POSE_JOINTS, 3, 2))
    limits[0] = (-np.inf, np.inf)
    for name, (lo, hi) in _LIMITS.items():
        limits[J[name]] = np.stack([lo, hi], axis=-1)
        if name.startswith("left_"):
            bounds = np.sort(np.stack([np.multiply(lo, _MIRROR), np.multiply(hi, _MIRROR)]), axis=0)
            limits[J["right_" + name[5:]]] = bounds.T
    return limits


JOINT_LIMITS = _joint_limits()
"""(22, 3, 2): lower and upper bound of each axis-angle component of SMPL joints 0..21
(the root is unbounded). Every written pose lies inside."""


@dataclass(frozen=True)
class Subject:
    """One synthetic person: shape, gender and a little personal style."""

    name: str
    betas: np.ndarray  # (16,)
    gender: str
    arm_abduction: float  # hanging arms, radians away from the body
    elbow_rest: float  # radians of elbow flexion at rest
    tempo: float  # multiplies cadences and rhythms
    vigour: float  # multiplies movement amplitudes


@dataclass
class Motion:
    """One sequence in SMPL's Y-up frame. pose: (N, 22, 3) axis-angle of SMPL joints 0..21;
    trans: (N, 3) metres."""

    pose: np.ndarray
    trans: np.ndarray


# ---------------------------------------------------------------------------- signals


def _smootherstep(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero first and second derivatives at both ends; x clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6.0 * x - 15.0) + 10.0)


def _pulse(t: np.ndarray, start: float, rise: float, hold: float, fall: float) -> np.ndarray:
    """(N,) 0 until ``start``, up to 1 over ``rise`` s, 1 for ``hold`` s, down over ``fall`` s."""
    return _smootherstep((t - start) / rise) - _smootherstep((t - start - rise - hold) / fall)


def _bump(phase: np.ndarray, centre: float, kappa: float) -> np.ndarray:
    """Periodic bump in (0, 1], 1 at ``phase = 2 pi centre``; larger kappa is narrower."""
    return np.exp(kappa * (np.cos(phase - 2.0 * np.pi * centre) - 1.0))


def _smooth_noise(rng: np.random.Generator, t: np.ndarray, shape: tuple[int, ...] = (),
                  max_hz: float = 0.5, n_waves: int = 4) -> np.ndarray:
    """(N, *shape) sums of ``n_waves`` sinusoids of random frequency (max_hz / 8 .. max_hz),
    phase and amplitude, scaled to unit RMS: smooth random trajectories."""
    freq = rng.uniform(max_hz / 8.0, max_hz, (n_waves, *shape))
    phase = rng.uniform(0.0, 2.0 * np.pi, (n_waves, *shape))
    amp = rng.uniform(0.5, 1.0, (n_waves, *shape))
    tt = t.reshape(-1, *([1] * (1 + len(shape))))
    waves = amp * np.sin(2.0 * np.pi * freq * tt + phase)
    return waves.sum(1) / np.sqrt(0.5 * (amp**2).sum(0))


def _soft_clip(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Smoothly squash x into the open interval (lo, hi)."""
    mid, half = (hi + lo) / 2.0, (hi - lo) / 2.0
    return mid + half * np.tanh((x - mid) / half)


# ----------------------------------------------------------------------------- poses


def _arm_direction(swing: np.ndarray, abduction: np.ndarray) -> np.ndarray:
    """(N, 3) left-arm direction (x outwards): ``abduction`` (N,) 0 hangs down, pi/2 is the
    T-pose; ``swing`` (N,) then turns it forward (> 0) or backward (< 0) about the body's X
    axis. Meant for abductions below pi/2; above, use ``_pointing``."""
    swing, abduction = np.broadcast_arrays(swing, abduction)
    ca = np.cos(abduction)
    return np.stack([np.sin(abduction), -ca * np.cos(swing), ca * np.sin(swing)], -1)


def _pointing(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """(N, 3) left-arm direction (x outwards) from ``azimuth`` (N,) 0 straight ahead, pi/2
    out to the side, and ``elevation`` (N,) above the horizontal, radians."""
    azimuth, elevation = np.broadcast_arrays(azimuth, elevation)
    ce = np.cos(elevation)
    return np.stack([ce * np.sin(azimuth), np.sin(elevation), ce * np.cos(azimuth)], -1)


def _slerp(start: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(N, 3) unit directions along the great circle from ``start`` (3,) to ``end`` (3,) at
    ``weight`` (N,) in [0, 1]."""
    angle = np.arccos(np.clip(start @ end, -1.0, 1.0))
    if angle < 1e-6:
        return np.broadcast_to(start, (len(weight), 3)).copy()
    w = weight[:, None]
    return (np.sin((1 - w) * angle) * start + np.sin(w * angle) * end) / np.sin(angle)


def _shoulder_from_direction(direction: np.ndarray) -> np.ndarray:
    """(N, 3) left-shoulder axis-angle taking the T-pose arm (+X) to ``direction`` (N, 3)
    by the shortest arc (no twist about the arm)."""
    direction = direction / np.linalg.norm(direction, axis=-1, keepdims=True)
    cos_angle = np.clip(direction[:, 0], -1.0, 1.0)
    angle = np.arccos(cos_angle)
    sin_angle = np.sqrt(1.0 - cos_angle**2)
    scale = np.where(angle < 1e-6, 1.0, angle / np.maximum(sin_angle, 1e-12))
    axis = np.stack([np.zeros_like(angle), -direction[:, 2], direction[:, 1]], -1)
    return axis * scale[:, None]


def _set_arm(pose: np.ndarray, side: str, direction: np.ndarray, elbow: np.ndarray) -> None:
    """Point one arm along ``direction`` (N, 3), given in the left arm's convention (x
    outwards), with ``elbow`` (N,) radians of flexion."""
    shoulder = _shoulder_from_direction(direction)
    if side == "left":
        pose[:, J["left_shoulder"]] = shoulder
        pose[:, J["left_elbow"], 1] = -elbow
    else:
        pose[:, J["right_shoulder"]] = shoulder * _MIRROR
        pose[:, J["right_elbow"], 1] = elbow


def _set_leg(pose: np.ndarray, side: str, thigh_forward: np.ndarray, knee: np.ndarray,
             ankle: np.ndarray, pitch: np.ndarray, abduction: float | np.ndarray = 0.0,
             turnout: float | np.ndarray = 0.0) -> None:
    """One leg from (N,) angles: ``thigh_forward`` from the vertical (the root ``pitch`` is
    compensated), knee flexion, ankle plantarflexion (< 0 dorsiflexes), abduction and
    outward turn (radians, the same sign for both sides)."""
    sign = 1.0 if side == "left" else -1.0
    pose[:, J[f"{side}_hip"], 0] = -thigh_forward - pitch
    pose[:, J[f"{side}_hip"], 1] = sign * turnout
    pose[:, J[f"{side}_hip"], 2] = sign * abduction
    pose[:, J[f"{side}_knee"], 0] = knee
    pose[:, J[f"{side}_ankle"], 0] = ankle


def _set_spine(pose: np.ndarray, bend: np.ndarray | float = 0.0, twist: np.ndarray | float = 0.0,
               side_bend: np.ndarray | float = 0.0) -> None:
    """Spread a total forward bend, twist (to the left > 0) and side bend (N,) over spine1..3."""
    for name, share in (("spine1", 0.4), ("spine2", 0.3), ("spine3", 0.3)):
        pose[:, J[name]] += share * np.stack(np.broadcast_arrays(bend, twist, side_bend), -1)


def _standing(rng: np.random.Generator, t: np.ndarray, subject: Subject) -> np.ndarray:
    """(N, 22, 3) a relaxed standing pose (arms hanging) with slow postural sway."""
    n = len(t)
    pose = np.zeros((n, NUM_POSE_JOINTS, 3))
    for side in ("left", "right"):
        abduction = subject.arm_abduction + 0.04 * _smooth_noise(rng, t, max_hz=0.3)
        swing = 0.05 * _smooth_noise(rng, t, max_hz=0.3)
        elbow = subject.elbow_rest + 0.05 * _smooth_noise(rng, t, max_hz=0.3)
        _set_arm(pose, side, _arm_direction(swing, abduction), elbow)
    for name, amplitude in (("spine1", 0.02), ("spine2", 0.015), ("neck", 0.04), ("head", 0.03),
                            ("left_collar", 0.02), ("right_collar", 0.02),
                            ("left_wrist", 0.08), ("right_wrist", 0.08)):
        pose[:, J[name]] += amplitude * _smooth_noise(rng, t, (3,), max_hz=0.4)
    return pose


def _head_steady(pose: np.ndarray, pitch: np.ndarray | float, twist: np.ndarray | float = 0.0,
                 share: float = 0.6) -> None:
    """Turn the neck against a body pitch and trunk twist (N,) so the gaze stays level."""
    pose[:, J["neck"], 0] -= share * np.asarray(pitch)
    pose[:, J["neck"], 1] -= share * np.asarray(twist)


# ------------------------------------------------------------------- placing the body


def _root_axis_angle(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 3) axis-angle of ``Ry(yaw) @ Rx(pitch) @ Rz(roll)``; yaw, pitch, roll (N,)."""
    zero = np.zeros_like(yaw)
    r = [axis_angle_to_matrix(torch.from_numpy(np.stack(a, -1)))
         for a in ((zero, yaw, zero), (pitch, zero, zero), (zero, zero, roll))]
    return matrix_to_axis_angle(r[0] @ r[1] @ r[2]).numpy()


def _foot_points(pose: np.ndarray, side: str, pitch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heel and toe of one foot relative to its hip in the sagittal plane, from the pose:
    heights (N, 2) and forward offsets (N, 2), metres."""
    thigh = pitch + pose[:, J[f"{side}_hip"], 0]  # > 0: the leg swings backward
    shank = thigh + pose[:, J[f"{side}_knee"], 0]
    foot = shank + pose[:, J[f"{side}_ankle"], 0]
    spread = np.cos(pose[:, J[f"{side}_hip"], 2])
    ankle_y = -(THIGH * np.cos(thigh) + SHIN * np.cos(shank)) * spread
    ankle_z = -(THIGH * np.sin(thigh) + SHIN * np.sin(shank))
    c, s = np.cos(foot)[:, None], np.sin(foot)[:, None]
    up, forward = FOOT_POINTS[:, 0], FOOT_POINTS[:, 1]
    return ankle_y[:, None] + up * c - forward * s, ankle_z[:, None] + up * s + forward * c


def _stance(phase: np.ndarray, duty: float, sharpness: float = 0.03) -> np.ndarray:
    """(N,) about 1 while a foot is on the ground in a gait cycle (from touch-down at phase 0
    to toe-off at ``duty`` of the cycle), about 0 in the air; smooth and periodic."""
    half = np.pi * duty
    return 1.0 / (1.0 + np.exp(-(np.cos(phase - half) - np.cos(half)) / sharpness))


def _moving_average(x: np.ndarray, frames: int) -> np.ndarray:
    """(N,) mean of ``x`` (N,) over ``frames`` around each frame, edges repeated."""
    frames = max(1, min(frames, len(x)))
    padded = np.pad(x, (frames // 2, frames - 1 - frames // 2), mode="edge")
    return np.convolve(padded, np.full(frames, 1.0 / frames), mode="valid")


def _ballistic_fill(height: np.ndarray, airborne: np.ndarray, fps: float) -> np.ndarray:
    """Replace ``height`` (N,) on ``airborne`` (N,) frames by free-fall arcs joining the
    supported frames on both sides (a sequence that starts or ends in the air gets an arc
    symmetric about its first or last frame)."""
    n = len(height)
    index = np.arange(n)
    before = np.maximum.accumulate(np.where(airborne, -1, index))
    after = np.minimum.accumulate(np.where(airborne, n, index)[::-1])[::-1]
    t_before = np.where(before >= 0, before, -after).astype(float) / fps
    t_after = np.where(after < n, after, 2 * (n - 1) - before).astype(float) / fps
    h_before = height[np.where(before >= 0, before, after).clip(0, n - 1)]
    h_after = height[np.where(after < n, after, before).clip(0, n - 1)]
    t = index / fps
    span = np.maximum(t_after - t_before, 1e-9)
    arc = h_before + (h_after - h_before) * (t - t_before) / span + GRAVITY / 2 * (t - t_before) * (t_after - t)
    return np.where(airborne, arc, height)


def _ground(pose: np.ndarray, pitch: np.ndarray, fps: float, support: np.ndarray,
            softness: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Root height change from standing and forward speed (N,) that keep the lowest heel or
    toe points of the supporting feet planted; a soft minimum blends the support from one
    point to another. support: (N, 2) how much the left and right foot may carry the body
    (0 in the air). Also returns the airborne frames (N,) bool, where no foot carries; their
    height and speed are left to the caller."""
    points = [_foot_points(pose, side, pitch) for side in ("left", "right")]
    y = np.concatenate([p[0] for p in points], 1)  # (N, 4): left heel, toe, right heel, toe
    z = np.concatenate([p[1] for p in points], 1)
    weight = np.repeat(support, 2, axis=1) * np.exp(-(y - y.min(1, keepdims=True)) / softness)
    total = weight.sum(1, keepdims=True)
    airborne = support.sum(1) < 1e-2
    weight = weight / np.maximum(total, 1e-300)
    height = -(weight * y).sum(1) - (THIGH + SHIN - FOOT_POINTS[0, 0])
    speed = -(weight * np.gradient(z, axis=0)).sum(1) * fps
    return height, speed, airborne


def _place(pose: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray, fps: float,
           start: np.ndarray, heading: np.ndarray | None = None, support: np.ndarray | None = None,
           air_speed: np.ndarray | None = None, sway: np.ndarray | float = 0.0,
           speed_window: float = 0.0, forward_only: bool = False) -> Motion:
    """Clip the pose to the joint limits, put in the root and place the body in the world.

    The supporting feet carry the body (``_ground``; ``support`` (N, 2), default both feet
    always) along ``heading`` (N,), default ``yaw``; with no foot on the ground the body
    flies a free-fall arc at ``air_speed`` (N,) m/s forward, default its last ground speed.
    The forward speed is averaged over ``speed_window`` seconds (a stride, say), after
    dropping its backward part if ``forward_only``; ``sway`` (N,) shifts the body sideways
    (metres, to its left). ``start``: (2,) x, z of frame 0.
    """
    pose = np.clip(pose, JOINT_LIMITS[:, :, 0], JOINT_LIMITS[:, :, 1])
    if support is None:
        support = np.ones((len(pose), 2))
    height, speed, airborne = _ground(pose, pitch, fps, support)
    if airborne.any():
        height = _ballistic_fill(height, airborne, fps)
        if air_speed is None:
            air_speed = speed[np.maximum.accumulate(np.where(airborne, 0, np.arange(len(pose))))]
        speed = np.where(airborne, air_speed, speed)
    if forward_only:
        speed = np.maximum(speed, 0.0)
    speed = _moving_average(speed, round(speed_window * fps))
    heading = yaw if heading is None else heading
    forward = np.stack([np.sin(heading), np.cos(heading)], -1)
    left = np.stack([np.cos(heading), -np.sin(heading)], -1)
    step = speed[:, None] * forward / fps
    xz = start + np.concatenate([np.zeros((1, 2)), np.cumsum(step[:-1], 0)]) + np.asarray(sway)[..., None] * left
    pose[:, 0] = _root_axis_angle(yaw, pitch, roll)
    return Motion(pose, np.stack([xz[:, 0], STANDING_HEIGHT + height, xz[:, 1]], -1))


def _start(rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """A random heading (radians) and floor position (2,) to start from."""
    return rng.uniform(-np.pi, np.pi), rng.uniform(-1.5, 1.5, 2)


# --------------------------------------------------------------------------- families


def _gait(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject, running: bool
          ) -> Motion:
    """Walking or running: hip, knee and ankle cycles (von Mises bumps at the gait events,
    touch-down at phase 0), opposite arm swing, pelvis rotation and sway, each foot carrying
    the body during its stance only (running has flight phases)."""
    n, v = len(t), subject.vigour
    if running:
        cadence = rng.uniform(2.5, 3.0)  # steps per second
        hip_flex, hip_ext, hip_peak = v * rng.uniform(0.55, 0.75), v * rng.uniform(0.25, 0.4), -0.08
        knee_base, knee_stance, knee_swing = 0.15, rng.uniform(0.35, 0.55), v * rng.uniform(1.4, 1.9)
        duty, stance_at, swing_at, dorsi_at, push_at, push = 0.36, 0.17, 0.62, 0.17, 0.36, 0.35
        arm_swing, elbow = v * rng.uniform(0.4, 0.7), rng.uniform(1.2, 1.6)
        lean, sway = rng.uniform(0.08, 0.18), 0.01
    else:
        cadence = rng.uniform(1.6, 2.1)
        hip_flex, hip_ext, hip_peak = v * rng.uniform(0.35, 0.5), v * rng.uniform(0.12, 0.25), -0.03
        knee_base, knee_stance, knee_swing = 0.03, rng.uniform(0.1, 0.25), v * rng.uniform(0.9, 1.15)
        duty, stance_at, swing_at, dorsi_at, push_at, push = 0.6, 0.12, 0.72, 0.4, 0.6, 0.3
        arm_swing, elbow = v * rng.uniform(0.15, 0.45), rng.uniform(0.15, 0.5)
        lean, sway = rng.uniform(0.0, 0.08), rng.uniform(0.01, 0.03)
    cadence *= subject.tempo * (1.0 + 0.05 * _smooth_noise(rng, t, max_hz=0.2))
    envelope = np.ones(n)
    duration = n / fps
    if not running and duration > 5.0:  # sometimes start from standing, sometimes stop
        if rng.random() < 0.3:
            envelope *= _smootherstep((t - 0.5) / 1.2)
        if rng.random() < 0.3:
            envelope *= 1.0 - _smootherstep((t - duration + 2.0) / 1.2)
    phase = rng.uniform(0, 2 * np.pi) + 2.0 * np.pi * np.cumsum(cadence / 2.0) / fps
    heading0, start = _start(rng)
    turn_rate = rng.uniform(0.0, 0.35) * _smooth_noise(rng, t, max_hz=0.15)
    heading = heading0 + np.cumsum(turn_rate) / fps
    pitch = lean * envelope
    pose = _standing(rng, t, subject)
    support = np.empty((n, 2))
    for k, (side, ph) in enumerate((("left", phase), ("right", phase + np.pi))):
        thigh = (hip_flex - hip_ext) / 2.0 + (hip_flex + hip_ext) / 2.0 * np.cos(ph - 2 * np.pi * hip_peak)
        knee = knee_base + knee_stance * _bump(ph, stance_at, 8.0) + knee_swing * _bump(ph, swing_at, 2.0)
        ankle = push * _bump(ph, push_at, 10.0) - 0.15 * _bump(ph, dorsi_at, 4.0)
        _set_leg(pose, side, envelope * thigh, envelope * knee, envelope * ankle, pitch)
        support[:, k] = 1.0 - envelope * (1.0 - _stance(ph, duty))
        opposite = np.cos(ph + np.pi)  # this arm swings with the other leg
        swing = envelope * arm_swing * opposite
        arm_elbow = elbow + envelope * 0.25 * arm_swing * (1.0 + opposite)
        _set_arm(pose, side, _arm_direction(swing, subject.arm_abduction + 0.05), arm_elbow)
    pelvis_turn = -envelope * rng.uniform(0.05, 0.12) * np.cos(phase)
    trunk_twist = -1.3 * pelvis_turn
    _set_spine(pose, bend=0.5 * pitch, twist=trunk_twist)
    _head_steady(pose, 1.5 * pitch, pelvis_turn + trunk_twist)
    roll = envelope * 0.04 * np.sin(phase)
    return _place(pose, heading + pelvis_turn, pitch, roll, fps, start, heading=heading, support=support,
                  sway=envelope * sway * np.sin(phase), speed_window=1.0 / np.mean(cadence), forward_only=True)


def walk(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Walking: cadence 1.6-2.1 steps/s, hip range 0.47-0.75 rad, swing knee 0.9-1.15 rad,
    stance 60% of the cycle, arm swing 0.15-0.45 rad, a slowly wandering heading; 30% start
    from standing, 30% stop."""
    return _gait(rng, t, fps, subject, running=False)


def run(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Running: cadence 2.5-3.0 steps/s, hip range 0.8-1.15 rad, swing knee 1.4-1.9 rad,
    stance 36% of the cycle (so a flight phase), elbows bent 1.2-1.6 rad, forward lean."""
    return _gait(rng, t, fps, subject, running=True)


def _time_scale(cursor: float, length: float, end: float, first: bool) -> float:
    """How much to scale an event of ``length`` s starting at ``cursor`` to end by ``end``:
    1 when it fits, down to 0.6 for a sequence's first event, 0 when it does not fit."""
    room = end - cursor
    if length <= room:
        return 1.0
    return room / length if first and 0.6 * length <= room else 0.0


def _squat_legs(pose: np.ndarray, depth: np.ndarray, thigh_max: float, shin_max: float,
                pitch: np.ndarray, abduction: float = 0.0, turnout: float = 0.0) -> None:
    """Both feet flat and planted while the hips sink: depth (N,) in [0, 1] scales the thigh
    (forward from vertical) and shin (forward lean) angles; the ankles keep the feet flat."""
    thigh, shin = depth * thigh_max, depth * shin_max
    for side in ("left", "right"):
        _set_leg(pose, side, thigh, thigh + shin, -shin, pitch, abduction, turnout)


def squat(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Repeated squats: depth (thigh 0.7-1.5 rad from vertical), down 0.8-1.6 s, hold,
    up 0.7-1.4 s, rests; trunk lean with depth; arms forward, on the hips or hanging;
    sometimes a wide, turned-out stance."""
    thigh_max, shin_max = rng.uniform(0.7, 1.5), rng.uniform(0.3, 0.55)
    lean_max = rng.uniform(0.15, 0.45) * thigh_max / 1.5
    wide = rng.random() < 0.3
    abduction, turnout = (rng.uniform(0.15, 0.35), rng.uniform(0.2, 0.5)) if wide else (0.0, 0.0)
    arms = rng.choice(["forward", "hips", "hanging"])
    depth = np.zeros_like(t)
    cursor = rng.uniform(0.0, 1.0)
    first = True
    while True:
        down, hold, up = rng.uniform(0.8, 1.6), rng.uniform(0.0, 0.8), rng.uniform(0.7, 1.4)
        scale = _time_scale(cursor, down + hold + up, t[-1], first)
        if scale == 0.0:
            break
        down, hold, up = scale * down, scale * hold, scale * up
        depth += rng.uniform(0.7, 1.0) * _pulse(t, cursor, down, hold, up)
        cursor += down + hold + up + rng.uniform(0.2, 1.5)
        first = False
    heading, start = _start(rng)
    pitch = lean_max * depth
    pose = _standing(rng, t, subject)
    _squat_legs(pose, depth, thigh_max, shin_max, pitch, abduction, turnout)
    _set_spine(pose, bend=0.2 * depth)
    _head_steady(pose, pitch + 0.2 * depth, share=0.5)
    for side in ("left", "right"):
        if arms == "forward":
            direction = _arm_direction(1.45 * depth, subject.arm_abduction * (1 - depth))
            elbow = subject.elbow_rest * (1 - depth)
        elif arms == "hips":
            direction = _arm_direction(np.full_like(t, -0.35), np.full_like(t, 0.6))
            elbow = np.full_like(t, 1.7)
        else:
            direction = _arm_direction(0.4 * depth, np.full_like(t, subject.arm_abduction))
            elbow = subject.elbow_rest + 0.3 * depth
        _set_arm(pose, side, direction, elbow)
    yaw = heading + 0.03 * _smooth_noise(rng, t, max_hz=0.2)
    return _place(pose, yaw, pitch, np.zeros_like(t), fps, start)


def jump(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Jumps: a crouch (thigh 0.8-1.3 rad from vertical) in 0.4-0.7 s, a 0.16-0.35 s push
    accelerating the hips evenly to the take-off speed, a free-fall flight (aiming at
    0.1-0.45 m high; half the time up to 0.8 m forward, 30% turning up to 90 degrees, 30%
    tucked), a landing that absorbs into a crouch at the landing speed; arms swing back,
    then forward and up; rests between jumps."""
    heading0, start = _start(rng)
    thigh_max, shin_max = rng.uniform(0.8, 1.3), rng.uniform(0.35, 0.55)
    crouch = np.zeros_like(t)  # 0 standing, 1 full crouch
    arms_back = np.zeros_like(t)
    arms_up = np.zeros_like(t)
    glide = np.zeros_like(t)
    tuck = np.zeros_like(t)
    lean = np.zeros_like(t)
    air_arc = np.zeros_like(t)  # 0 at take-off and landing, 1 at the top
    support = np.ones((len(t), 2))
    heading = np.full_like(t, heading0)
    cursor = rng.uniform(0.3, 1.0)
    first = True
    drop = THIGH + SHIN - THIGH * np.cos(thigh_max) - SHIN * np.cos(shin_max)
    while True:
        depth, land_depth = rng.uniform(0.7, 1.0), rng.uniform(0.4, 0.8)
        # the hips rise depth * drop with an even acceleration up to the take-off speed
        wanted_speed = np.sqrt(2.0 * GRAVITY * subject.vigour * rng.uniform(0.1, 0.45))
        push = np.clip(2.0 * depth * drop / wanted_speed, 0.16, 0.35)
        takeoff_speed = 2.0 * depth * drop / push
        flight = 2.0 * takeoff_speed / GRAVITY
        absorb = 2.0 * land_depth * drop / takeoff_speed
        down = rng.uniform(0.4, 0.7)
        hold, recover = rng.uniform(0.1, 0.4), rng.uniform(0.4, 0.8)
        scale = _time_scale(cursor + push + flight + absorb, down + hold + recover, t[-1], first)
        if scale == 0.0:
            break
        down, hold, recover = scale * down, scale * hold, scale * recover
        bottom, takeoff = cursor + down, cursor + down + push
        landing = takeoff + flight
        u = (t - cursor) / down
        crouch += np.where((u >= 0) & (u < 1), depth * _smootherstep(u), 0.0)
        u = (t - bottom) / push
        crouch += np.where((u >= 0) & (u < 1), depth * (1 - u * u), 0.0)
        u = (t - landing) / absorb
        crouch += np.where((u >= 0) & (u < 1), land_depth * u * (2 - u), 0.0)
        u = (t - landing - absorb - hold) / recover
        crouch += np.where((t >= landing + absorb) & (u < 1), land_depth * (1 - _smootherstep(u)), 0.0)
        arms_back += _pulse(t, cursor, 0.7 * down, 0.0, 0.3 * down + push)
        up_swing = max(0.45, push + 0.3 * down + 0.1)
        arms_up += rng.uniform(0.5, 1.0) * _pulse(t, takeoff + 0.1 - up_swing, up_swing,
                                                  max(flight - 0.1, 0.0), absorb + hold + 0.3)
        in_air = (t >= takeoff) & (t < landing)
        support[in_air] = 0.0
        tau = np.where(in_air, t - takeoff, 0.0)
        arc = np.where(in_air, np.sin(np.pi * tau / flight), 0.0)
        air_arc += arc
        tuck += rng.uniform(0.0, 0.8) * (rng.random() < 0.3) * arc
        distance = rng.uniform(0.0, 0.8) * (rng.random() < 0.5)
        glide += np.where(in_air, distance / flight, 0.0)
        lean += 0.2 * distance * _pulse(t, cursor, down, push + flight, absorb + hold + recover)
        heading += rng.uniform(-1.0, 1.0) * np.pi / 2 * (rng.random() < 0.3) * _smootherstep(
            (t - takeoff) / flight)
        cursor = landing + absorb + hold + recover + rng.uniform(0.3, 1.5)
        first = False
    pitch = 0.35 * crouch + lean
    pose = _standing(rng, t, subject)
    _squat_legs(pose, crouch, thigh_max, shin_max, pitch)
    for side in ("left", "right"):
        pose[:, J[f"{side}_hip"], 0] -= 0.8 * tuck
        pose[:, J[f"{side}_knee"], 0] += 1.2 * tuck + 0.15 * air_arc
        pose[:, J[f"{side}_ankle"], 0] += 0.4 * air_arc
        swing = -0.7 * arms_back + 2.6 * arms_up
        _set_arm(pose, side, _arm_direction(swing, subject.arm_abduction * (1 - arms_up)),
                 subject.elbow_rest + 0.4 * arms_back)
    _set_spine(pose, bend=0.25 * crouch)
    _head_steady(pose, pitch, share=0.5)
    return _place(pose, heading, pitch, np.zeros_like(t), fps, start, support=support, air_speed=glide)


def sit(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Sitting down on an unseen chair: stand 0.5-2 s, sit over 1.2-2.2 s (thigh to
    1.4-1.65 rad, knees to about 90 degrees, the pelvis lowering about 0.4 m and moving back
    over the planted feet while the trunk leans 0.4-0.7 rad forward and straightens), sit
    with small head and arm movements, and often stand up again."""
    stand, down, up = rng.uniform(0.5, 2.0), rng.uniform(1.2, 2.2), rng.uniform(1.0, 2.0)
    thigh_max, shin_max = rng.uniform(1.4, 1.65), rng.uniform(0.0, 0.25)
    lean_peak, seat_lean = rng.uniform(0.4, 0.7), rng.uniform(-0.1, 0.12)
    stands_up = rng.random() < 0.6
    seconds = t[-1]
    scale = min(1.0, seconds / (stand + down + 0.5))
    stand, down = stand * scale, down * scale
    seated = seconds - stand - down - up - rng.uniform(0.5, 1.5)
    if not stands_up or seated < 1.5:
        seated, up = 2.0 * seconds, 1.0
    seat = _pulse(t, stand, down, seated, up)
    lean = lean_peak * (np.sin(np.pi * np.clip((t - stand) / down, 0, 1)) ** 2
                        + np.sin(np.pi * np.clip((t - stand - down - seated) / up, 0, 1)) ** 2)
    pitch = lean + seat_lean * seat
    heading, start = _start(rng)
    pose = _standing(rng, t, subject)
    _squat_legs(pose, seat, thigh_max, shin_max, pitch)
    _set_spine(pose, bend=0.15 * lean)
    _head_steady(pose, pitch, share=0.4)
    pose[:, J["neck"]] += 0.1 * seat[:, None] * _smooth_noise(rng, t, (3,), max_hz=0.3)
    gesture = (rng.random() < 0.5) * seat**2
    for side in ("left", "right"):
        swing = 0.5 * seat + 0.3 * gesture * _smooth_noise(rng, t, max_hz=0.5)
        abduction = subject.arm_abduction * (1.0 - 0.4 * seat)
        elbow = subject.elbow_rest + 0.7 * seat + 0.4 * gesture * (1 + _smooth_noise(rng, t, max_hz=0.5))
        _set_arm(pose, side, _arm_direction(swing, abduction), elbow)
    return _place(pose, np.full_like(t, heading), pitch, np.zeros_like(t), fps, start)


def reach(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Reaching: one arm (sometimes both) reaches out in 0.7-1.4 s toward a target at
    azimuth -0.5..1.2 rad (0 ahead, > 0 to that arm's side) and elevation -1.0..1.2 rad,
    holds, and comes back; the elbow bends on the way and straightens at the target; the
    trunk leans and the knees bend for low targets; the trunk twists and the head looks
    toward the target."""
    heading, start = _start(rng)
    rest = _arm_direction(np.zeros_like(t), np.full_like(t, subject.arm_abduction))
    offset = {"left": np.zeros((len(t), 3)), "right": np.zeros((len(t), 3))}
    extent = {"left": np.zeros_like(t), "right": np.zeros_like(t)}
    bend, hinge, twist = np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)
    look_down, look_side = np.zeros_like(t), np.zeros_like(t)
    cursor = rng.uniform(0.2, 1.0)
    first = True
    while True:
        sides = [("left",), ("right",), ("left", "right")][rng.choice(3, p=[0.42, 0.42, 0.16])]
        azimuth, elevation = rng.uniform(-0.5, 1.2), rng.uniform(-1.0, 1.2)
        target = _pointing(np.array([azimuth]), np.array([elevation]))[0]
        arc = np.arccos(np.clip(rest[0] @ target, -1.0, 1.0))
        out, hold = max(rng.uniform(0.7, 1.4), 0.45 * arc), rng.uniform(0.2, 1.0)
        back = max(rng.uniform(0.7, 1.4), 0.45 * arc)
        scale = _time_scale(cursor, out + hold + back, t[-1], first)
        if scale == 0.0:
            break
        weight = _pulse(t, cursor, scale * out, scale * hold, scale * back)
        for side in sides:
            offset[side] += _slerp(rest[0], target, weight) - rest
            extent[side] += weight
        low = max(0.0, -elevation)
        bend += weight * (0.1 + 0.5 * low)
        hinge += weight * 0.4 * low
        toward = 0.0 if len(sides) == 2 else (1.0 if sides[0] == "left" else -1.0)
        twist += weight * 0.35 * azimuth * toward
        look_side += weight * 0.5 * azimuth * toward
        look_down += weight * 0.3 * -elevation
        cursor += scale * (out + hold + back) + rng.uniform(0.2, 1.0)
        first = False
    pose = _standing(rng, t, subject)
    pitch = hinge
    _squat_legs(pose, hinge, 0.8, 0.35, pitch)
    _set_spine(pose, bend=bend, twist=twist)
    pose[:, J["neck"], 0] += look_down - 0.5 * (pitch + bend)
    pose[:, J["neck"], 1] += look_side - 0.5 * twist
    for side in ("left", "right"):
        w = extent[side]
        elbow = subject.elbow_rest * (1 - w) + 0.1 * w + 2.4 * w * (1 - w)
        _set_arm(pose, side, rest + offset[side], elbow)
    return _place(pose, np.full_like(t, heading), pitch, np.zeros_like(t), fps, start)


def turn(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Turning on the spot: turns of 0.6-3.2 rad either way over 1.0-2.2 s (longer for
    larger turns), stepping in place while turning (knee lift 0.25-0.5 rad, 1.6-2.2 steps/s),
    the head and trunk leading the turn, pauses between turns."""
    heading0, start = _start(rng)
    yaw = np.full_like(t, heading0)
    activity = np.zeros_like(t)
    cursor = rng.uniform(0.3, 1.5)
    first = True
    while True:
        delta = rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 3.2)
        length = max(rng.uniform(1.0, 2.2), 0.45 * abs(delta))
        scale = _time_scale(cursor, length, t[-1], first)
        if scale == 0.0:
            break
        length *= scale
        yaw += delta * _smootherstep((t - cursor) / length)
        activity += _pulse(t, cursor - 0.1, 0.35, max(length - 0.5, 0.0), 0.35)
        cursor += length + rng.uniform(0.4, 2.0)
        first = False
    step_rate, knee_lift = rng.uniform(1.6, 2.2) * subject.tempo, rng.uniform(0.25, 0.5)
    phase = 2.0 * np.pi * np.cumsum(activity * step_rate / 2.0) / fps
    pose = _standing(rng, t, subject)
    zero = np.zeros_like(t)
    for side, ph in (("left", phase), ("right", phase + np.pi)):
        lift = activity * knee_lift * _bump(ph, 0.25, 3.0)
        _set_leg(pose, side, lift, 1.7 * lift, -0.3 * lift, zero)
        swing = 0.15 * activity * np.cos(ph + np.pi)
        _set_arm(pose, side, _arm_direction(swing, np.full_like(t, subject.arm_abduction)),
                 subject.elbow_rest + 0.2 * activity)
    lead = np.clip(np.interp(t + 0.3, t, yaw) - yaw, -0.9, 0.9)
    _set_spine(pose, twist=0.3 * lead)
    pose[:, J["neck"], 1] += 0.45 * lead
    pose[:, J["head"], 1] += 0.3 * lead
    return _place(pose, yaw, zero, zero, fps, start)


def arm_swing(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Standing arm exercises, one pattern per sequence, arms together or alternating:
    forward-backward swings (0.4-1.4 rad forward, 0.3-0.6 back, 0.4-1.2 Hz), side raises (up to 1.2-2.8 rad,
    0.3-0.8 Hz), circles (radius 0.2-0.6 rad around a point in front or to the side,
    0.4-1.2 Hz) or horizontal swings in front of the chest (0.4-1.0 Hz); a light knee
    bounce in time; a 0.3-1 s fade in."""
    pattern = rng.choice(["forward_back", "side_raise", "circles", "horizontal"])
    freq = {"forward_back": (0.4, 1.2), "side_raise": (0.3, 0.8), "circles": (0.4, 1.2),
            "horizontal": (0.4, 1.0)}[pattern]
    omega = 2.0 * np.pi * rng.uniform(*freq) * subject.tempo
    alternate = rng.random() < 0.5
    envelope = _smootherstep(t / rng.uniform(0.3, 1.0))
    forward, backward = subject.vigour * rng.uniform(0.4, 1.4), rng.uniform(0.3, 0.6)
    top = rng.uniform(1.2, 2.8)
    centre_azimuth, centre_elevation = rng.uniform(0.3, 1.5), rng.uniform(-0.3, 0.4)
    radius = rng.uniform(0.2, 0.6)
    rest = _arm_direction(np.zeros_like(t), np.full_like(t, subject.arm_abduction))
    phase0 = rng.uniform(0, 2 * np.pi)
    pose = _standing(rng, t, subject)
    for side, offset in (("left", 0.0), ("right", np.pi if alternate else 0.0)):
        ph = omega * t + phase0 + offset
        if pattern == "forward_back":
            swing = (forward - backward) / 2 + (forward + backward) / 2 * np.sin(ph)
            target = _arm_direction(swing, np.full_like(t, subject.arm_abduction))
        elif pattern == "side_raise":
            raise_to = subject.arm_abduction + (top - subject.arm_abduction) * (1 - np.cos(ph)) / 2
            target = _pointing(np.pi / 2 - 0.25, raise_to - np.pi / 2)
        elif pattern == "circles":
            target = _pointing(centre_azimuth + radius * np.cos(ph), centre_elevation + radius * np.sin(ph))
        else:
            target = _pointing(0.75 + 0.75 * np.sin(ph), np.full_like(t, -0.1))
        elbow = subject.elbow_rest + 0.15 * envelope * (1 + np.sin(ph))
        _set_arm(pose, side, rest + envelope[:, None] * (target - rest), elbow)
    bounce = envelope * rng.uniform(0.0, 0.15) * (1 - np.cos(2 * omega * t)) / 2
    zero = np.zeros_like(t)
    _squat_legs(pose, bounce, 0.5, 0.3, zero)
    heading, start = _start(rng)
    return _place(pose, heading + 0.03 * _smooth_noise(rng, t, max_hz=0.2), zero, zero, fps, start)


def _dance_section(rng: np.random.Generator, t: np.ndarray, beat: float) -> dict[str, np.ndarray]:
    """One dance move: (N,) signals, each a sum of sinusoids at 1/4, 1/2 or 1 times the beat
    (Hz) with random phases."""
    def draw(amplitude: float, base: float = 0.0) -> tuple[float, float, float, float]:
        return base, amplitude, rng.choice([0.25, 0.5, 1.0]), rng.uniform(0, 2 * np.pi)

    def wave(params: tuple[float, float, float, float], shift: float = 0.0) -> np.ndarray:
        base, amplitude, multiple, phase = params
        return base + amplitude * np.sin(2 * np.pi * multiple * beat * t + phase + shift)

    mode = rng.choice(["mirror", "alternate", "free"])
    arm = {"azimuth": draw(rng.uniform(0.2, 0.8), rng.uniform(0.4, 1.6)),
           "elevation": draw(rng.uniform(0.2, 0.9), rng.uniform(-1.2, 0.3)),
           "elbow": draw(rng.uniform(0.2, 0.7), rng.uniform(0.4, 1.6))}
    move = {}
    for part, params in arm.items():
        move[f"left_{part}"] = wave(params)
        if mode == "free":
            params = draw(rng.uniform(0.1, 0.6), params[0])
        move[f"right_{part}"] = wave(params, np.pi if mode == "alternate" else 0.0)
    move.update(bend=wave(draw(rng.uniform(0.0, 0.2), 0.05)), twist=wave(draw(rng.uniform(0.0, 0.35))),
                side_bend=wave(draw(rng.uniform(0.0, 0.2))), nod=wave(draw(rng.uniform(0.0, 0.2))),
                look=wave(draw(rng.uniform(0.0, 0.4))), yaw=wave(draw(rng.uniform(0.0, 0.6))),
                shift=wave(draw(rng.uniform(0.0, 0.08))),
                bounce=rng.uniform(0.2, 0.8) * (1 - np.cos(2 * np.pi * beat * t)) / 2)
    step, step_phase = rng.uniform(0.0, 0.35) * (rng.random() < 0.6), np.pi * beat * t + rng.uniform(0, 2 * np.pi)
    move.update(left_lift=step * _bump(step_phase, 0.0, 4.0), right_lift=step * _bump(step_phase, 0.5, 4.0))
    return move


def dance(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Dance-like moves to a beat of 90-130 bpm: sections of 4-8 bars, each a new set of
    phase-shifted sinusoids at 1/4, 1/2 or 1 times the beat on both arms (mirrored,
    alternating or free), the spine, the neck and the root yaw, with a knee bounce on the
    beat, side-to-side weight shifts and often alternating steps every beat; 1 s crossfades
    between sections."""
    beat = rng.uniform(90, 130) / 60.0 * subject.tempo
    starts = [0.0]
    while starts[-1] < t[-1]:
        starts.append(starts[-1] + 4 * rng.integers(4, 9) / beat)
    fade = 1.0
    moves = [_dance_section(rng, t, beat) for _ in starts[:-1]]
    signals = {key: np.zeros_like(t) for key in moves[0]}
    for k, move in enumerate(moves):
        weight = 1.0 - _smootherstep((t - starts[k + 1] + fade / 2) / fade)
        if k > 0:
            weight = weight - (1.0 - _smootherstep((t - starts[k] + fade / 2) / fade))
        for key in signals:
            signals[key] += weight * move[key]
    pose = _standing(rng, t, subject)
    for side in ("left", "right"):
        direction = _pointing(_soft_clip(signals[f"{side}_azimuth"], -0.4, 2.0),
                              _soft_clip(signals[f"{side}_elevation"], -1.4, 1.4))
        _set_arm(pose, side, direction, _soft_clip(signals[f"{side}_elbow"], 0.0, 2.2))
    zero = np.zeros_like(t)
    _squat_legs(pose, signals["bounce"], 0.6, 0.35, zero)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pose[:, J[f"{side}_hip"], 0] -= 0.7 * signals[f"{side}_lift"]
        pose[:, J[f"{side}_knee"], 0] += 1.4 * signals[f"{side}_lift"]
        pose[:, J[f"{side}_hip"], 2] += sign * 0.08 + 1.5 * signals["shift"]
    _set_spine(pose, bend=signals["bend"], twist=signals["twist"], side_bend=signals["side_bend"])
    pose[:, J["neck"], 0] += signals["nod"]
    pose[:, J["neck"], 1] += signals["look"] - 0.5 * signals["twist"]
    heading, start = _start(rng)
    roll = -0.8 * signals["shift"]
    return _place(pose, heading + signals["yaw"], zero, roll, fps, start,
                  heading=np.full_like(t, heading), sway=-signals["shift"])


def random_joints(rng: np.random.Generator, t: np.ndarray, fps: float, subject: Subject) -> Motion:
    """Smooth random joint trajectories: every axis-angle component of SMPL joints 1..21 is
    the relaxed standing pose plus a sum of four sinusoids (0.08-0.6 Hz), amplitude 0.3-0.7
    of the joint's range (times 0.35 for the legs, 0.6 for the spine), squashed smoothly
    into a comfortable 60% of the way from the standing pose to each joint limit; slow
    random root yaw, pitch and roll; the feet carry the body."""
    rest = np.zeros((1, NUM_POSE_JOINTS, 3))
    one = np.ones(1)
    for side in ("left", "right"):
        _set_arm(rest, side, _arm_direction(0 * one, subject.arm_abduction * one), subject.elbow_rest * one)
    lo = rest[0, 1:] + 0.6 * (JOINT_LIMITS[1:, :, 0] - rest[0, 1:])
    hi = rest[0, 1:] + 0.6 * (JOINT_LIMITS[1:, :, 1] - rest[0, 1:])
    amplitude = rng.uniform(0.3, 0.7) * (hi - lo) / 2.0
    legs = [J[f"{side}_{part}"] - 1 for side in ("left", "right") for part in ("hip", "knee", "ankle", "foot")]
    amplitude[legs] *= 0.35
    amplitude[[J[name] - 1 for name in ("spine1", "spine2", "spine3")]] *= 0.6
    pose = np.zeros((len(t), NUM_POSE_JOINTS, 3))
    noise = _smooth_noise(rng, t, (NUM_POSE_JOINTS - 1, 3), max_hz=0.6)
    pose[:, 1:] = _soft_clip(rest[:, 1:] + amplitude * noise, lo, hi)
    heading, start = _start(rng)
    yaw = heading + 0.8 * _smooth_noise(rng, t, max_hz=0.1)
    pitch = 0.08 * _smooth_noise(rng, t, max_hz=0.2)
    roll = 0.05 * _smooth_noise(rng, t, max_hz=0.2)
    return _place(pose, yaw, pitch, roll, fps, start)


Family = Callable[[np.random.Generator, np.ndarray, float, Subject], Motion]
FAMILIES: dict[str, Family] = {
    "walk": walk, "run": run, "turn": turn, "jump": jump, "squat": squat, "sit": sit,
    "reach": reach, "arm_swing": arm_swing, "dance": dance, "random": random_joints,
}
"""Motion families by name: ``family(rng, t, fps, subject) -> Motion`` with t (N,) seconds."""


# ----------------------------------------------------------------------------- corpus


def _subject(rng: np.random.Generator, index: int) -> Subject:
    betas = np.zeros(NUM_BETAS)
    betas[:4] = rng.normal(0.0, 0.8, 4)
    betas[4:10] = rng.normal(0.0, 0.05, 6)
    return Subject(name=f"subject_{index:02d}", betas=betas, gender=str(rng.choice(GENDERS)),
                   arm_abduction=rng.uniform(0.22, 0.42), elbow_rest=rng.uniform(0.1, 0.4),
                   tempo=rng.uniform(0.92, 1.08), vigour=rng.uniform(0.85, 1.15))


def plan_corpus(minutes: float, seed: int, fps: float = 120.0) -> list[tuple[Subject, str, int]]:
    """(subject, family, number of frames) per sequence: 3-20 s each (the last one absorbs
    a remainder under 3 s), families cycling through shuffles of ``FAMILIES``, a new subject
    every 6-12 sequences; the frame counts add up to ``round(minutes * 60 * fps)``."""
    rng = np.random.default_rng(seed)
    remaining = round(minutes * 60.0 * fps)
    shortest = round(SEQUENCE_SECONDS[0] * fps)
    plan, queue, subjects, left = [], [], [], 0
    while remaining > 0:
        if not queue:
            queue = [str(name) for name in rng.permutation(list(FAMILIES))]
        if left == 0:
            subjects.append(_subject(rng, len(subjects)))
            left = int(rng.integers(6, 13))
        n = round(rng.uniform(*SEQUENCE_SECONDS) * fps)
        if remaining - n < shortest:
            n = remaining
        plan.append((subjects[-1], queue.pop(), n))
        remaining -= n
        left -= 1
    return plan


def amass_arrays(motion: Motion, subject: Subject, fps: float) -> dict[str, np.ndarray]:
    """A Y-up ``Motion`` as the arrays of an AMASS SMPL+H file (Z up), see the module doc."""
    n = len(motion.pose)
    root, trans = yup_to_zup(torch.from_numpy(motion.pose[:, 0]), torch.from_numpy(motion.trans))
    poses = np.zeros((n, AMASS_POSE_DIM))
    poses[:, :3] = root.numpy()
    poses[:, 3:3 * NUM_POSE_JOINTS] = motion.pose[:, 1:].reshape(n, -1)
    return {"poses": poses, "trans": trans.numpy().astype(np.float64),
            "betas": subject.betas.astype(np.float64), "dmpls": np.zeros((n, NUM_DMPLS)),
            "gender": np.array(subject.gender), "mocap_framerate": np.array(float(fps))}


def synthesize_motion(out_dir: str | os.PathLike, minutes: float, seed: int, fps: float = 120.0,
                      log: Callable[[str], None] = print) -> list[Path]:
    """Write about ``minutes`` of procedural (not captured) motion as AMASS ``.npz`` files,
    ``out_dir/subject_XX/<family>_NNN.npz``, each written atomically; a deterministic
    function of ``seed`` (an int >= 0). Returns the files in the order written."""
    if not fps > 0:
        raise MocapHMRError(f"synthesize_motion: fps must be > 0, got {fps}")
    if not minutes * 60.0 >= 1.0:
        raise MocapHMRError(f"synthesize_motion: minutes must give at least 1 second of motion, got {minutes}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MocapHMRError(f"synthesize_motion: seed must be an int >= 0, got {seed!r}")
    out_dir = Path(out_dir)
    plan = plan_corpus(minutes, seed, fps)
    paths = []
    for index, (subject, family, n_frames) in enumerate(plan):
        rng = np.random.default_rng([int(seed), index])
        motion = FAMILIES[family](rng, np.arange(n_frames) / fps, fps, subject)
        arrays = amass_arrays(motion, subject, fps)
        path = out_dir / subject.name / f"{family}_{index:03d}.npz"
        atomic_write(path, lambda fh, arrays=arrays: np.savez_compressed(fh, **arrays))
        paths.append(path)
    seconds = sum(n for _, _, n in plan) / fps
    log(f"procedural motion: {len(paths)} sequences, {seconds / 60:.2f} min, "
        f"{len({s.name for s, _, _ in plan})} subjects in {out_dir}")
    return paths
