"""3DPW test set: SPIN's ``3dpw_test.npz`` or the original ``sequenceFiles/test/*.pkl``.

Both give the same samples: every person of every sequence in the frames whose camera pose
is valid (``campose_valid``), gendered SMPL ground truth with the global orientation turned
into the camera frame (``cam_poses``), SPIN's box around the 2D keypoints (``poses2d``), images
``imageFiles/<sequence>/image_%05d.jpg`` under the 3DPW folder, one track per person
(``<sequence>_<person>``, VIBE's ids), 30 fps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mocap_hmr.data.benchmarks.annotations import boxes_from_keypoints, gender_codes, parse_image_names, rotate_root
from mocap_hmr.data.benchmarks.benchmark_set import BenchmarkSet
from mocap_hmr.data.benchmarks.readers import array_field, pick, read_npz, read_pickle, require_dir
from mocap_hmr.data.spin_dataset import DatasetError

FPS = 30.0
IMAGE_PATTERN = r"imageFiles/(?P<seq>[^/]+)/image_(?P<num>\d+)\.jpg$"
NPZ_KEYS = ("imgname", "center", "scale", "pose", "shape", "gender")
NPZ_EXPECTED = ("SPIN's 3dpw_test.npz (imgname, center (N, 2), scale (N,), pose (N, 72), shape (N, 10), gender), "
                "or the 3DPW folder holding sequenceFiles/")
PKL_EXPECTED = ("a 3DPW sequence file: a dict with sequence, poses [(F, 72)], betas [(10,)], genders, poses2d "
                "[(F, 3, 18)], cam_poses (F, 4, 4) and campose_valid [(F,)], one list entry per person")


def load_3dpw(path: str | Path, **options) -> BenchmarkSet:
    """SPIN's ``3dpw_test.npz`` (a file) or the 3DPW folder (``sequenceFiles/<split>/*.pkl``)."""
    path = Path(path)
    if path.is_dir():
        return load_3dpw_sequences(path, **options)
    return load_3dpw_npz(path, **options)


def load_3dpw_npz(path: str | Path) -> BenchmarkSet:
    path = Path(path)
    a = read_npz(path, NPZ_KEYS, NPZ_EXPECTED)
    sequence, frame = parse_image_names(a["imgname"], IMAGE_PATTERN, path)
    gender = gender_codes(a["gender"], path, "gender")
    return BenchmarkSet(
        name="3dpw", image_paths=a["imgname"].astype(str), center=array_field(a["center"], ("N", 2), path, "center"),
        scale=array_field(a["scale"], ("N",), path, "scale"), sequence=_person_tracks(sequence, frame, gender),
        frame=frame, fps=FPS, source=str(path), pose=array_field(a["pose"], ("N", 72), path, "pose"),
        betas=array_field(a["shape"], ("N", 10), path, "shape"), gender=gender)


