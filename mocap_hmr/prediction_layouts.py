"""The people in a predictions file, in the layout of the program that wrote it, and the way back.

``find_people(data, source)`` recognises the layout of a file's content (``prediction_files``)
and returns its ``Person`` list; each person's ``write`` puts refined rotations back into the
same content, in the layout's own representation, shapes, dtypes and container types. Fields
that hold a pose in another form are rewritten with it; fields computed *from* the poses
(vertices, 3D and 2D joints) would contradict the new poses and are dropped (``People.drop``);
every other field (cameras, boxes, frame ids, betas, translations, features) is kept as it was.

Layouts (N frames; read from each program's own saving code):

    4d-humans   4D-Humans / PHALP ``demo_<video>.pkl``: frame path -> {'time', 'tid' [...], 'tracked_time'
                [...], 'smpl' [{'global_orient' (1, 3, 3), 'body_pose' (23, 3, 3), 'betas' (10,)}],
                'pose' [(229,)], 'camera' [(3,)], ...}, lists aligned with 'tid'. An entry with
                tracked_time > 0 is a stale copy of the track's last detection: unobserved, filled by
                refinement and written. 'pose' is rebuilt (its first 216 values are the rotations); the
                lists '3d_joints', '2d_joints' and 'verts' are dropped.
    wham        WHAM ``wham_output.pkl``: track id -> {'pose' (N, 72) camera frame, 'pose_world' (N, 72),
                'trans', 'trans_world', 'betas', 'verts', 'frame_ids'}. The body and camera root are
                refined from 'pose'; the world root from a second pass over 'pose_world', whose body part
                is then written from the first so the two keep sharing [:, 3:]. 'verts' is dropped.
    gvhmr       GVHMR ``hmr4d_results.pt``: {'smpl_params_incam' and 'smpl_params_global': {'body_pose'
                (L, 63), 'global_orient' (L, 3), 'betas', 'transl'}, 'K_fullimg', 'net_outputs'}. SMPL-X:
                its 21 body joints are SMPL's joints 1-21 (same names, same order), so global orientation
                plus body pose are refined as SMPL's first 22 joints, with SMPL's two hand joints (22, 23)
                at identity and their output discarded; finger, jaw and eye poses, when present, are kept.
                Camera frame first, world root in a second pass (as WHAM); the batched copies in
                'net_outputs' ['pred_smpl_params_incam' / '_global'] get the same values.
    tram        TRAM ``hps_track_<k>.npy`` (one person): {'pred_rotmat' (N, 24, 3, 3), 'pred_pose' (N, 144)
                6D, 'pred_shape', 'pred_trans' (N, 1, 3), 'pred_cam', 'frame'}; 'pred_pose' is regenerated
                from the refined matrices ([R[:, 0], R[:, 1]] per joint).
    vibe        VIBE ``vibe_output.pkl``: track id -> {'pose' (N, 72), 'betas', 'pred_cam', 'orig_cam',
                'bboxes', 'frame_ids', 'verts', 'joints3d', 'joints2d_img_coord', ...}; 'verts', 'joints3d'
                and 'joints2d_img_coord' are dropped.
    pose, global_orient+body_pose, tracks
                one person's 'pose' (N, 72) | (N, 24, 3) | (N, 24, 3, 3), or 'global_orient' (N, 3) |
                (N, 1, 3) | (N, 1, 3, 3) | (N, 3, 3) with 'body_pose' (N, 69) | (N, 23, 3) | (N, 23, 3, 3);
                or a dict of tracks, track id -> one of these (values that are not dicts are not people);
                VIBE's derived fields are dropped where present.

Frame numbers (``frame_ids``, PHALP's ``time``, TRAM's ``frame``) place each frame in time: the
frames between two of a track's frames are refined as unobserved frames and not written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.prediction_files import PredictionsFileError

POSE_LAYOUTS = {"pose": (("pose", 24),), "global_orient+body_pose": (("global_orient", 1), ("body_pose", 23))}
VIBE_DERIVED = ("verts", "joints3d", "joints2d_img_coord")
PHALP_DERIVED = ("3d_joints", "2d_joints", "verts")
LAYOUTS_UNDERSTOOD = (
    "4D-Humans/PHALP results (frame -> {'tid', 'smpl', ...}), WHAM's wham_output.pkl (id -> {'pose', 'pose_world', "
    "...}), GVHMR's hmr4d_results.pt ('smpl_params_incam', 'smpl_params_global'), TRAM's hps_track_<k>.npy "
    "('pred_rotmat', 'pred_pose', 'frame'), VIBE's output (id -> {'pose' (N, 72), 'frame_ids', ...}); "
    "'pose' (N, 72), (N, 24, 3) or (N, 24, 3, 3); 'global_orient' (N, 3), (N, 1, 3), (N, 1, 3, 3) or (N, 3, 3) with "
    "'body_pose' (N, 69), (N, 23, 3) or (N, 23, 3, 3); or a dict of tracks, track id -> one of these"
)
ROTATION_TOLERANCE = 1e-2


@dataclass
class Person:
    """One person of a file.

    rotations: name -> (N, 24, 3, 3) float32, NaN where unobserved; the first is the one whose
    body (joints 1-23) is written everywhere, the others contribute their root only;
    timeline: (N,) int64 frame numbers from the track's first frame; write: refined rotations,
    name -> (N, 24, 3, 3), into the file's content; betas (10,) | (N, 10) and transl (N, 3) of
    ``motion_frame``'s rotations (None where the file has none, or they are not SMPL's)."""

    track: str
    rotations: dict[str, torch.Tensor]
    timeline: torch.Tensor
    write: Callable[[dict[str, torch.Tensor]], None]
    motion_frame: str = ""
    betas: np.ndarray | None = None
    transl: np.ndarray | None = None
    joints: int = 24

    def __post_init__(self):
        self.motion_frame = self.motion_frame or next(iter(self.rotations))


@dataclass
class People:
    """A file's layout, its people, and ``drop``: the tracks written -> the derived fields it
    removed from the content (named for the report)."""

    layout: str
    people: list[Person]
    drop: Callable[[list[str]], list[str]] = lambda tracks: []


def find_people(data, source) -> People:
    """The layout and people of a file's content (see the module docstring)."""
    if isinstance(data, Mapping):
        if "smpl_params_incam" in data and "smpl_params_global" in data:
            return _gvhmr(data, source)
        if "pred_rotmat" in data:
            return _tram(data, source)
        if _pose_layout(data):
            return People(_pose_layout(data), [_generic_person(data, "", source)],
                          drop=lambda tracks: _drop_keys([data], VIBE_DERIVED))
        values = [v for v in data.values() if isinstance(v, Mapping)]
        if values and all("tid" in v and "smpl" in v for v in values):
            return _phalp(data, source)
        if values and all("pose_world" in v for v in values):
            return _wham(data, source)
        people = {k: v for k, v in data.items() if isinstance(v, Mapping)}
        unknown = [k for k, v in people.items() if not _pose_layout(v)]
        if people and not unknown:
            vibe = all("orig_cam" in v for v in people.values())
            persons = [_generic_person(v, str(k), source) for k, v in people.items()]
            return People("vibe" if vibe else "tracks", persons,
                          drop=lambda tracks: _drop_keys([people[k] for k in people if str(k) in tracks],
                                                         VIBE_DERIVED))
        if unknown:
            keys = ", ".join(map(str, list(people[unknown[0]])[:8]))
            raise PredictionsFileError(f"{source}: track {unknown[0]} is in none of the layouts understood (its keys: "
                                       f"{keys}); understood: {LAYOUTS_UNDERSTOOD}")
    found = f"keys {', '.join(map(str, list(data)[:8]))}" if isinstance(data, Mapping) else f"a {type(data).__name__}"
    raise PredictionsFileError(f"{source}: holds {found}, in none of the layouts understood: {LAYOUTS_UNDERSTOOD}")


