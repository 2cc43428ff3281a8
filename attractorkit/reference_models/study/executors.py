"""Executors of the sweep: in-process, local processes, a Dask or a Ray cluster.

Each yields ``(spec, outcome, error)`` as runs finish; the runner writes what they return, so
workers never touch the output directory.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterable

from attractorkit.core._errors import MissingDependencyError, ValidationError

__all__ = ["execute", "progress_bar", "worker_environment", "pinned_environment"]

#: seconds between two checks of a worker that its parent is alive
PARENT_POLL = 0.5


def _watch_parent(parent: int) -> None:
    """Worker initialiser: end this process when the sweep's process is gone.

    A worker orphaned by a ``kill -9`` of the sweep would otherwise finish its run and only
    then notice; its parent changes (re-parented to init or a subreaper) as soon as the sweep
    dies, which a daemon thread polls."""
    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="attractorkit-parent-watch", daemon=True).start()


def _host_has_avx2() -> bool:
    try:
        from llvmlite import binding

        features = binding.get_host_cpu_features()
        return bool(features.get("avx2") and features.get("fma"))
    except Exception:  # noqa: BLE001 - unknown host: pin nothing
        return False


def pinned_environment(threads: int) -> dict:
    """Environment of the sweep's worker processes: fixed thread counts, and on x86 hosts with
    AVX2 the same instruction set for every machine in the float32 training (MKL's conditional
    numerical reproducibility branch and PyTorch's CPU kernels), so that machines of one kind
    train the same networks even when one of them has AVX-512 (measured: MKL's default branch
    on an AVX-512 host changes the trained weights; docs/study.md). numba's code generation is
    left to the host: pinning it costs a full recompilation, and the float64 analysis it runs
    gave identical results with and without the pin."""
    env = {k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                      "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}
    if _host_has_avx2():
        env.update({"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"})
    return env


@contextlib.contextmanager
def worker_environment(env: dict):
    """Set ``env`` in this process while workers are started (they inherit it); restore it."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def progress_bar(total, progress, name):
    if not progress or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{name}: runs", unit="run")


def _format_error(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def execute(todo: list, cfg: dict, compute, n_jobs, cluster, ray, *,
            processes: bool = False) -> Iterable:
    """Yield ``(spec, outcome, error)`` as runs finish, on the chosen executor.

    Local runs go to worker processes when ``n_jobs > 1`` or ``processes``; each worker gets
    :func:`pinned_environment` and ends itself when this process dies."""
    if not todo:
        return
    if cluster is not None:
        yield from _execute_dask(todo, cfg, compute, cluster)
    elif ray is not None:
        yield from _execute_ray(todo, cfg, compute, ray)
    elif n_jobs == 1 and not processes:
        for spec in todo:
            try:
                yield spec, compute(cfg, spec.to_dict()), None
            except Exception as exc:  # noqa: BLE001 - a failed run is data for the report
                yield spec, None, _format_error(exc)
    else:
        ctx = multiprocessing.get_context("spawn")
        env = pinned_environment(int(cfg.get("threads_per_run", 1)))
        with worker_environment(env), cf.ProcessPoolExecutor(
                max_workers=min(n_jobs, len(todo)), mp_context=ctx,
                initializer=_watch_parent, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(compute, cfg, s.to_dict()): s for s in todo}
            try:
                for fut in cf.as_completed(futures):
                    exc = fut.exception()
                    yield (futures[fut], None if exc else fut.result(),
                           _format_error(exc) if exc else None)
            finally:
                for fut in futures:
                    fut.cancel()


def _dask_client(cluster):
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            "cluster: running on a Dask cluster needs dask.distributed: "
            "pip install 'attractorkit[dist]'") from None
    if isinstance(cluster, distributed.Client):
        return cluster, False
    if not isinstance(cluster, str) or "://" not in cluster:
        raise ValidationError(
            f"cluster: expected 'dask://HOST:PORT', 'tcp://HOST:PORT' or a distributed.Client, "
            f"received {cluster!r}")
    scheme, rest = cluster.split("://", 1)
    if scheme not in ("dask", "tcp", "tls", "inproc", "ucx", "ws", "wss"):
        raise ValidationError(f"cluster: unknown scheme {scheme!r} in {cluster!r}; "
                              "expected dask://HOST:PORT")
    address = f"{'tcp' if scheme == 'dask' else scheme}://{rest}"
    return distributed.Client(address, timeout="30s"), True


def _execute_dask(todo, cfg, compute, cluster):
    import distributed

    client, owned = _dask_client(cluster)
    try:
        futures = {client.submit(compute, cfg, s.to_dict(), pure=False,
                                 key=f"study-{s.run_id}-{uuid.uuid4().hex[:6]}"): s
                   for s in todo}
        try:
            for fut in distributed.as_completed(futures):
                spec = futures[fut]
                if fut.status == "finished":
                    yield spec, fut.result(), None
                else:
                    exc = fut.exception()
                    yield spec, None, _format_error(exc) if exc else f"dask: {fut.status}"
        finally:
            for fut in futures:
                fut.cancel()
    finally:
        if owned:
            client.close()


def _execute_ray(todo, cfg, compute, address):
    try:
        import ray as ray_mod
    except ImportError:
        raise MissingDependencyError(
            "ray: running on a Ray cluster needs ray: pip install 'attractorkit[dist]'"
        ) from None
    if not ray_mod.is_initialized():
        ray_mod.init(address=address)
    remote = ray_mod.remote(compute)
    pending = {remote.remote(cfg, s.to_dict()): s for s in todo}
    while pending:
        done, _ = ray_mod.wait(list(pending), num_returns=1)
        ref = done[0]
        spec = pending.pop(ref)
        try:
            yield spec, ray_mod.get(ref), None
        except Exception as exc:  # noqa: BLE001 - a failed run is data for the report
            yield spec, None, _format_error(exc)
