"""What a pickled data file may build, for every reader of one (SMPL model files, benchmark
pickles, prediction files): plain containers and numpy arrays, dtypes and scalars; nothing
that runs code. Names are compared after the mappings pickle itself applies to Python 2 files
(``__builtin__``, ``copy_reg``) and after numpy 1.x's ``numpy.core`` becomes numpy 2's
``numpy._core``."""

from __future__ import annotations

import _compat_pickle

ARRAY_GLOBALS = frozenset({
    ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "bytearray"), ("collections", "OrderedDict"), ("_codecs", "encode"), ("numpy", "ndarray"),
    ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
})


def canonical_global(module: str, name: str) -> tuple[str, str]:
    """(module, name) as this Python and numpy call it."""
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    if module.startswith("numpy.core"):
        module = "numpy._core" + module[len("numpy.core"):]
    return module, name
