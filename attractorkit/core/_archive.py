"""Bounded reading of result files: check every declared size before anything is decompressed.

A result file is a zip archive (see :mod:`attractorkit.core._results`). Its central directory
declares each member's uncompressed size, and each ``.npy`` member starts with a header that
declares its shape and dtype. Both are read first — at most a few hundred bytes are inflated
per member — and checked:

* ``meta.json`` is at most :data:`MAX_META_BYTES`;
* every array the metadata refers to exists, is not an object or structured array, and its
  header's shape and dtype account exactly for the member's declared size;
* every field annotated ``ndarray`` holds an array, every field without a default is present,
  and a class's ``array_shapes`` (optional) hold;
* the total size of the arrays, counted once per reference, is under a ceiling.

Only then are the arrays read, each straight into an array of its checked size (zipfile never
inflates a member past its declared size).
"""

from __future__ import annotations

import dataclasses
import json
import math
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ._budget import format_bytes, memory_budget
from ._errors import ResultFileError

__all__ = ["read_meta", "plan", "check_ceiling", "shape_problem", "load_npz", "load_npy",
           "MAX_META_BYTES", "MIN_CEILING", "MAX_RATIO"]

#: Largest ``meta.json`` accepted (the metadata of real results is a few kB).
MAX_META_BYTES = 64 * 2**20
#: With the default ceiling, a file may always hold this much once decompressed ...
MIN_CEILING = 256 * 2**20
#: ... and more only up to this multiple of its size on disk (DEFLATE reaches ~1000x on
#: constant data, real results ~1-10x).
MAX_RATIO = 100
_KINDS = "biufcSUmM"  # numbers, booleans, fixed-width strings, dates; never objects or structs


def read_meta(zf: zipfile.ZipFile, path, fmt: str, version: int) -> dict:
    """The checked metadata of an open result archive."""
    try:
        info = zf.getinfo("meta.json")
    except KeyError:
        raise ResultFileError(f"{path}: not an attractorkit result file (no meta.json)") from None
    if info.file_size > MAX_META_BYTES:
        raise ResultFileError(
            f"{path}: meta.json declares {format_bytes(info.file_size)}, more than the "
            f"{format_bytes(MAX_META_BYTES)} a result's metadata may take"
        )
    meta = json.loads(zf.read(info))
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise ResultFileError(f"{path}: not an attractorkit result file")
    found = meta.get("schema_version")
    if not isinstance(found, int) or isinstance(found, bool) or found > version:
        raise ResultFileError(
            f"{path}: schema version {found!r} is not supported by this attractorkit "
            f"(supports <= {version}); upgrade attractorkit"
        )
    if "root" not in meta:
        raise ResultFileError(f"{path}: the result file is corrupted (no root entry)")
    return meta


class _Counted:
    """A read-only stream that counts the bytes read (the length of a .npy header)."""

    def __init__(self, fh):
        self.fh, self.n = fh, 0

    def read(self, n=-1):
        data = self.fh.read(n)
        self.n += len(data)
        return data