def _person_tracks(sequence: np.ndarray, frame: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """(N,) '<sequence>_<person>'. SPIN's npz does not store the person: its preprocessing writes
    each person's valid frames as one block in increasing frame order, so a person starts where
    the sequence changes, the frame does not increase, or the gender changes."""
    start = np.ones(len(sequence), dtype=bool)
    start[1:] = (sequence[1:] != sequence[:-1]) | (frame[1:] <= frame[:-1]) | (gender[1:] != gender[:-1])
    lengths = np.diff(np.append(np.flatnonzero(start), len(sequence)))
    people: dict[str, int] = {}
    ids = []
    for name, length in zip(sequence[start], lengths, strict=True):
        people[name] = people.get(name, -1) + 1
        ids += [f"{name}_{people[name]}"] * int(length)
    return np.array(ids)


def load_3dpw_sequences(root: str | Path, split: str = "test", log=print) -> BenchmarkSet:
    """Every ``sequenceFiles/<split>/*.pkl`` under ``root`` (in name order). Frames with a valid
    camera pose but no 2D keypoint (so no box) are left out and reported through ``log``."""
    folder = require_dir(Path(root) / "sequenceFiles" / split,
                         f"the 3DPW folder with sequenceFiles/{split}/*.pkl and imageFiles/ "
                         "(https://virtualhumans.mpi-inf.mpg.de/3DPW)")
    files = sorted(folder.glob("*.pkl"))
    if not files:
        raise DatasetError(f"{folder}: no .pkl file; expected 3DPW's sequence files")
    people = [person for file in files for person in _read_sequence_file(file, log)]
    arrays = {key: np.concatenate([p[key] for p in people]) for key in people[0]}
    return BenchmarkSet(name="3dpw", fps=FPS, source=str(folder), **arrays)


def _read_sequence_file(path: Path, log) -> list[dict[str, np.ndarray]]:
    """One dict of BenchmarkSet fields per person of one 3DPW sequence file."""
    data = read_pickle(path, PKL_EXPECTED)
    name = pick(data, ("sequence",), path, PKL_EXPECTED)
    name = name.decode("latin1") if isinstance(name, bytes) else str(name)
    poses = pick(data, ("poses",), path, PKL_EXPECTED)
    per_person = {"betas": pick(data, ("betas",), path, PKL_EXPECTED),
                  "genders": pick(data, ("genders", "gender"), path, PKL_EXPECTED),
                  "poses2d": pick(data, ("poses2d", "poses2D"), path, PKL_EXPECTED),
                  "campose_valid": pick(data, ("campose_valid",), path, PKL_EXPECTED)}
    if not isinstance(poses, list | tuple | np.ndarray) or len(poses) == 0:
        raise DatasetError(f"{path}: poses is not a list of people; expected {PKL_EXPECTED}")
    for field, value in per_person.items():
        count = len(value) if isinstance(value, list | tuple | np.ndarray) else None
        if count != len(poses):
            raise DatasetError(f"{path}: {field} holds {'no list' if count is None else f'{count} entries'} and "
                               f"poses {len(poses)} people; each holds one entry per person")
    frames = len(array_field(poses[0], ("F", 72), path, "poses[0]"))
    cameras = array_field(pick(data, ("cam_poses",), path, PKL_EXPECTED), (frames, 4, 4), path, "cam_poses")
    genders = gender_codes(per_person["genders"], path, "genders")
    people = []
    for p in range(len(poses)):
        pose = array_field(poses[p], (frames, 72), path, f"poses[{p}]")
        keypoints = array_field(per_person["poses2d"][p], (frames, 3, "J"), path, f"poses2d[{p}]", finite=False)
        valid = array_field(per_person["campose_valid"][p], (frames,), path, f"campose_valid[{p}]") != 0
        betas = array_field(np.ravel(per_person["betas"][p]), ("B",), path, f"betas[{p}]")
        if len(betas) < 10:
            raise DatasetError(f"{path}: betas[{p}] has {len(betas)} values; expected at least 10")
        center, scale, found = boxes_from_keypoints(keypoints.transpose(0, 2, 1)[valid])
        frame = np.flatnonzero(valid)
        if not found.all():
            log(f"{path}: person {p}: {int((~found).sum())} frame(s) with a valid camera pose have no 2D keypoint "
                f"with confidence > 0, so no box; left out (frames {frame[~found][:5].tolist()} ...)")
        frame = frame[found]
        people.append({
            "image_paths": np.array([f"imageFiles/{name}/image_{f:05d}.jpg" for f in frame], dtype=str),
            "center": center[found], "scale": scale[found], "sequence": np.full(len(frame), f"{name}_{p}"),
            "frame": frame, "pose": rotate_root(pose[frame], cameras[frame, :3, :3]),
            "betas": np.tile(betas[:10], (len(frame), 1)), "gender": np.full(len(frame), genders[p]),
        })
    return people
