"""The sweep runner: every (paradigm, delta, complexity, seed) run, resumable, on any executor.

A run is computed by a pure function of (config, spec) that returns its files as bytes; the
driver writes them under ``OUT/runs/.tmp-<id>-<random>/`` with a ``manifest.json`` (the run's
settings hash, versions, every file's size and sha256) and renames the directory to
``OUT/runs/<id>/``. So:

- a finished run is a directory whose manifest matches its files and the current settings;
  reruns skip it;
- a crash (even ``kill -9``) loses only the runs in flight: their temporary directories are
  removed at the next start;
- a run directory that fails its checksums, or was computed under other settings, is moved
  aside, deleted and computed again;
- results never depend on the executor: the same function runs in-process, in local worker
  processes, or on a Dask or Ray cluster, with the same thread limits, and writes go through
  the driver only (workers need no shared file system).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from attractorkit.core._errors import ValidationError
from attractorkit.core._files import check_name, output_dir, write_bytes, write_text

from .config import StudyConfig, stable_hash
from .executors import execute, progress_bar

__all__ = ["RunSpec", "SweepReport", "expand_runs", "run_hash", "run_sweep", "finished_runs",
           "check_run", "compute_run", "MANIFEST", "RUN_FORMAT"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
RUN_FORMAT = 1
_TMP = ".tmp-"
_TRASH = ".trash-"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of the sweep."""

    paradigm: str
    delta: float
    complexity: str
    seed: int

    @property
    def run_id(self) -> str:
        return f"{self.paradigm}_d{self.delta:g}_{self.complexity}_s{self.seed:03d}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def expand_runs(config: StudyConfig) -> list[RunSpec]:
    """The runs of a study, in a fixed order (seeds outermost, so early results span cells);
    the ablation's paradigms run at ``ablation_deltas`` on the easiest complexity level."""
    from .config import ABLATIONS

    out = []
    for s in config.seeds:
        for c in config.complexities:
            for d in config.deltas:
                out += [RunSpec(p, float(d), c, int(s)) for p in config.paradigms]
                if c == config.complexities[0] and d in config.ablation_deltas:
                    out += [RunSpec(p, float(d), c, int(s)) for p in ABLATIONS]
    return out


def run_hash(config: StudyConfig, spec: RunSpec) -> str:
    """Hash of everything that determines the run's results."""
    return stable_hash({"format": RUN_FORMAT, "spec": spec.to_dict(),
                        "settings": config.run_settings(spec.paradigm, spec.complexity)})


# -- the work of one run (executed wherever the executor puts it) ----------------------------
@contextlib.contextmanager
def thread_limits(n: int):
    """Limit BLAS, torch and numba to ``n`` threads for the duration (restored afterwards)."""
    from threadpoolctl import threadpool_limits

    restore = []
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is part of the study extra
        torch = None     # without torch there are no torch threads to limit
    if torch is not None:
        old = torch.get_num_threads()
        torch.set_num_threads(n)
        restore.append(lambda: torch.set_num_threads(old))
    import numba

    old_nb = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    restore.append(lambda: numba.set_num_threads(old_nb))
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        for fn in reversed(restore):
            fn()


def compute_run(config: dict, spec: dict) -> dict:
    """Train and analyse one run: ``{"files": {name: bytes}, "seconds", "cpu_seconds",
    "max_rss_mb"}`` (the last three are machine facts: they go to the manifest only).

    Takes plain dicts so that it can be shipped to any worker.
    """
    from .pipeline import run_files

    cfg = StudyConfig.from_dict(config)
    run = RunSpec(**spec)
    start, cpu = time.perf_counter(), time.process_time()
    with thread_limits(cfg.threads_per_run):
        files = run_files(cfg, run)
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux, bytes on macOS
    return {"files": files, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu,
            "max_rss_mb": rss / (2**20 if sys.platform == "darwin" else 2**10)}