def _drop_keys(holders: list, keys: tuple[str, ...]) -> list[str]:
    dropped = sorted({key for holder in holders for key in keys if key in holder})
    for holder in holders:
        for key in keys:
            holder.pop(key, None)
    return dropped


# ---- one person's 'pose' or 'global_orient' + 'body_pose', and dicts of them (VIBE) ----

def _pose_layout(person: Mapping) -> str | None:
    for name, fields in POSE_LAYOUTS.items():
        if all(key in person for key, _ in fields):
            return name
    return None


def _generic_person(person: dict, track: str, source) -> Person:
    fields = POSE_LAYOUTS[_pose_layout(person)]
    arrays = [_pose_array(person[key], joints, key, track, source) for key, joints in fields]
    n = arrays[0].shape[0]
    _same_length(track, source, **{key: a for (key, _), a in zip(fields, arrays, strict=True)})
    rotmat = torch.cat([_as_rotmat(a, joints) for a, (_, joints) in zip(arrays, fields, strict=True)], 1)
    _check_rotations(rotmat, fields[0][0] if len(fields) == 1 else "global_orient/body_pose", track, source)

    def write(refined):
        first = 0
        for (key, joints), array in zip(fields, arrays, strict=True):
            person[key] = _like(refined["pose"][:, first:first + joints], array)
            first += joints

    transl = next((np.asarray(person[k]) for k in ("trans", "transl") if k in person), None)
    return Person(track, {"pose": rotmat}, _timeline(person.get("frame_ids"), n, "frame_ids", track, source), write,
                  betas=None if person.get("betas") is None else np.asarray(person["betas"]),
                  transl=transl if transl is not None and transl.shape == (n, 3) else None)


