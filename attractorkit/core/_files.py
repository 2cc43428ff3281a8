"""The one safe writer: every file attractorkit writes goes through this module.

Three rules, whoever the caller is:

1. The output directory is resolved once (:func:`output_dir`), created if asked, and refused up
   front when it is not a directory or cannot be written to.
2. A file name is a single path component (:func:`check_name`): no separators, not ``''``,
   ``'.'`` or ``'..'``, no NUL, so a name taken from a config file or a user cannot climb out of
   the output directory.
3. A file is written to a temporary file in the same directory and then renamed onto its final
   name with :func:`os.replace`. A crash never leaves a half-written file under the final name,
   and a symbolic link at the final name is replaced *itself*: its target is never written.

For implementers::

    out = output_dir(args.out)                       # once, before any work
    write_text(out, "summary.txt", text)
    with atomic_path(out, "figure.png") as tmp:      # for writers that want a path
        fig.savefig(tmp)
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._errors import ValidationError

__all__ = ["output_dir", "check_name", "write_bytes", "write_text", "atomic_path"]

#: Permissions of a written file (mkstemp's 0600 would hide results from the other users of a
#: shared machine).
FILE_MODE = 0o644
_MAX_NAME_BYTES = 255  # the limit of every common file system on one path component


def _describe(x) -> str:
    return f"{type(x).__name__} {x!r}"[:200]


def _as_path(value, argument: str) -> Path:
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise ValidationError(
            f"{argument}: expected a path (str or os.PathLike), received {_describe(value)}"
        )
    text = os.fspath(value)
    if not isinstance(text, str) or text == "" or "\x00" in text:
        raise ValidationError(f"{argument}: expected a non-empty path, received {value!r}")
    return Path(text).expanduser()


def output_dir(path, *, create: bool = True, argument: str = "path") -> Path:
    """Resolve an output directory once, create it if asked, and check it can be written to.

    Parameters
    ----------
    path : str or os.PathLike
        The directory. ``~`` is expanded; links along the path are resolved here, once.
    create : bool, default True
        Create the directory (and its parents) when it does not exist.
    argument : str, default "path"
        The argument's name as the caller knows it (``"--out"``, ``"out_dir"``), used in the
        error message.

    Returns
    -------
    pathlib.Path
        The absolute, resolved directory.

    Raises
    ------
    ValidationError
        If the path exists but is not a directory, cannot be created, or is not writable
        (checked by creating and removing a temporary file in it).
    """
    p = _as_path(path, argument)
    if p.exists() and not p.is_dir():
        raise ValidationError(
            f"{argument}: expected a directory, received {str(p)!r}, which is an existing file"
        )
    if not p.exists():
        if not create:
            raise ValidationError(
                f"{argument}: expected an existing directory, received {str(p)!r}, "
                "which does not exist"
            )
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValidationError(
                f"{argument}: expected a directory that can be created, received {str(p)!r} "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
    p = p.resolve()
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=p)
    except OSError as exc:
        raise ValidationError(
            f"{argument}: expected a writable directory, received {str(p)!r} "
            f"({exc.strerror or type(exc).__name__})"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return p


def check_name(name, *, what: str = "name") -> str:
    """Return ``name`` if it is one path component, else raise a ValidationError.

    Refused: non-strings, ``''``, ``'.'``, ``'..'``, any ``/`` or ``\\`` (a separator on some
    system), NUL, and names longer than 255 bytes in UTF-8.
    """
    if not isinstance(name, str):
        raise ValidationError(f"{what}: expected a file name (str), received {_describe(name)}")
    problem = None
    if name in ("", ".", ".."):
        problem = "is not a file name"
    elif "/" in name or "\\" in name or (os.sep in name) or (os.altsep and os.altsep in name):
        problem = "contains a path separator"
    elif "\x00" in name:
        problem = "contains a NUL character"
    elif len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
        problem = f"is longer than {_MAX_NAME_BYTES} bytes"
    if problem:
        raise ValidationError(
            f"{what}: expected a single path component (no separators, not '.' or '..'), "
            f"received {name!r}, which {problem}"
        )
    return name


def _target(directory, name) -> tuple[Path, Path]:
    d = _as_path(directory, "directory")
    if not d.is_dir():
        raise ValidationError(
            f"directory: expected an existing directory (see output_dir), received {str(d)!r}"
        )
    final = d / check_name(name)
    try:
        st = os.lstat(final)
    except FileNotFoundError:
        return d, final
    if stat.S_ISDIR(st.st_mode):
        raise ValidationError(
            f"name: expected a file name free to write, received {name!r}, which is an "
            f"existing directory in {str(d)!r}"
        )
    return d, final


def _temporary(directory: Path, name: str) -> Path:
    # Keep the final suffix so that writers which infer a format from the extension
    # (matplotlib's savefig, numpy's savez) see the same one.
    tail = name if len(name) <= 120 else name[-120:]
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + tail, dir=directory)
    os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(directory, name) -> Iterator[Path]:
    """Yield a temporary path in ``directory``; on success it replaces ``directory/name``.

    For writers that need a path (``savefig``, ``zipfile.ZipFile``, ``np.savez``). The temporary
    file already exists (empty, created with ``O_EXCL``) and ends with ``name``, so a format
    inferred from the extension is the right one. If ``directory/name`` is a symbolic link, the
    link itself is replaced; its target is never written. On an exception the temporary file is
    removed and nothing changes under the final name.
    """
    d, final = _target(directory, name)
    tmp = _temporary(d, final.name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(directory, name, data: bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` to ``directory/name`` atomically (see :func:`atomic_path`).

    ``fsync=True`` flushes the file to disk before the rename (survives a power loss, not only
    a crash of the process). Returns the final path.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError(f"data: expected bytes, received {type(data).__name__}")
    with atomic_path(directory, name) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        final = tmp.parent / name
    return final


def write_text(directory, name, text: str, *, encoding: str = "utf-8",
               fsync: bool = False) -> Path:
    """Write ``text`` to ``directory/name`` atomically (see :func:`write_bytes`)."""
    if not isinstance(text, str):
        raise ValidationError(f"text: expected str, received {type(text).__name__}")
    return write_bytes(directory, name, text.encode(encoding), fsync=fsync)