# -- run directories -------------------------------------------------------------------------
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict:
    import numpy

    import attractorkit

    out = {"attractorkit": attractorkit.__version__, "numpy": numpy.__version__,
           "python": platform.python_version()}
    for mod in ("torch", "scipy", "numba"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


def write_run(out_dir: Path, config: StudyConfig, spec: RunSpec, files: dict,
              seconds: float, cpu_seconds: float | None = None,
              max_rss_mb: float | None = None) -> Path:
    """Write a run's files atomically: temporary directory, manifest last, then rename.

    Every file goes through the safe writer (one path component per name, written to a
    temporary file and renamed, never through a link)."""
    runs = output_dir(Path(out_dir) / "runs")
    final = runs / check_name(spec.run_id, what="run id")
    tmp = runs / f"{_TMP}{spec.run_id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        listing = {}
        for name, data in sorted(files.items()):
            check_name(name, what="run file name")
            if name.startswith(".") or name == MANIFEST:
                raise ValidationError(f"files: invalid run file name {name!r}")
            write_bytes(tmp, name, data, fsync=True)
            listing[name] = {"sha256": _sha256(data), "bytes": len(data)}
        manifest = {
            "format": "attractorkit-study-run", "format_version": RUN_FORMAT,
            "run_id": spec.run_id, "spec": spec.to_dict(), "run_hash": run_hash(config, spec),
            "study_config_hash": config.config_hash(), "versions": _versions(),
            "files": listing, "seconds": round(float(seconds), 3),
            "cpu_seconds": None if cpu_seconds is None else round(float(cpu_seconds), 3),
            "max_rss_mb": None if max_rss_mb is None else round(float(max_rss_mb), 1),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
        }
        write_bytes(tmp, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode(),
                    fsync=True)
        _fsync_dir(tmp)
        if final.exists():  # computed meanwhile by a concurrent writer; keep the valid one
            if check_run(final, run_hash(config, spec))[0] == "ok":
                shutil.rmtree(tmp)
                return final
            _discard(final)
        os.rename(tmp, final)
        _fsync_dir(runs)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # directories cannot be fsynced everywhere
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _discard(path: Path) -> None:
    trash = path.with_name(f"{_TRASH}{path.name}-{uuid.uuid4().hex[:8]}")
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def check_run(run_dir: Path, expected_hash: str | None = None) -> tuple[str, str]:
    """``("ok", "")`` for a complete run, else ``(status, reason)``.

    status is "missing", "corrupt" (manifest unreadable, a file missing, changed or extra) or
    "stale" (computed under other settings than ``expected_hash``).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return "missing", "no directory"
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text())
        listing = manifest["files"]
        stored_hash = manifest["run_hash"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return "corrupt", f"manifest unreadable ({type(exc).__name__})"
    present = {p.name for p in run_dir.iterdir()} - {MANIFEST}
    if present != set(listing):
        return "corrupt", f"files differ from the manifest: {sorted(present ^ set(listing))}"
    for name, meta in listing.items():
        data = (run_dir / name).read_bytes()
        if len(data) != meta.get("bytes") or _sha256(data) != meta.get("sha256"):
            return "corrupt", f"checksum of {name} does not match"
    if expected_hash is not None and stored_hash != expected_hash:
        return "stale", "computed under other settings"
    return "ok", ""


def finished_runs(out_dir) -> list[Path]:
    """Run directories under ``out_dir/runs`` whose files match their manifest, sorted."""
    runs = Path(out_dir) / "runs"
    if not runs.is_dir():
        return []
    return sorted(d for d in runs.iterdir()
                  if not d.name.startswith(".") and check_run(d)[0] == "ok")


# -- the sweep -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SweepReport:
    """What a sweep did: run ids computed, reused, redone (and why) and failed (with errors)."""

    total: int
    computed: tuple
    reused: tuple
    redone: dict
    failed: dict
    seconds: float

    def summary(self) -> str:
        s = (f"{self.total} runs: {len(self.reused)} reused, {len(self.computed)} computed "
             f"({len(self.redone)} redone), {len(self.failed)} failed, {self.seconds:.1f} s")
        for rid, err in list(self.failed.items())[:5]:
            s += f"\n  failed {rid}: {err.splitlines()[-1] if err else ''}"
        return s


LOCK = ".sweep.lock"


@contextlib.contextmanager
def _sweep_lock(out_dir: Path):
    """One sweep per output directory at a time (released by the OS even on kill -9).

    The lock file is opened, never replaced (a replaced file would be another lock), and never
    through a symbolic link (``O_NOFOLLOW``)."""
    path = output_dir(out_dir, argument="out") / check_name(LOCK)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise ValidationError(f"out: cannot open the lock file {str(path)!r} "
                              f"({exc.strerror or type(exc).__name__}; a symbolic link there "
                              "is refused)") from None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, the sweep runs unlocked
        fcntl = None
    fh = os.fdopen(fd, "r+")
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ValidationError(
                    f"out: another sweep is already writing to {str(out_dir)!r}") from None
        yield
    finally:
        fh.close()


def _prepare(out_dir: Path, config: StudyConfig, specs: list[RunSpec]):
    """Remove leftovers of crashed sweeps; sort runs into reusable and to-do (with reasons)."""
    runs = output_dir(out_dir / "runs")
    for d in runs.iterdir():
        if d.name.startswith((_TMP, _TRASH)):
            log.info("removing leftover %s of an interrupted sweep", d.name)
            shutil.rmtree(d, ignore_errors=True)
    reused, todo, redone = [], [], {}
    for spec in specs:
        status, reason = check_run(runs / spec.run_id, run_hash(config, spec))
        if status == "ok":
            reused.append(spec.run_id)
            continue
        if status != "missing":
            log.warning("run %s is %s (%s): computing it again", spec.run_id, status, reason)
            redone[spec.run_id] = f"{status}: {reason}"
            _discard(runs / spec.run_id)
        todo.append(spec)
    return reused, todo, redone


def run_sweep(config: StudyConfig, out_dir, *, n_jobs: int = 1, cluster=None, ray=None,
              progress: bool = False, processes: bool = False,
              compute: Callable = compute_run) -> SweepReport:
    """Compute every missing run of ``config`` into ``out_dir/runs``.

    Parameters
    ----------
    config : StudyConfig
    out_dir : path
    n_jobs : int
        Local worker processes (1: in this process unless ``processes``). Ignored with
        ``cluster`` or ``ray``.
    cluster : str or distributed.Client, optional
        An existing Dask cluster: ``"dask://HOST:PORT"`` / ``"tcp://HOST:PORT"`` or a client.
    ray : str, optional
        The address of an existing Ray cluster (``"auto"`` or ``"HOST:PORT"``).
    progress : bool
        A tqdm progress bar over the runs to compute.
    processes : bool
        Run even a single job in a worker process: workers get fixed thread counts and the
        instruction-set pins of :func:`~.executors.pinned_environment` (results that agree
        across machines), and end when this process dies.
    compute : callable
        ``compute(config_dict, spec_dict) -> {"files": {...}, "seconds": float}``; the default
        trains and analyses (tests substitute cheap functions).

    Returns
    -------
    SweepReport
        Failed runs are reported there (and left for the next sweep), never written.
    """
    if not isinstance(config, StudyConfig):
        raise ValidationError(f"config: expected a StudyConfig, received {type(config).__name__}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValidationError(f"n_jobs: expected an integer >= 1, received {n_jobs!r}")
    if cluster is not None and ray is not None:
        raise ValidationError("cluster, ray: give one of them, not both")
    out_dir = output_dir(out_dir, argument="out")
    start = time.perf_counter()
    specs = expand_runs(config)
    with _sweep_lock(out_dir):
        write_text(out_dir, "study.json", json.dumps(
            {"config": config.to_dict(), "config_hash": config.config_hash()}, indent=1))
        reused, todo, redone = _prepare(out_dir, config, specs)
        computed, failed = [], {}
        bar = progress_bar(len(todo), progress, config.name)
        cfg = config.to_dict()
        try:
            for spec, outcome, error in execute(todo, cfg, compute, n_jobs, cluster, ray,
                                                processes=processes):
                if error is None:
                    write_run(out_dir, config, spec, outcome["files"], outcome["seconds"],
                              outcome.get("cpu_seconds"), outcome.get("max_rss_mb"))
                    computed.append(spec.run_id)
                else:
                    log.error("run %s failed: %s", spec.run_id, error.splitlines()[-1])
                    failed[spec.run_id] = error
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    return SweepReport(total=len(specs), computed=tuple(computed), reused=tuple(reused),
                       redone=redone, failed=failed, seconds=time.perf_counter() - start)