# ---- WHAM ----

def _wham(data: Mapping, source) -> People:
    people = []
    for key, person in data.items():
        track = str(key)
        _need(person, ("pose", "pose_world"), track, source, "WHAM")
        cam, world = (_pose_array(person[k], 24, k, track, source) for k in ("pose", "pose_world"))
        _same_length(track, source, pose=cam, pose_world=world, **{k: np.asarray(person[k]) for k in
                                                                   ("trans", "trans_world", "betas") if k in person})
        n = cam.shape[0]

        def write(refined, person=person, cam=cam, world=world):
            person["pose"] = _like(refined["camera"], cam)
            person["pose_world"] = _like(torch.cat([refined["world"][:, :1], refined["camera"][:, 1:]], 1), world)

        people.append(Person(track, {"camera": _as_rotmat(cam, 24), "world": _as_rotmat(world, 24)},
                             _timeline(person.get("frame_ids"), n, "frame_ids", track, source), write,
                             motion_frame="world", betas=_optional(person, "betas"),
                             transl=_optional(person, "trans_world")))
    return People("wham", people, drop=lambda tracks: _drop_keys(
        [p for k, p in data.items() if str(k) in tracks], ("verts",)))


# ---- GVHMR ----

def _gvhmr(data: Mapping, source) -> People:
    frames = {"camera": "smpl_params_incam", "world": "smpl_params_global"}
    rotations, arrays = {}, {}
    for name, key in frames.items():
        params = data[key]
        if not isinstance(params, Mapping) or not all(k in params for k in ("body_pose", "global_orient")):
            raise PredictionsFileError(f"{source}: GVHMR's '{key}' must be a dict with 'body_pose' (L, 63) and "
                                       "'global_orient' (L, 3)")
        body, root = (_tensor_array(params[k], k, source) for k in ("body_pose", "global_orient"))
        n = body.shape[0]
        if body.shape != (n, 63) or root.shape != (n, 3):
            raise PredictionsFileError(f"{source}: GVHMR's '{key}' has body_pose {tuple(body.shape)} and global_orient "
                                       f"{tuple(root.shape)}; expected (L, 63) SMPL-X body joints and (L, 3)")
        arrays[name] = (body, root)
        smplx = torch.cat([_as_rotmat(root, 1), _as_rotmat(body, 21), torch.eye(3).expand(n, 2, 3, 3)], 1)
        rotations[name] = smplx
    _same_length("", source, incam=arrays["camera"][0], global_=arrays["world"][0])
    n = arrays["camera"][0].shape[0]

    outputs = data.get("net_outputs")

    def write(refined):
        for name, key in frames.items():
            body, root = arrays[name]
            values = {"global_orient": _like(refined[name][:, :1], root),
                      "body_pose": _like(refined["camera"][:, 1:22], body)}
            batched = outputs.get(f"pred_{key}") if isinstance(outputs, Mapping) else None
            for k, v in values.items():
                data[key][k] = torch.as_tensor(v)
                if isinstance(batched, Mapping) and k in batched and tuple(batched[k].shape) == (1, *v.shape):
                    batched[k] = torch.as_tensor(v)[None].to(batched[k].dtype)

    world = data["smpl_params_global"]
    person = Person("", rotations, torch.arange(n), write, motion_frame="world",
                    transl=np.asarray(world["transl"]) if "transl" in world else None, joints=22)
    return People("gvhmr", [person])


# ---- TRAM ----

