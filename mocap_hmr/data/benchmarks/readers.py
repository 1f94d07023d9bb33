"""Reading benchmark files (``.npz``, pickles, text) into checked arrays; every error names the
file and the field."""

from __future__ import annotations

import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from mocap_hmr.data.spin_dataset import DatasetError
from mocap_hmr.safe_pickle import ARRAY_GLOBALS, canonical_global

_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError,
                AttributeError, IndexError, TypeError, KeyError)


class _ArrayUnpickler(pickle.Unpickler):
    """Latin-1 (Python 2 pickles, as 3DPW's), restricted to ``safe_pickle.ARRAY_GLOBALS``: a data file
    cannot run code."""

    def __init__(self, fh, path: Path):
        super().__init__(fh, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        module, name = canonical_global(module, name)
        if (module, name) in ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise DatasetError(f"{self.path}: the pickle refers to {module}.{name}; benchmark files hold only dicts, "
                           "lists and numpy arrays, so it is not loaded")


def require_dir(path: Path, expected: str) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{path}: no such folder; expected {expected}")
    return path


def read_npz(path: str | Path, required: tuple[str, ...], expected: str) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` with the ``required`` keys, all of one length (N)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; expected {expected}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except _READ_ERRORS as exc:
        raise DatasetError(f"{path}: cannot be read as an .npz file ({type(exc).__name__}: {exc}); it may be "
                           f"truncated: fetch it again. Expected {expected}") from exc
    missing = [k for k in required if k not in arrays]
    if missing:
        raise DatasetError(f"{path}: missing {', '.join(missing)}; expected {expected}")
    lengths = {k: len(v) for k, v in arrays.items() if v.ndim > 0}
    if len(set(lengths.values())) > 1:
        raise DatasetError(f"{path}: keys of unequal lengths: {', '.join(f'{k} {n}' for k, n in lengths.items())}")
    return arrays


def read_pickle(path: Path, expected: str) -> dict:
    """The dict a pickle holds (numpy arrays, containers and strings only)."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; expected {expected}")
    try:
        with open(path, "rb") as fh:
            data = _ArrayUnpickler(fh, path).load()
    except DatasetError:
        raise
    except _READ_ERRORS as exc:
        raise DatasetError(f"{path}: cannot be read as a pickle ({type(exc).__name__}: {exc}); it may be truncated: "
                           f"fetch it again. Expected {expected}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: holds a {type(data).__name__}; expected {expected}")
    return data


def pick(data: dict, names: tuple[str, ...], path: Path, expected: str) -> Any:
    """``data[name]`` for the first of ``names`` present (spellings of one field)."""
    for name in names:
        if name in data:
            return data[name]
    raise DatasetError(f"{path}: missing {' / '.join(names)}; expected {expected}")


def array_field(value: Any, shape: tuple[int | str, ...], path: Path, field: str, finite: bool = True) -> np.ndarray:
    """``value`` as float64 of ``shape`` (a str entry: any size, e.g. "N"); NaN / Inf refused when ``finite``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: {field} is not numeric ({exc})") from exc
    if array.ndim != len(shape) or any(isinstance(s, int) and s != d for s, d in zip(shape, array.shape, strict=True)):
        expected = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise DatasetError(f"{path}: {field} has shape {array.shape}; expected {expected}")
    if finite and not np.isfinite(array).all():
        raise DatasetError(f"{path}: {field} holds NaN or Inf")
    return array


def read_text_pairs(path: Path, expected: str) -> dict[str, str]:
    """A text file of ``key value`` lines as a dict."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; expected {expected}")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read as text ({exc}); expected {expected}") from exc
    pairs = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise DatasetError(f"{path}: line {number} has {len(words)} words; expected {expected}")
        pairs[words[0]] = words[1]
    return pairs
