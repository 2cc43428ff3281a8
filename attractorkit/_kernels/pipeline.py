"""Batches, one reusable record buffer, and overlapping the simulation of one batch with the
analysis of the previous one.

Analysis code says *what* to do with a batch of runs (simulate it into a record, then judge the
record); these helpers decide *how*: how many runs fit a memory budget, which memory holds the
records, and whether the next batch is simulated while the last one is judged. Nothing here
knows about models or attractors.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["RecordBuffer", "run_pipelined", "map_threads", "MIN_OVERLAP_ROWS"]

MIN_OVERLAP_ROWS = 16  # fewer pending runs than twice this: one batch, no overlap


class RecordBuffer:
    """One float64 buffer for orbit records of shape (B, n_rec, n_state), reused by every stage.

    Fresh memory costs a page fault per page on first touch, so one buffer, touched once, is
    cheaper than an array per batch. Views handed out share the memory: point sets kept from
    a record must be copies.

    Parameters
    ----------
    n_state : int
    max_bytes : int
        Budget for the records held at once (:meth:`rows`, :meth:`batches`).
    allocate : callable, default numpy.empty
        ``allocate(n_elements)`` -> 1-D float64 array (e.g. a huge-page-free workspace).
    """

    def __init__(self, n_state, max_bytes, allocate=np.empty):
        self.n_state = int(n_state)
        self.max_bytes = int(max_bytes)
        self.allocate = allocate
        self._work = None

    def rows(self, n_rec) -> int:
        """Runs whose records of ``n_rec`` states fit the budget (at least 1)."""
        return max(1, int(self.max_bytes // max(n_rec * self.n_state * 8, 1)))

    def batches(self, idx, n_rec) -> list:
        """``idx`` cut into consecutive batches of :meth:`rows` runs."""
        step = self.rows(n_rec)
        return [idx[k:k + step] for k in range(0, idx.size, step)]

    def reserve(self, n_elements) -> None:
        """Make sure the buffer holds at least ``n_elements`` (untouched pages cost nothing)."""
        if self._work is None or self._work.size < n_elements:
            self._work = self.allocate(max(int(n_elements), 1))

    def view(self, n_runs, n_rec) -> np.ndarray:
        """A (n_runs, n_rec, n_state) view of the buffer (grown when too small)."""
        need = n_runs * n_rec * self.n_state
        self.reserve(need)
        return self._work[:need].reshape(n_runs, n_rec, self.n_state)


def run_pipelined(idx, buffer, n_rec, simulate, judge, *, overlap=True) -> list:
    """``judge(batch, records, simulate(batch, records))`` for batches of the runs ``idx``.

    With ``overlap`` the judging of a batch runs in a worker thread while the next batch is
    simulated (worth it when ``simulate`` releases the GIL), so two batches' records are held at
    once: batches of at most half the runs that fit the buffer's budget, written to alternating
    halves of the buffer; a single batch of at least ``2 * MIN_OVERLAP_ROWS`` runs is split in
    two so that there is something to overlap. Without ``overlap`` (callables that must never
    run concurrently) the batches fill the budget and the two calls take turns. Returns the
    results of ``judge`` in batch order.
    """
    if not overlap:
        out = []
        for batch in buffer.batches(idx, n_rec):
            R = buffer.view(batch.size, n_rec)
            out.append(judge(batch, R, simulate(batch, R)))
        return out
    half = max(1, buffer.rows(n_rec) // 2)
    n_batches = -(-idx.size // half)
    if n_batches == 1 and idx.size >= 2 * MIN_OVERLAP_ROWS:
        n_batches = 2
    batches = np.array_split(idx, n_batches)
    size = batches[0].size
    R = buffer.view(2 * size if n_batches > 1 else size, n_rec)
    out, waiting = [], None
    with ThreadPoolExecutor(1) as worker:
        for k, batch in enumerate(batches):
            start = (k % 2) * size
            RB = R[start:start + batch.size]
            payload = simulate(batch, RB)
            if waiting is not None:
                out.append(waiting.result())
            waiting = worker.submit(judge, batch, RB, payload)
        out.append(waiting.result())
    return out


def map_threads(fn, items, *, concurrent=True) -> list:
    """``[fn(item) for item in items]``, in one worker thread per core when ``concurrent`` (for
    independent items whose work is mostly GIL-free LAPACK, sorting and distance code)."""
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1) if concurrent else 1
    if workers > 1:
        with ThreadPoolExecutor(workers) as ex:
            return list(ex.map(fn, items))
    return [fn(item) for item in items]
