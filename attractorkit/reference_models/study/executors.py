"""Executors of the sweep: in-process, local processes, a Dask or a Ray cluster.

Each yields ``(spec, outcome, error)`` as runs finish; the runner writes what they return, so
workers never touch the output directory.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import uuid
from collections.abc import Iterable

from attractorkit.core._errors import MissingDependencyError, ValidationError

__all__ = ["execute", "progress_bar"]


def progress_bar(total, progress, name):
    if not progress or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{name}: runs", unit="run")


def _format_error(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def execute(todo: list, cfg: dict, compute, n_jobs, cluster, ray) -> Iterable:
    """Yield ``(spec, outcome, error)`` as runs finish, on the chosen executor."""
    if not todo:
        return
    if cluster is not None:
        yield from _execute_dask(todo, cfg, compute, cluster)
    elif ray is not None:
        yield from _execute_ray(todo, cfg, compute, ray)
    elif n_jobs == 1:
        for spec in todo:
            try:
                yield spec, compute(cfg, spec.to_dict()), None
            except Exception as exc:  # noqa: BLE001 - a failed run is data for the report
                yield spec, None, _format_error(exc)
    else:
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(n_jobs, len(todo)), mp_context=ctx) as pool:
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
