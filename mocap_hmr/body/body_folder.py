"""A body model folder in SMPL's layout, written by the stand-in and tiny body builders.

    DIR/SMPL_NEUTRAL.pkl       SMPL's pickle format (plain numpy) plus ``vt``, ``ft`` (UVs)
                               and ``vertex_ids`` (SPIN's extra joints)
    DIR/smpl/SMPL_NEUTRAL.pkl  a link to it: ``smplx.create(DIR, model_type="smpl")`` looks there
    DIR/J_regressor_extra.npy  (9, V)  SPIN's extra joints, same row order as SPIN's file
    DIR/J_regressor_h36m.npy   (17, V) H36M joints, same row order as SPIN's file
    DIR/textures/skin_XX.png   UV skin textures (v up, OBJ convention)
    DIR/build_info.json        how it was built (stand-in only)
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mocap_hmr.atomic import atomic_write
from mocap_hmr.body.body_model import EXTRA_REGRESSOR_FILE, H36M_REGRESSOR_FILE
from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES
from mocap_hmr.body.model_files import BUILD_INFO_FILE, save_model_pkl
from mocap_hmr.imageio import write_png

MODEL_FILE = "SMPL_NEUTRAL.pkl"
TEXTURE_DIR = "textures"


def _vertex_mean_row(ids: np.ndarray, n_verts: int) -> np.ndarray:
    row = np.zeros(n_verts)
    row[np.asarray(ids)] = 1.0 / len(ids)
    return row


def spin_regressors(j_regressor: np.ndarray, head_top: np.ndarray, jaw: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """SPIN's extra (9, V) and H36M (17, V) regressors composed from the body's own joint
    regressor (24, V) and two vertex groups: the top of the head and the jaw / chin."""
    n_verts = j_regressor.shape[1]
    j = {name: j_regressor[i] for i, name in enumerate(SMPL_JOINT_NAMES)}
    top = _vertex_mean_row(head_top, n_verts)
    chin = _vertex_mean_row(jaw, n_verts)
    thorax = 0.5 * (j["neck"] + j["spine3"])
    head_centre = 0.5 * (j["head"] + top)
    extra = np.stack([
        j["right_hip"], j["left_hip"], j["neck"], top, j["pelvis"], thorax, j["spine2"], chin,
        head_centre,
    ])
    h36m = np.stack([
        j["pelvis"], j["left_hip"], j["left_knee"], j["left_ankle"], j["right_hip"],
        j["right_knee"], j["right_ankle"], j["spine2"], thorax, chin, top, j["left_shoulder"],
        j["left_elbow"], j["left_wrist"], j["right_shoulder"], j["right_elbow"], j["right_wrist"],
    ])
    return extra.astype(np.float32), h36m.astype(np.float32)


def _save_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()))


def write_body_folder(out_dir: str | Path, model: dict, head_top: np.ndarray, jaw: np.ndarray,
                      textures: list[np.ndarray], info: dict | None = None) -> Path:
    """Write a complete body folder; an existing ``out_dir`` is replaced only once the new
    one is complete. ``model``: SMPL arrays (+ vt, ft, vertex_ids); textures: uint8 (H, W, 3);
    ``info``: written as build_info.json (how the body was built)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    staging.chmod(0o755)
    try:
        save_model_pkl(model, staging / MODEL_FILE)
        (staging / "smpl").mkdir()
        try:
            (staging / "smpl" / MODEL_FILE).symlink_to(Path("..") / MODEL_FILE)
        except OSError:  # no symlinks on this file system
            shutil.copyfile(staging / MODEL_FILE, staging / "smpl" / MODEL_FILE)
        extra, h36m = spin_regressors(np.asarray(model["J_regressor"]), head_top, jaw)
        _save_npy(staging / EXTRA_REGRESSOR_FILE, extra)
        _save_npy(staging / H36M_REGRESSOR_FILE, h36m)
        if info is not None:
            (staging / BUILD_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
        for i, texture in enumerate(textures):
            write_png(staging / TEXTURE_DIR / f"skin_{i:02d}.png", texture)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            staging.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
