"""The result convention shared by every analysis.

A result is a frozen dataclass of numpy arrays (batch first), scalars, strings, small JSON-able
containers and other results. It prints with :meth:`Result.summary`, and saves to and loads from
one file: a zip archive holding each array as an ``.npy`` member and a ``meta.json`` member that
records the class, the schema version and every non-array field. Nothing is ever pickled:
arrays are read with ``allow_pickle=False`` and object arrays are refused at save time.

For implementers::

    @dataclasses.dataclass(frozen=True, eq=False)
    class MyResult(Result):
        values: np.ndarray
        label: str

        def summary(self) -> str:
            return f"MyResult: {self.values.shape[0]} values"
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import _archive, _files
from ._errors import ResultFileError, ValidationError
from ._validation import check_int

__all__ = ["Result", "SCHEMA_VERSION", "results_equal"]

SCHEMA_VERSION = 1
_FORMAT = "attractorkit-result"
_REGISTRY: dict[str, type[Result]] = {}
_REPR_LINES, _REPR_WIDTH, _REPR_CHARS = 8, 200, 520


class Result:
    """Mixin for frozen-dataclass results: ``summary()``, ``save()``, ``load()``."""

    schema_version: ClassVar[int] = SCHEMA_VERSION
    #: Optional schema of the array fields, checked on save and (from the headers, before
    #: reading) on load: field -> dims, each an int, a name bound across the fields (``"n"``)
    #: or None for any size. Example: ``{"points": ("n", "n_state"), "q": ("n",)}``.
    array_shapes: ClassVar[dict[str, tuple]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls
        if "__repr__" not in cls.__dict__:
            # @dataclass adds a __repr__ that dumps every array unless the class already has
            # one: give it the short one (a subclass's own __repr__ is kept)
            cls.__repr__ = Result.__repr__

    # -- presentation -------------------------------------------------------------------------
    def summary(self) -> str:
        """A short human-readable description (subclasses give a richer one)."""
        lines = [type(self).__name__]
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                lines.append(f"  {f.name}: array {v.shape} {v.dtype}")
            elif isinstance(v, Result):
                lines.append(f"  {f.name}: {type(v).__name__}")
            else:
                lines.append(f"  {f.name}: {v!r}"[:120])
        return "\n".join(lines)

    def __repr__(self) -> str:
        """The first lines of :meth:`summary` (at most 8 lines, 600 characters): never an
        array dump, whatever the sizes."""
        try:
            text = self.summary()
        except Exception:  # noqa: BLE001 - a repr must not raise
            text = Result.summary(self)
        lines = [line if len(line) <= _REPR_WIDTH else line[:_REPR_WIDTH - 3] + "..."
                 for line in str(text).splitlines()]
        kept: list[str] = []
        for line in lines:
            if len(kept) == _REPR_LINES or sum(map(len, kept)) + len(line) > _REPR_CHARS:
                break
            kept.append(line)
        if len(kept) < len(lines):
            kept.append(f"  ... {len(lines) - len(kept)} more line(s): .summary()")
        return "\n".join(kept)

    # -- persistence --------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write this result to ``path`` (a single file; ``.npz`` is appended if missing).

        The file is written through the safe writer (:func:`attractorkit.core.atomic_path`): to a
        temporary name first and then renamed, so a crash never leaves a half-written result
        under the final name, and a symbolic link at ``path`` is replaced, never written
        through. Missing parent directories are created. Returns the path written.
        """
        directory, name = _split_path(path)
        arrays: dict[str, np.ndarray] = {}
        meta = {
            "format": _FORMAT,
            "schema_version": self.schema_version,
            "root": _encode(self, "", arrays),
        }
        with _files.atomic_path(directory, name) as tmp, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta, indent=1, allow_nan=True))
            for key, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arr, allow_pickle=False)
                zf.writestr(key + ".npy", buf.getvalue())
        return directory / name

    @classmethod
    def load(cls, path, *, max_bytes=None):
        """Read a result written by :meth:`save`.

        Nothing is decompressed before it is checked: the sizes declared in the archive and the
        shapes declared in each ``.npy`` header are read first and checked against the class's
        fields (an ``ndarray`` field must hold an array; ``shapes`` when the class declares
        them), against each other (a header's shape must account for its member's size) and
        against a ceiling on the bytes the arrays would occupy.

        Parameters
        ----------
        path : str or os.PathLike
            The file (``.npz`` is appended when the name without it does not exist).
        max_bytes : int, optional
            The ceiling on the loaded arrays' total size. Default: the memory budget
            (:func:`attractorkit.core.memory_budget`), and at most ``max(256 MiB, 100 x the
            file's size)``, so that a small file cannot inflate to gigabytes (an archive
            bomb). Pass a larger value to load a legitimately very compressible large result.

        Raises
        ------
        ResultFileError
            If the file is missing, truncated, corrupted, of another class, of an unknown
            schema version, inconsistent with its class, or larger than the ceiling once
            decompressed.
        """
        if max_bytes is not None:
            check_int("max_bytes", max_bytes, minimum=0)
        if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
            raise ValidationError(f"path: expected a file path (str or os.PathLike), received "
                                  f"{type(path).__name__}")
        path = Path(path)
        try:
            if not path.exists() and path.suffix != ".npz" and path.name:
                path = path.with_name(path.name + ".npz")
            found = path.is_file()
        except (ValueError, OSError) as exc:  # a NUL in the name, a name too long...
            raise ResultFileError(f"path: cannot read {str(path)!r} ({exc})") from None
        if not found:
            raise ResultFileError(f"path: no result file at {str(path)!r}")
        try:
            with zipfile.ZipFile(path) as zf:
                meta = _archive.read_meta(zf, path, _FORMAT, SCHEMA_VERSION)
                total = _archive.plan(meta["root"], zf, cls, path, _lookup)
                _archive.check_ceiling(total, path, max_bytes)

                def read(key: str) -> np.ndarray:
                    with zf.open(key + ".npy") as fh:
                        return np.lib.format.read_array(fh, allow_pickle=False)

                obj = _decode(meta["root"], read)
        except ResultFileError:
            raise
        except (
            zipfile.BadZipFile, zlib.error, KeyError, ValueError, EOFError, OSError, TypeError,
            NotImplementedError, RuntimeError,  # a damaged header: unknown method, "encrypted"
            AttributeError, IndexError, ArithmeticError,  # fields a class cannot be built from
        ) as exc:
            raise ResultFileError(
                f"{path}: the result file is truncated or corrupted ({type(exc).__name__}: {exc})"
            ) from None
        if not isinstance(obj, cls):
            raise ResultFileError(
                f"{path}: holds a {type(obj).__name__}, not a {cls.__name__}; "
                f"load it with {type(obj).__name__}.load"
            )
        return obj


