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

import contextlib
import dataclasses
import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._errors import ResultFileError, ValidationError

__all__ = ["Result", "SCHEMA_VERSION", "results_equal", "atomic_path"]

SCHEMA_VERSION = 1
_FORMAT = "attractorkit-result"
_REGISTRY: dict[str, type[Result]] = {}


class Result:
    """Mixin for frozen-dataclass results: ``summary()``, ``save()``, ``load()``."""

    schema_version: ClassVar[int] = SCHEMA_VERSION

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

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
        return self.summary()

    # -- persistence --------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write this result to ``path`` (a single file; ``.npz`` is appended if missing).

        The file is written to a temporary name first and renamed, so a crash never leaves a
        half-written result under the final name. Returns the path written.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        meta = {
            "format": _FORMAT,
            "schema_version": self.schema_version,
            "root": _encode(self, "", arrays),
        }
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta, indent=1, allow_nan=True))
            for key, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arr, allow_pickle=False)
                zf.writestr(key + ".npy", buf.getvalue())
        return path

    @classmethod
    def load(cls, path):
        """Read a result written by :meth:`save`.

        Raises
        ------
        ResultFileError
            If the file is missing, truncated, corrupted, of another class or of an unknown
            schema version.
        """
        path = Path(path)
        if not path.exists() and path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        if not path.is_file():
            raise ResultFileError(f"path: no result file at {str(path)!r}")
        try:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("meta.json"))
                if meta.get("format") != _FORMAT:
                    raise ResultFileError(f"{path}: not an attractorkit result file")
                version = meta.get("schema_version")
                if not isinstance(version, int) or version > SCHEMA_VERSION:
                    raise ResultFileError(
                        f"{path}: schema version {version!r} is not supported by this "
                        f"attractorkit (supports <= {SCHEMA_VERSION}); upgrade attractorkit"
                    )

                def read(key: str) -> np.ndarray:
                    with zf.open(key + ".npy") as fh:
                        return np.lib.format.read_array(
                            io.BytesIO(fh.read()), allow_pickle=False
                        )

                obj = _decode(meta["root"], read)
        except ResultFileError:
            raise
        except (
            zipfile.BadZipFile, zlib.error, KeyError, ValueError, EOFError, OSError, TypeError,
            NotImplementedError, RuntimeError,  # a damaged header: unknown method, "encrypted"
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


@contextlib.contextmanager
def atomic_path(path, *, mode: int = 0o644):
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    A crash or an exception never leaves a half-written file under the final name (the
    temporary file is removed). The file gets permissions ``mode`` (mkstemp's 0600 would hide
    results and reports from the other users of a shared machine).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- encoding --------------------------------------------------------------------------------
def _encode(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, Result):
        if not dataclasses.is_dataclass(value):
            raise ValidationError(f"{type(value).__name__} must be a dataclass to be saved")
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
        name = node["__result__"]
        if name not in _REGISTRY:
            _import_all_results()
        if name not in _REGISTRY:
            raise ResultFileError(f"unknown result class {name!r} in file")
        cls = _REGISTRY[name]
        fields = {k: _decode(v, read) for k, v in node["fields"].items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in fields.items() if k in known})
    raise ResultFileError(f"unrecognised entry in result metadata: {sorted(node)[:5]}")


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