def _tram(data: Mapping, source) -> People:
    _need(data, ("pred_rotmat", "pred_pose"), "", source, "TRAM")
    rotmat = _tensor_array(data["pred_rotmat"], "pred_rotmat", source)
    n = rotmat.shape[0]
    if rotmat.shape != (n, 24, 3, 3):
        raise PredictionsFileError(f"{source}: TRAM's 'pred_rotmat' has shape {tuple(rotmat.shape)}; expected "
                                   "(N, 24, 3, 3)")
    six = _tensor_array(data["pred_pose"], "pred_pose", source)
    if six.shape != (n, 144):
        raise PredictionsFileError(f"{source}: TRAM's 'pred_pose' has shape {tuple(six.shape)}; expected ({n}, 144), "
                                   "the 6D of 'pred_rotmat'")
    _same_length("", source, **{k: np.asarray(data[k]) for k in ("pred_rotmat", "pred_shape", "pred_trans",
                                                                  "pred_cam", "frame") if k in data})
    rot = torch.from_numpy(np.array(rotmat, dtype=np.float32))
    _check_rotations(rot, "pred_rotmat", "", source)

    def write(refined):
        r = refined["pose"]
        data["pred_rotmat"] = torch.as_tensor(_like(r, rotmat))
        six6 = torch.cat([r[..., :, 0], r[..., :, 1]], -1).reshape(n, 144)  # [R[:, 0], R[:, 1]] per joint
        data["pred_pose"] = six6.to(torch.as_tensor(six).dtype)

    trans = _optional(data, "pred_trans")
    return People("tram", [Person("", {"pose": rot}, _timeline(data.get("frame"), n, "frame", "", source), write,
                                  betas=_optional(data, "pred_shape"),
                                  transl=None if trans is None else trans.reshape(n, 3))])


# ---- 4D-Humans / PHALP ----

def _phalp(data: Mapping, source) -> People:
    entries: dict[str, list] = {}  # track -> [(time, frame dict, index in its lists)]
    for frame_key, frame in data.items():
        tids, smpl = list(frame["tid"]), frame["smpl"]
        stale = list(frame.get("tracked_time", [0] * len(tids)))
        if len(smpl) != len(tids) or len(stale) != len(tids):
            raise PredictionsFileError(f"{source}: frame {frame_key}: 'tid' has {len(tids)} entries, 'smpl' "
                                       f"{len(smpl)} and 'tracked_time' {len(stale)}; they must be aligned")
        if "time" not in frame:
            raise PredictionsFileError(f"{source}: frame {frame_key} has no 'time' (its frame number)")
        for i, tid in enumerate(tids):
            entries.setdefault(str(tid), []).append((int(frame["time"]), frame, i, stale[i] == 0))
    people = []
    for track, rows in entries.items():
        rows.sort(key=lambda row: row[0])
        times = [row[0] for row in rows]
        if len(set(times)) != len(times):
            raise PredictionsFileError(f"{source}: track {track} appears twice in one frame")
        mats = []
        for time, frame, i, _ in rows:
            smpl = frame["smpl"][i]
            root, body = np.asarray(smpl["global_orient"]), np.asarray(smpl["body_pose"])
            if root.shape != (1, 3, 3) or body.shape != (23, 3, 3):
                raise PredictionsFileError(f"{source}: track {track}, time {time}: 'smpl' has global_orient "
                                           f"{root.shape} and body_pose {body.shape}; expected (1, 3, 3) and "
                                           "(23, 3, 3)")
            mats.append(np.concatenate([root, body]))
        rot = torch.from_numpy(np.stack(mats).astype(np.float32))
        _check_rotations(rot, "smpl", track, source)
        observed = torch.tensor([row[3] for row in rows])
        rot[~observed] = float("nan")  # stale copies: refined, not read

        def write(refined, rows=rows):
            for (_, frame, i, _), r in zip(rows, refined["pose"].numpy(), strict=True):
                smpl = dict(frame["smpl"][i])
                smpl["global_orient"] = r[:1].astype(np.asarray(smpl["global_orient"]).dtype)
                smpl["body_pose"] = r[1:].astype(np.asarray(smpl["body_pose"]).dtype)
                frame["smpl"][i] = smpl
                if "pose" in frame and np.asarray(frame["pose"][i]).shape[-1:] == (229,):
                    pose = np.array(frame["pose"][i])
                    pose[..., :216] = r.reshape(216)
                    frame["pose"][i] = pose

        betas = np.stack([np.asarray(row[1]["smpl"][row[2]]["betas"]).reshape(-1) for row in rows])
        camera = [np.asarray(row[1]["camera"][row[2]]).reshape(-1) for row in rows] if all(
            "camera" in row[1] for row in rows) else None
        timeline = torch.tensor(times) - times[0]
        people.append(Person(track, {"pose": rot}, timeline, write, betas=betas,
                             transl=np.stack(camera) if camera and all(c.shape == (3,) for c in camera) else None))
    return People("4d-humans", people, drop=lambda tracks: _drop_keys(list(data.values()), PHALP_DERIVED))