def _split_path(path) -> tuple[Path, str]:
    """``path`` -> (its resolved, created parent directory, its final component + ``.npz``)."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise ValidationError(
            f"path: expected a file path (str or os.PathLike), received {type(path).__name__}"
        )
    p = Path(os.fspath(path)).expanduser()
    name = p.name
    if name in ("", ".", ".."):
        raise ValidationError(f"path: expected a path ending in a file name, received {path!r}")
    if not name.endswith(".npz"):
        name += ".npz"
    directory = _files.output_dir(p.parent, argument="path")
    return directory, _files.check_name(name, what="path")


# -- encoding --------------------------------------------------------------------------------
def _encode(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, Result):
        if not dataclasses.is_dataclass(value):
            raise ValidationError(f"{type(value).__name__} must be a dataclass to be saved")
        problem = _archive.shape_problem(type(value), {
            f.name: getattr(value, f.name).shape for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), np.ndarray)})
        if problem:
            raise ValidationError(f"cannot save: {problem}")
        return {
            "__result__": type(value).__name__,
            "fields": {
                f.name: _encode(getattr(value, f.name), f"{key}{f.name}/", arrays)
                for f in dataclasses.fields(value)
            },
        }
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            raise ValidationError(
                f"field {key.rstrip('/')!r}: object arrays cannot be saved without pickle; "
                "use a numeric or fixed-width string dtype"
            )
        name = key.rstrip("/") or "value"
        arrays[name] = np.asarray(value, order="C")
        return {"__array__": name}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if np.isfinite(f) else {"__float__": repr(f)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{key}{i}/", arrays) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{key}{i}/", arrays) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValidationError(f"field {key.rstrip('/')!r}: dict keys must be strings to save")
        return {"__dict__": {k: _encode(v, f"{key}{k}/", arrays) for k, v in value.items()}}
    raise ValidationError(
        f"field {key.rstrip('/')!r}: cannot save a value of type {type(value).__name__}"
    )


def _decode(node: Any, read) -> Any:
    if isinstance(node, list):
        return [_decode(v, read) for v in node]
    if not isinstance(node, dict):
        return node
    if "__array__" in node:
        return read(node["__array__"])
    if "__float__" in node:
        return float(node["__float__"])
    if "__tuple__" in node:
        return tuple(_decode(v, read) for v in node["__tuple__"])
    if "__dict__" in node:
        return {k: _decode(v, read) for k, v in node["__dict__"].items()}
    if "__result__" in node:
        cls = _lookup(node["__result__"])
        fields = {k: _decode(v, read) for k, v in node["fields"].items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in fields.items() if k in known})
    raise ResultFileError(f"unrecognised entry in result metadata: {sorted(node)[:5]}")


def _lookup(name) -> type[Result]:
    """The registered result class called ``name`` (importing the public API if needed)."""
    if not isinstance(name, str):
        raise ResultFileError(f"unknown result class {name!r} in file")
    if name not in _REGISTRY:
        _import_all_results()
    if name not in _REGISTRY:
        raise ResultFileError(f"unknown result class {name!r} in file")
    return _REGISTRY[name]


def _import_all_results() -> None:
    """Import the public API so that every result class is registered."""
    import attractorkit

    for name in getattr(attractorkit, "__all__", []):
        try:
            getattr(attractorkit, name)
        except Exception:  # noqa: BLE001 - an optional part failing to import is not fatal here
            continue


def results_equal(a: Any, b: Any) -> bool:
    """Exact structural equality of two results (arrays compared with NaNs equal)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Result):
        return all(
            results_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(results_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(results_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b
