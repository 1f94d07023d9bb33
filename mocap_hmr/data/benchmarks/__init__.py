"""Evaluation benchmarks, each read from its public format into one ``BenchmarkSet``
(see ``docs/datasets.md`` for the files and where they come from).

``load_benchmark(name, path, **options)``:

- ``3dpw``: SPIN's ``3dpw_test.npz``, or the 3DPW folder (``sequenceFiles/<split>/*.pkl``;
  options ``split="test"``, ``log``);
- ``mpi-inf-3dhp``: SPIN's ``mpi_inf_3dhp_test.npz``;
- ``aistpp``: the AIST++ annotation folder (options ``views``, ``sequences``, ``log``);
- ``mupots``: ``mupots3d_test.npz``, converted from MuPoTS-3D's ``annot.mat`` files.

Bad files raise ``DatasetError`` naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path

from mocap_hmr.data.benchmarks.aistpp import load_aistpp
from mocap_hmr.data.benchmarks.benchmark_set import JOINT_LAYOUTS, BenchmarkSet
from mocap_hmr.data.benchmarks.mpi_inf_3dhp import load_mpi_inf_3dhp
from mocap_hmr.data.benchmarks.mupots import load_mupots
from mocap_hmr.data.benchmarks.pw3d import load_3dpw
from mocap_hmr.data.spin_dataset import DatasetError
from mocap_hmr.errors import MocapHMRError

LOADERS = {"3dpw": load_3dpw, "mpi-inf-3dhp": load_mpi_inf_3dhp, "aistpp": load_aistpp, "mupots": load_mupots}


def load_benchmark(name: str, path: str | Path, **options) -> BenchmarkSet:
    """The benchmark ``name`` (a key of ``LOADERS``) read from ``path``."""
    if name not in LOADERS:
        raise MocapHMRError(f"unknown benchmark {name!r}; known: {', '.join(LOADERS)}")
    return LOADERS[name](path, **options)


__all__ = ["JOINT_LAYOUTS", "LOADERS", "BenchmarkSet", "DatasetError", "load_benchmark"]
