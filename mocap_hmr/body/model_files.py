"""Reading and writing body model files in SMPL's format, with no chumpy and no scipy.

The official SMPL ``.pkl`` files are Python 2 pickles holding chumpy arrays (``shapedirs``)
and a scipy sparse matrix (``J_regressor``). A restricted unpickler turns both into plain
numpy arrays, so neither package is needed (chumpy breaks with numpy >= 1.24), and refuses
any other class, so a model file cannot run code. ``.npz`` conversions hold the same arrays.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mocap_hmr.atomic import atomic_write
from mocap_hmr.errors import ModelFileError, ModelNotFoundError
from mocap_hmr.paths import SMPL_DIR_ENV, SMPL_LICENSE_HINT, standin_body_dir
from mocap_hmr.safe_pickle import ARRAY_GLOBALS, canonical_global

GENDERS = ("neutral", "male", "female")
_GENDER_ALIASES = {"n": "neutral", "m": "male", "f": "female"}

# Arrays every SMPL model file has; optional extras this project adds to its own bodies.
BUILD_INFO_FILE = "build_info.json"  # how a stand-in body folder was built (mocap-hmr build-body)
REQUIRED_KEYS = ("v_template", "f", "J_regressor", "kintree_table", "weights", "shapedirs",
                 "posedirs")
OPTIONAL_ARRAY_KEYS = ("J", "vt", "ft")
VERTEX_IDS_KEY = "vertex_ids"  # dict name -> vertex index (SPIN's extra joints), stand-in only


def normalize_gender(gender: Any) -> str:
    """'neutral' | 'male' | 'female' from str, bytes, numpy.str_ or a 0-d array ('m', b'female' ...)."""
    value = gender
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        key = value.strip().lower()
        key = _GENDER_ALIASES.get(key, key)
        if key in GENDERS:
            return key
    raise ModelFileError(
        f"gender {gender!r} is not one of neutral / male / female (also accepted: n, m, f, "
        "as str, bytes or numpy string)"
    )


def model_file_names(gender: str) -> list[str]:
    """File names accepted for one gender, in the order they are tried."""
    short = {"neutral": "neutral", "male": "m", "female": "f"}[gender]
    return [
        f"SMPL_{gender.upper()}.pkl",
        f"SMPL_{gender.upper()}.npz",
        f"basicModel_{short}_lbs_10_207_0_v1.0.0.pkl",
        f"basicmodel_{short}_lbs_10_207_0_v1.1.0.pkl",
        f"basicmodel_{short}_lbs_10_207_0_v1.0.0.pkl",
    ]


def find_model_file(model_path: str | os.PathLike | None, gender: str = "neutral") -> Path:
    """The SMPL file to load: a file path as is; in a folder (or its ``smpl/`` subfolder) the
    first accepted name for ``gender``. ``None`` means ``$SMPL_DIR``, else the built stand-in."""
    gender = normalize_gender(gender)
    if model_path is None:
        model_path = os.environ.get(SMPL_DIR_ENV) or standin_body_dir()
        if not Path(model_path).exists():
            raise ModelNotFoundError(
                f"no body model configured: body.model_path is empty, ${SMPL_DIR_ENV} is not set "
                f"and the stand-in body has not been built at {model_path}. {SMPL_LICENSE_HINT}"
            )
    path = Path(model_path).expanduser()
    if path.is_file():
        return path
    names = model_file_names(gender)
    folders = [path, path / "smpl"]
    for folder in folders:
        if folder.is_dir():
            by_lower = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
            for name in names:
                if name.lower() in by_lower:
                    return by_lower[name.lower()]
    looked = " and ".join(str(f) for f in folders) if path.is_dir() else str(path)
    raise ModelNotFoundError(
        f"no {gender} SMPL model file in {looked}; accepted names: {', '.join(names)}. "
        f"{SMPL_LICENSE_HINT}"
    )


class _ChumpyStub:
    """Stands in for any chumpy class; its pickled state keeps the array in ``x``."""

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {"x": state})


class _SparseStub:
    """Stands in for scipy.sparse csc/csr matrices; becomes a dense array."""

    fmt = "csc"

    def __setstate__(self, state):
        self.__dict__.update(state)

    def to_dense(self) -> np.ndarray:
        shape = tuple(self.__dict__.get("_shape") or self.__dict__["shape"])
        data, indices, indptr = (np.asarray(self.__dict__[k]) for k in ("data", "indices", "indptr"))
        dense = np.zeros(shape, dtype=np.float64)
        major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        if self.fmt == "csc":
            np.add.at(dense, (indices, major), data)
        else:
            np.add.at(dense, (major, indices), data)
        return dense


class _CsrStub(_SparseStub):
    fmt = "csr"


# chumpy's objects are rebuilt through copyreg as plain objects (then replaced by _ChumpyStub)
_MODEL_GLOBALS = ARRAY_GLOBALS | {("copyreg", "_reconstructor"), ("builtins", "object")}


class _ModelUnpickler(pickle.Unpickler):
    """Allows numpy arrays, plain containers and stubs for chumpy / scipy.sparse; nothing else."""

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        module, name = canonical_global(module, name)
        if module.split(".")[0] == "chumpy":
            return type(name, (_ChumpyStub,), {})
        if module.startswith("scipy.sparse"):
            if name.startswith("csc"):
                return _SparseStub
            if name.startswith("csr"):
                return _CsrStub
        if (module, name) in _MODEL_GLOBALS:
            return super().find_class(module, name)
        raise ModelFileError(
            f"{self.path}: the pickle refers to {module}.{name}, which an SMPL model file never "
            "holds; refusing to load it"
        )


def _to_plain(value: Any, path: Path, key: str) -> Any:
    """Replace chumpy and sparse stand-ins by numpy arrays, recursively."""
    if isinstance(value, _SparseStub):
        return value.to_dense()
    if isinstance(value, _ChumpyStub):
        if "x" not in value.__dict__:
            raise ModelFileError(
                f"{path}: '{key}' is a chumpy expression ({type(value).__name__}) with no stored "
                "array; only plain chumpy arrays can be read without chumpy"
            )
        return np.asarray(_to_plain(value.__dict__["x"], path, key))
    if isinstance(value, dict):
        return {k: _to_plain(v, path, f"{key}.{k}" if key else k) for k, v in value.items()}
    return value


def _read_raw(path: Path) -> dict:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
            return _unpack_vertex_ids(data)
        with open(path, "rb") as fh:
            data = _ModelUnpickler(fh, path).load()
    except ModelFileError:
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, OSError,
            AttributeError, IndexError, TypeError, KeyError) as exc:
        raise ModelFileError(
            f"{path}: cannot be read as an SMPL model file ({type(exc).__name__}: {exc}); it may be "
            f"truncated or corrupt: {_fix_hint(path)}"
        ) from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: holds a {type(data).__name__}, an SMPL model file holds a dict")
    return _to_plain(data, path, "")


def _fix_hint(path: Path) -> str:
    """How to replace a broken model file: rebuild a stand-in build, else download it again."""
    folder = path.resolve().parent
    if (folder / BUILD_INFO_FILE).is_file():
        out = "" if folder == standin_body_dir().resolve() else f" --out {folder}"
        return f"it belongs to a stand-in body build, which mocap-hmr build-body{out} rebuilds"
    return f"download it again. {SMPL_LICENSE_HINT}"


def _check_smpl(data: dict, path: Path) -> None:
    """Raise when ``data`` is another body model (SMPL-X, SMPL+H, MANO) or is inconsistent."""
    if "kintree_table" in data:
        n_joints = np.asarray(data["kintree_table"]).shape[-1]
        kinds = {16: "MANO (a hand model)", 52: "SMPL+H", 55: "SMPL-X"}
        if n_joints != 24:
            kind = kinds.get(n_joints, f"a model with {n_joints} joints")
            raise ModelFileError(
                f"{path}: this is {kind}, not SMPL (24 joints); give the SMPL model file "
                "(e.g. SMPL_NEUTRAL.pkl) instead"
            )
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ModelFileError(
            f"{path}: missing {', '.join(missing)}; an SMPL model file has {', '.join(REQUIRED_KEYS)}"
        )
    n_verts = np.asarray(data["v_template"]).shape[0]
    expected = {
        "v_template": (n_verts, 3),
        "weights": (n_verts, 24),
        "J_regressor": (24, n_verts),
        "posedirs": (n_verts, 3, 207),
        "kintree_table": (2, 24),
    }
    for key, shape in expected.items():
        got = np.asarray(data[key]).shape
        if got != shape:
            raise ModelFileError(f"{path}: '{key}' has shape {got}, expected {shape}")
    shapedirs = np.asarray(data["shapedirs"])
    if shapedirs.ndim != 3 or shapedirs.shape[:2] != (n_verts, 3):
        raise ModelFileError(
            f"{path}: 'shapedirs' has shape {shapedirs.shape}, expected ({n_verts}, 3, num_betas)"
        )
    faces = np.asarray(data["f"])
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= n_verts:
        raise ModelFileError(
            f"{path}: 'f' must be (F, 3) vertex indices in [0, {n_verts}), got shape {faces.shape}"
        )


def load_model_file(path: str | os.PathLike) -> dict:
    """Read one SMPL model file (.pkl, chumpy or not, or .npz) into a dict of numpy arrays.

    Keys: the SMPL ones (``v_template (V,3)``, ``f (F,3)``, ``J_regressor (24,V)`` dense,
    ``kintree_table (2,24)``, ``weights (V,24)``, ``shapedirs (V,3,S)``, ``posedirs (V,3,207)``)
    and, where present, ``vt``, ``ft``, ``vertex_ids``.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no such model file. {SMPL_LICENSE_HINT}")
    data = _read_raw(path)
    _check_smpl(data, path)
    return data


