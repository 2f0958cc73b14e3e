"""pyarrow without pandas: what a file run needs, and no more.

pyarrow tries ``import pandas`` (0.2–0.3 s) the first time it builds almost any
array (its Cython shim asks whether the input is a pandas object), and its C++
converter tries again whenever it converts Python values, until one succeeds.
A CSV run never hands it a pandas object. :func:`keep_pandas_out` makes those
implicit tries fail; an ``import pandas`` *statement* (compound's own, where it
needs pandas: a malformed file, ``--worksheets``) still imports it, after which
pyarrow finds it loaded and uses it as usual.

:func:`factorize` is ``pandas.factorize`` for the arrays a run groups by, on
Arrow's hash kernel. :func:`jemalloc` is the memory pool a run allocates from.
"""

from __future__ import annotations

import contextlib
import dis
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from compound.batch.threads import Held

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


def keep_pandas_out() -> None:
    """From now on, only an ``import pandas`` statement imports pandas (for this process).

    For ``compound batch`` on a CSV file; does nothing once pandas is loaded.
    """
    if "pandas" not in sys.modules and _OnlyStatements not in sys.meta_path:
        sys.meta_path.insert(0, _OnlyStatements)


class _OnlyStatements:
    """An import finder that refuses pandas to anything but an ``import`` statement in Python code.

    pyarrow's tries come from compiled code: the nearest Python frame outside the import
    machinery is then the caller of a pyarrow function, stopped at a call, not at an import.
    """

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name != "pandas":
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back  # type: ignore[assignment]
        if frame is not None and frame.f_code.co_code[frame.f_lasti] == _IMPORT_NAME:
            sys.meta_path.remove(_OnlyStatements)  # pandas is wanted: from now on, as usual
            return None
        raise ModuleNotFoundError("pandas is not imported by a compound batch file run", name="pandas")


def from_numpy(values: np.ndarray, mask: np.ndarray | None = None, from_pandas: bool = False) -> Any:
    """``pa.array(values, mask=mask, from_pandas=from_pandas)`` for a one-dimensional numpy array.

    ``pa.array`` asks every ndarray it is given whether it is a ``np.ma.MaskedArray``,
    which imports ``numpy.ma`` (about 14 ms of a 2-row run's start, issue 13). Numbers
    become Arrow arrays over the same buffer here (``from_pandas``: NaN is missing), and
    objects go to Arrow as a list; anything else to ``pa.array`` itself.
    """
    import pyarrow as pa

    if values.ndim != 1:
        return pa.array(values, mask=mask, from_pandas=from_pandas)
    if values.dtype.kind == "O" and mask is None:
        return pa.array(values.tolist(), from_pandas=from_pandas)
    if values.dtype.kind not in "iuf" or not values.dtype.isnative:
        return pa.array(values, mask=mask, from_pandas=from_pandas)
    values = np.ascontiguousarray(values)
    missing = None if mask is None else np.asarray(mask, dtype=bool)
    if from_pandas and values.dtype.kind == "f":
        missing = np.isnan(values) if missing is None else missing | np.isnan(values)
    nulls = 0 if missing is None else int(missing.sum())
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [validity, pa.py_buffer(values)], null_count=nulls)


def _is_pandas(values: Any) -> bool:
    return type(values).__module__.partition(".")[0] == "pandas"


def factorize(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize(values, use_na_sentinel=True)`` without pandas.

    Codes (int64, −1 for None/NaN) into the distinct values in order of first
    appearance. ``values``: a numpy array, a sequence or a pyarrow array; a pandas
    object (``plan_frame``'s DataFrame columns) or a mix of texts and numbers
    goes to pandas itself, which is then already loaded or is needed.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if _is_pandas(values):
        return _pandas_factorize(values)
    if isinstance(values, pa.ChunkedArray):
        array = values.combine_chunks()
    elif isinstance(values, pa.Array):
        array = values
    else:
        given = np.asarray(values)
        if given.ndim != 1:
            raise ValueError("factorize takes a one-dimensional array")
        try:
            array = from_numpy(given, from_pandas=True)  # from_pandas: NaN is missing, as in pandas
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a mix Arrow cannot hold in one type
            return _pandas_factorize(given)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    encoded = array.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
    if uniques.dtype.kind in "OUS" or uniques.dtype.kind == "b":
        uniques = uniques.astype(object)
    return codes, uniques


def _pandas_factorize(values: Any) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques)


def _default_pool() -> Any:
    import pyarrow as pa

    return pa.default_memory_pool()


def _set_pool(pool: Any) -> None:
    import pyarrow as pa

    pa.set_memory_pool(pool)


#: Arrow's default pool, jemalloc while any run lasts.
_run_pool = Held(_default_pool, _set_pool)


@contextlib.contextmanager
def jemalloc() -> Iterator[None]:
    """Arrow's jemalloc pool as the default for as long as the run lasts, then the one before it.

    pyarrow's default, mimalloc, held ~45 MB more at the peak of a run of a million distinct
    prescriptions and cost twice the system time (sys 0.95 -> 0.51 s, peak 541 -> 494 MB;
    a typical million rows: sys 0.39 -> 0.32 s): on this project's VMs the kernel's first touch
    of fresh pages is expensive, and jemalloc reuses the blocks of lines' buffers.

    The default pool is the process's: a pipeline or the TUI that runs a batch keeps its own
    pool after the run (on success or failure). Arrays the run made from jemalloc (the summary
    holds none; a caller's hook might) stay valid: each buffer frees into the pool it came from.
    Runs overlapping in one process share the switch: the last to end puts the old pool back.

    ``ARROW_DEFAULT_MEMORY_POOL`` set (``system``, ``mimalloc``, ``jemalloc``): nothing is
    switched, the pool Arrow chose from it is used. It is the way out where jemalloc misbehaves
    (a platform's allocator conflict, a memory profiler that follows one allocator only, or a
    comparison of pools), as Arrow documents it for every pyarrow program.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow without jemalloc (Windows): its default
        yield
        return
    _run_pool.take(pool)
    try:
        yield
    finally:
        _run_pool.release()
