"""Prediction files in and out, whatever wrote them, without running code from them.

Kinds of file, by suffix:

    .npz              a dict of arrays (``np.load`` without pickles)
    .pkl / .pickle    a pickle, or joblib's file format (``joblib.dump``, uncompressed or zlib
                      compressed, as VIBE, WHAM and 4D-Humans/PHALP write theirs)
    .pt / .pth        ``torch.save`` (GVHMR's ``hmr4d_results.pt``), read with
                      ``torch.load(weights_only=True)``
    .npy              ``np.save`` of one object (TRAM's ``hps_track_<k>.npy``: a dict of torch tensors)

Every pickle is read by a restricted unpickler that builds plain containers, numpy arrays
(``safe_pickle.ARRAY_GLOBALS``) and torch tensors only; a tensor's storage, pickled as
``torch.save`` bytes, is itself read with ``weights_only=True``. Anything else in the file
is refused, naming it. Files are written back in the kind they came in, atomically: pickles
as plain pickles (which ``pickle.load`` and ``joblib.load`` both read), ``.pt`` with
``torch.save``, ``.npy`` with ``np.save``.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.atomic import atomic_write
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.safe_pickle import ARRAY_GLOBALS, canonical_global

KINDS = {".npz": "npz", ".pkl": "pickle", ".pickle": "pickle", ".pt": "torch", ".pth": "torch", ".npy": "npy"}
# Tensors (and their hook dicts) and WHAM's collections.defaultdict(dict).
_MORE_GLOBALS = frozenset({("torch._utils", "_rebuild_tensor_v2"), ("collections", "OrderedDict"),
                           ("collections", "defaultdict")})


class PredictionsFileError(MocapHMRError, ValueError):
    """A predictions file is unreadable or in none of the layouts understood."""


def file_kind(path: Path) -> str:
    """npz | pickle | torch | npy, from the suffix."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise PredictionsFileError(f"{path}: predictions files are {', '.join(KINDS)}")
    return kind


def read_predictions(path: str | os.PathLike):
    """The file's content: a dict of arrays (.npz) or the plain object the file holds."""
    path = Path(path)
    kind = file_kind(path)
    if not path.is_file():
        raise PredictionsFileError(f"{path}: no such predictions file")
    try:
        if kind == "npz":
            with np.load(path, allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
        if kind == "torch":
            return torch.load(path, map_location="cpu", weights_only=True)
        with open(path, "rb") as fh:
            if kind == "npy":
                read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                    np.lib.format.read_magic(fh), np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(fh)
                if not dtype.hasobject:
                    return np.lib.format.read_array(_rewound(fh), allow_pickle=False)
                value = _PredictionsUnpickler(fh, path).load()
                return value.item() if isinstance(value, np.ndarray) and value.shape == () == shape else value
            head = fh.read(1)
            fh.seek(0)
            if head == b"x":  # joblib.dump(..., compress=n): one zlib stream
                return _PredictionsUnpickler(io.BytesIO(zlib.decompress(fh.read())), path).load()
            return _PredictionsUnpickler(fh, path).load()
    except PredictionsFileError:
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, zlib.error, ValueError, OSError, AttributeError,
            IndexError, TypeError, KeyError, RuntimeError) as exc:
        raise PredictionsFileError(f"{path}: cannot be read as a {kind} file ({type(exc).__name__}: {exc}); it may "
                                   "be truncated or corrupt, or hold objects other than arrays and tensors") from exc


def write_predictions(path: str | os.PathLike, data, compressed: bool = False) -> None:
    """Atomically write ``data`` in the kind of file ``path`` names (``compressed``: .npz only)."""
    path = Path(path)
    kind = file_kind(path)
    if kind == "npz":
        save = np.savez_compressed if compressed else np.savez
        atomic_write(path, lambda fh: save(fh, **data))
    elif kind == "torch":
        atomic_write(path, lambda fh: torch.save(data, fh))
    elif kind == "npy":
        atomic_write(path, lambda fh: np.save(fh, data, allow_pickle=not isinstance(data, np.ndarray)))
    else:
        atomic_write(path, lambda fh: pickle.dump(data, fh, protocol=4))


def is_compressed_npz(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist())


def _rewound(fh):
    fh.seek(0)
    return fh


def _storage_from_bytes(data: bytes):
    """A tensor storage pickled by plain pickle: ``torch.save`` bytes, read without pickled code."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


class _JoblibArray:
    """Stands in for joblib's ``NumpyArrayWrapper``: its state says the array's dtype, shape and
    order; the array's bytes follow it in the file, after a padding byte count and padding
    (joblib >= 1.2) when ``numpy_array_alignment_bytes`` is set."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def read(self, fh, source: Path) -> np.ndarray:
        dtype, shape = np.dtype(self.dtype), tuple(int(s) for s in self.shape)
        if dtype.hasobject:
            raise PredictionsFileError(f"{source}: holds an array of Python objects; only numeric arrays are read")
        if self.__dict__.get("numpy_array_alignment_bytes") is not None:
            fh.read(fh.read(1)[0])
        count = int(np.prod(shape, dtype=np.int64))
        data = fh.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise PredictionsFileError(f"{source}: cut short inside an array of shape {shape}")
        array = np.frombuffer(data, dtype=dtype, count=count).copy()
        return array.reshape(shape[::-1]).T if self.order == "F" else array.reshape(shape)


class _PredictionsUnpickler(pickle._Unpickler):
    """Python's own unpickler (joblib's base too), restricted to arrays, plain containers and
    tensors, that also reads joblib's arrays, whose bytes sit in the file right after their wrapper."""

    def __init__(self, fh, source: Path):
        super().__init__(fh)
        self.fh, self.source = fh, source

    def find_class(self, module: str, name: str):
        if (module, name) == ("joblib.numpy_pickle", "NumpyArrayWrapper"):
            return _JoblibArray
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return _storage_from_bytes
        module, name = canonical_global(module, name)
        if (module, name) in ARRAY_GLOBALS | _MORE_GLOBALS:
            return super().find_class(module, name)
        raise PredictionsFileError(f"{self.source}: the pickle refers to {module}.{name}; a predictions file holds "
                                   "only dicts, lists, numpy arrays and torch tensors, so it is not loaded")

    def load_build(self) -> None:
        super().load_build()
        if isinstance(self.stack[-1], _JoblibArray):
            self.stack[-1] = self.stack[-1].read(self.fh, self.source)

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build