def _pack_vertex_ids(vertex_ids: dict) -> dict:
    names = sorted(vertex_ids)
    return {"vertex_ids_names": np.array(names),
            "vertex_ids_index": np.array([vertex_ids[n] for n in names], dtype=np.int64)}


def _unpack_vertex_ids(data: dict) -> dict:
    if "vertex_ids_names" in data:
        names, index = data.pop("vertex_ids_names"), data.pop("vertex_ids_index")
        data[VERTEX_IDS_KEY] = {str(n): int(i) for n, i in zip(names, index, strict=True)}
    return data


def model_arrays(data: dict) -> dict:
    """The arrays to store for a model: required + optional keys; faces uint32 as in SMPL's
    files, index tables int64, everything else float32."""
    out = {k: np.asarray(data[k]) for k in REQUIRED_KEYS + OPTIONAL_ARRAY_KEYS if k in data}
    for key, array in out.items():
        if key == "f":
            out[key] = array.astype(np.uint32)
        elif key in ("kintree_table", "ft"):
            out[key] = array.astype(np.int64)
        else:  # smplx computes in float32; float64 would double the file for nothing
            out[key] = array.astype(np.float32)
    if VERTEX_IDS_KEY in data:
        out[VERTEX_IDS_KEY] = dict(data[VERTEX_IDS_KEY])
    return out


def save_model_pkl(data: dict, path: str | os.PathLike) -> None:
    """Write a model in SMPL's pickle format (plain numpy, loads with smplx.create)."""
    arrays = model_arrays(data)
    arrays.setdefault("bs_type", "lrotmin")
    arrays.setdefault("bs_style", "lbs")
    atomic_write(Path(path), lambda fh: pickle.dump(arrays, fh, protocol=2))


def save_model_npz(data: dict, path: str | os.PathLike) -> None:
    """Write a model as ``.npz`` (no pickle inside)."""
    arrays = model_arrays(data)
    if VERTEX_IDS_KEY in arrays:
        arrays.update(_pack_vertex_ids(arrays.pop(VERTEX_IDS_KEY)))
    atomic_write(Path(path), lambda fh: np.savez(fh, **arrays))


def convert_smpl(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Convert an SMPL model file (official chumpy .pkl or other) to .npz; returns ``dst``."""
    dst = Path(dst)
    if dst.suffix != ".npz":
        raise ModelFileError(f"{dst}: the output of convert-smpl must end in .npz")
    save_model_npz(load_model_file(src), dst)
    return dst