# ---- shared checks and conversions ----

def _need(holder: Mapping, keys, track, source, program):
    missing = [k for k in keys if k not in holder]
    if missing:
        raise PredictionsFileError(f"{source}: {_where(track)}{program}'s layout needs {', '.join(keys)}; "
                                   f"{', '.join(missing)} missing")


def _optional(holder: Mapping, key: str) -> np.ndarray | None:
    value = holder.get(key)
    return None if value is None else np.asarray(value)


def _tensor_array(value, key: str, source) -> np.ndarray:
    array = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        raise PredictionsFileError(f"{source}: '{key}' holds {array.dtype}; expected floats")
    return array


def _same_length(track, source, **arrays) -> None:
    lengths = {k.rstrip("_"): (np.shape(a)[0] if np.ndim(a) else 0) for k, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise PredictionsFileError(f"{source}: {_where(track)}the per-frame fields have different numbers of frames "
                                   f"({listed}); each must have one entry per frame")


def _check_rotations(rotmat: torch.Tensor, key: str, track: str, source) -> None:
    """rotmat (N, J, 3, 3): every finite matrix a rotation (orthonormal, determinant +1)."""
    finite = torch.isfinite(rotmat.flatten(-2)).all(-1)
    if not bool(finite.any()):
        return
    r = rotmat[finite].double()
    error = (r.transpose(-1, -2) @ r - torch.eye(3, dtype=r.dtype)).flatten(1).abs().amax(1)
    bad = (error > ROTATION_TOLERANCE) | (torch.linalg.det(r) < 0)
    if bool(bad.any()):
        frame, joint = finite.nonzero()[int(bad.nonzero()[0])].tolist()
        raise PredictionsFileError(f"{source}: {_where(track)}'{key}' frame {frame}, joint {joint} is not a rotation "
                                   f"matrix (R^T R differs from I by {float(error[bad][0]):.3g}, det "
                                   f"{float(torch.linalg.det(r[bad][0])):.3g}); expected rotation matrices")


def _timeline(ids, n: int, key: str, track: str, source) -> torch.Tensor:
    """(N,) each frame's place in time: ``ids`` minus the first, or 0 ... N-1 without them."""
    if ids is None:
        return torch.arange(n)
    ids = ids.numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer) or (n > 1 and np.any(np.diff(ids) <= 0)):
        raise PredictionsFileError(f"{source}: {_where(track)}{key} must be {n} increasing integers, one per "
                                   f"frame (got {ids.dtype} {ids.shape})")
    return torch.from_numpy((ids - ids[0]).astype(np.int64)) if n else torch.arange(0)


def _pose_array(value, joints: int, key: str, track: str, source) -> np.ndarray:
    """The array under ``key`` checked against its accepted shapes for ``joints`` joints."""
    array = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    n = array.shape[0] if array.ndim else 0
    accepted = [(n, 3 * joints), (n, joints, 3), (n, joints, 3, 3)] + ([(n, 3, 3)] if joints == 1 else [])
    if array.shape not in accepted or not np.issubdtype(array.dtype, np.floating):
        shapes = " or ".join(str(s).replace(f"({n},", "(N,") for s in accepted)
        raise PredictionsFileError(f"{source}: {_where(track)}'{key}' is {array.dtype} of shape {array.shape}; "
                                   f"expected floats of shape {shapes}")
    return array


def _as_rotmat(array: np.ndarray, joints: int) -> torch.Tensor:
    """(N, joints * 3) | (N, joints, 3) axis-angle or (N, [joints,] 3, 3) -> (N, joints, 3, 3) float32
    matrices; a frame with NaN or Inf stays non-finite."""
    values = torch.from_numpy(np.array(array, dtype=np.float32))
    n = values.shape[0]
    if array.shape[-2:] == (3, 3):
        return values.reshape(n, joints, 3, 3)
    return axis_angle_to_matrix(values.reshape(n, joints, 3))


def _like(rotmat: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """(N, J, 3, 3) rotations in the representation, shape and dtype of ``like``."""
    values = rotmat if like.shape[-2:] == (3, 3) else matrix_to_axis_angle(rotmat)
    return values.numpy().reshape(like.shape).astype(like.dtype)


def _where(track: str) -> str:
    return f"track {track}: " if track else ""