def _header(zf: zipfile.ZipFile, key, path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, nbytes) declared by member ``key + '.npy'``, checked against its size."""
    if not isinstance(key, str):
        raise ResultFileError(f"{path}: the result file is corrupted (array key {key!r})")
    try:
        info = zf.getinfo(key + ".npy")
    except KeyError:
        raise ResultFileError(f"{path}: the array {key!r} is missing from the file") from None
    with zf.open(info) as fh:
        counted = _Counted(fh)
        major, _minor = np.lib.format.read_magic(counted)
        if major == 1:
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(counted)
        elif major == 2:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(counted)
        else:
            raise ResultFileError(f"{path}: array {key!r} has .npy format version {major}, "
                                  "which result files do not use")
    if dtype.hasobject or dtype.kind not in _KINDS or dtype.fields is not None:
        raise ResultFileError(f"{path}: array {key!r} declares dtype {dtype}; result files hold "
                              "only numbers, booleans and fixed-width strings")
    if any(int(d) < 0 for d in shape):
        raise ResultFileError(f"{path}: array {key!r} declares a negative shape {shape}")
    nbytes = math.prod(int(d) for d in shape) * dtype.itemsize
    if info.file_size != counted.n + nbytes:
        raise ResultFileError(
            f"{path}: array {key!r} declares shape {shape} and dtype {dtype} "
            f"({nbytes} bytes) but its member holds {info.file_size - counted.n} bytes; "
            "the result file is corrupted"
        )
    return tuple(int(d) for d in shape), dtype, nbytes


def shape_problem(cls: type, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    """Check arrays' shapes against ``cls.array_shapes`` (field -> dims: an int, a name bound
    across the fields, or None for any); return what is wrong, or None."""
    schema = getattr(cls, "array_shapes", None) or {}
    bound: dict[str, tuple[int, str]] = {}
    for field, dims in schema.items():
        if field not in shapes:
            continue
        shape = shapes[field]
        if len(shape) != len(dims):
            return (f"{cls.__name__}.{field}: expected {len(dims)} dimension(s) "
                    f"{_show(dims)}, found shape {shape}")
        for dim, size in zip(dims, shape):
            if isinstance(dim, int) and size != dim:
                return f"{cls.__name__}.{field}: expected shape {_show(dims)}, found {shape}"
            if isinstance(dim, str):
                seen = bound.setdefault(dim, (size, field))
                if seen[0] != size:
                    return (f"{cls.__name__}.{field}: {dim}={size} does not match "
                            f"{dim}={seen[0]} of field {seen[1]!r}")
    return None


def _show(dims) -> str:
    return "(" + ", ".join("any" if d is None else str(d) for d in dims) + ")"


def plan(root, zf: zipfile.ZipFile, cls: type, path, lookup: Callable[[str], type]) -> int:
    """Check the metadata tree against the classes and the array headers; return the bytes the
    arrays will take once read (counted per reference)."""
    if not isinstance(root, dict) or "__result__" not in root:
        raise ResultFileError(f"{path}: the result file is corrupted (no result at its root)")
    found = lookup(root["__result__"])
    if not issubclass(found, cls):
        raise ResultFileError(f"{path}: holds a {found.__name__}, not a {cls.__name__}; "
                              f"load it with {found.__name__}.load")
    headers: dict[str, tuple] = {}
    total = [0]

    def array(key) -> tuple[int, ...]:
        if key not in headers:
            headers[key] = _header(zf, key, path)
        total[0] += headers[key][2]
        return headers[key][0]

    def walk(node) -> None:
        if isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            if "__array__" in node:
                array(node["__array__"])
            elif "__result__" in node:
                _result(node, lookup(node["__result__"]), array, walk, path)
            elif "__tuple__" in node:
                walk(node["__tuple__"])
            elif "__dict__" in node and isinstance(node["__dict__"], dict):
                for v in node["__dict__"].values():
                    walk(v)
            elif "__float__" not in node:
                raise ResultFileError(f"{path}: unrecognised entry in result metadata: "
                                      f"{sorted(node)[:5]}")

    walk(root)
    return total[0]


def _result(node, klass, array, walk, path) -> None:
    fields = node.get("fields")
    if not isinstance(fields, dict):
        raise ResultFileError(f"{path}: the result file is corrupted ({klass.__name__} "
                              "without fields)")
    shapes = {}
    for f in dataclasses.fields(klass):
        value = fields.get(f.name, dataclasses.MISSING)
        if value is dataclasses.MISSING:
            required = (f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING)
            if required and f.init:
                raise ResultFileError(f"{path}: {klass.__name__} field {f.name!r} is missing "
                                      "from the file")
            continue
        annotation = str(f.type)
        if "ndarray" in annotation and not (isinstance(value, dict) and "__array__" in value):
            optional = "None" in annotation or "Optional" in annotation
            if not (value is None and optional):
                raise ResultFileError(f"{path}: {klass.__name__} field {f.name!r} must hold an "
                                      f"array, the file has {type(value).__name__}")
        if isinstance(value, dict) and "__array__" in value:
            shapes[f.name] = array(value["__array__"])
        else:
            walk(value)
    problem = shape_problem(klass, shapes)
    if problem:
        raise ResultFileError(f"{path}: {problem}")


def check_ceiling(total: int, path, max_bytes) -> None:
    """Refuse arrays that would take more than ``max_bytes`` (default: see Result.load)."""
    size = path.stat().st_size
    if max_bytes is not None:  # checked by the caller
        limit, why = int(max_bytes), "max_bytes"
    else:
        budget, source = memory_budget()
        ratio_cap = max(MIN_CEILING, MAX_RATIO * size)
        if budget < ratio_cap:
            limit, why = budget, f"the memory budget, {source}"
        else:
            limit, why = ratio_cap, (f"at most {MAX_RATIO} x the file's size or "
                                     f"{format_bytes(MIN_CEILING)}")
    if total > limit:
        raise ResultFileError(
            f"{path}: its arrays would take {format_bytes(total)} once decompressed from a "
            f"{format_bytes(size)} file, more than the ceiling of {format_bytes(limit)} ({why}); "
            "if the file is trusted and memory allows, load it with a larger max_bytes="
        )


# -- plain .npy / .npz files given by a user (recordings, weights, inputs) ----------------------
def load_npz(path, *, argument: str, max_bytes=None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, every member's declared size checked (and the total
    against the ceiling of :meth:`Result.load`) before anything is decompressed.

    Raises a ValidationError naming ``argument`` for anything that is not a plain archive of
    numeric, boolean or string arrays (pickled objects are never loaded).
    """
    from ._errors import ValidationError

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            keys = []
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise ResultFileError(f"{path}: member {info.filename!r} is not an array")
                keys.append(info.filename[:-4])
            total = sum(_header(zf, key, path)[2] for key in keys)
            check_ceiling(total, path, max_bytes)
            out = {}
            for key in keys:
                with zf.open(key + ".npy") as fh:
                    out[key] = np.lib.format.read_array(fh, allow_pickle=False)
            return out
    except ResultFileError as exc:  # its message names the file
        raise ValidationError(f"{argument}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError, KeyError,
            NotImplementedError, RuntimeError) as exc:
        raise ValidationError(f"{argument}: {path}: not a readable .npz archive of arrays "
                              f"({type(exc).__name__}: {exc})"[:500]) from None


def load_npy(path, *, argument: str) -> np.ndarray:
    """The array of an ``.npy`` file, its header's shape checked against the file's size (and
    the memory budget) before the data is read; never pickled objects."""
    from ._errors import ValidationError

    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            counted = _Counted(fh)
            major, _minor = np.lib.format.read_magic(counted)
            reader = {1: np.lib.format.read_array_header_1_0,
                      2: np.lib.format.read_array_header_2_0}.get(major)
            if reader is None:
                raise ValueError(f".npy format version {major} is not supported")
            shape, _fortran, dtype = reader(counted)
            if dtype.hasobject or dtype.kind not in _KINDS or dtype.fields is not None:
                raise ValueError(f"dtype {dtype} is not an array of numbers or strings")
            nbytes = math.prod(int(d) for d in shape) * dtype.itemsize
            if size != counted.n + nbytes:
                raise ValueError(f"the header declares shape {shape} ({nbytes} bytes) but the "
                                 f"file holds {size - counted.n}")
        check_ceiling(nbytes, path, None)
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise ValidationError(f"{argument}: cannot read {str(path)!r} as an .npy array "
                              f"({type(exc).__name__}: {exc})"[:500]) from None
