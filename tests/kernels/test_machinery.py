"""The kernels' machinery: work arrays, the one array layout, row blocks in threads, BLAS thread
limits, the first-use compilation notice, and one compiled specialisation per kernel."""

import logging
import threading

import numpy as np
import pytest
from numba import njit
from threadpoolctl import threadpool_info

import attractorkit as ak
from attractorkit._kernels import cells, compiling, rollout, tangent
from attractorkit._kernels.memory import kernel_array, workspace
from attractorkit._kernels.parallel import block_bounds, n_blocks, run_blocks
from attractorkit._kernels.threads import single_blas_thread
from attractorkit.adapters import GRU, VanillaRNN
from attractorkit.dynamics import warmup


def test_workspace_is_a_writable_float64_buffer():
    for size in (10, 2**20):  # below and above the size that gets its own mapping
        w = workspace(size)
        assert w.dtype == np.float64 and w.shape == (size,) and w.flags.writeable
        w[:] = 1.5
        assert w.sum() == 1.5 * size


def test_kernel_array_copies_only_what_the_kernels_cannot_take():
    a = np.arange(6.0).reshape(2, 3)
    assert kernel_array(a) is a
    ro = np.broadcast_to(np.arange(3.0), (1, 3))  # "contiguous" but read-only
    for bad in (ro, a.T, a[:, ::2], np.arange(6).reshape(2, 3)):
        k = kernel_array(bad)
        assert k.flags.c_contiguous and k.flags.writeable and k.dtype == np.float64
        np.testing.assert_array_equal(k, bad)
    assert kernel_array([1, 2], np.int64).dtype == np.int64


@njit(nogil=True)
def _fill_block(k, nb, out, ids):
    r0, r1 = block_bounds(k, nb, out.shape[0])
    for r in range(r0, r1):
        out[r] = r * r
        ids[r] = k


@pytest.mark.parametrize("rows, blocks", [(0, 1), (1, 1), (7, 3), (100, 4)])
def test_run_blocks_covers_every_row_once(rows, blocks):
    out = np.full(rows, -1.0)
    ids = np.full(rows, -1, dtype=np.int64)
    run_blocks(_fill_block, blocks, out, ids)
    np.testing.assert_array_equal(out, np.arange(rows) ** 2)
    assert (np.diff(ids) >= 0).all() and set(ids.tolist()) <= set(range(blocks))
    assert n_blocks(rows, min_rows=2) >= 1


def test_run_blocks_raises_after_every_block_finished():
    done = []

    def kernel(k, nb, log):
        if k == 1:
            raise ValueError("block 1 failed")
        log.append(k)

    with pytest.raises(ValueError, match="block 1 failed"):
        run_blocks(kernel, 3, done)
    assert sorted(done) == [0, 2]


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_single_blas_thread_as_context_manager_and_decorator():
    before = _blas_threads()

    @single_blas_thread
    def inside():
        return _blas_threads()

    with single_blas_thread():
        assert all(t == 1 for t in _blas_threads())
    assert all(t == 1 for t in inside())
    assert _blas_threads() == before
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(inside())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 3 and _blas_threads() == before


def test_first_compilation_is_announced_once(monkeypatch, caplog):
    monkeypatch.setitem(compiling._state, "announced", False)

    @njit(cache=False)
    def kernel_never_seen(x):  # compiled on its first call, here
        return x + 1

    kernel_never_seen.py_func.__module__ = "attractorkit._kernels.test"
    with caplog.at_level(logging.INFO, logger="attractorkit"):
        assert kernel_never_seen(1) == 2
        assert kernel_never_seen(2) == 3  # compiled already: no second notice
    notices = [r for r in caplog.records if "compiling numba kernels" in r.getMessage()]
    assert len(notices) == 1 and notices[0].levelno == logging.WARNING
    assert compiling.compile_log()[-1].name == "kernel_never_seen"


def test_asked_for_compilation_is_not_announced(monkeypatch, caplog):
    """``attractorkit warmup`` compiles on purpose: no notice that suggests running warmup."""
    monkeypatch.setitem(compiling._state, "announced", False)
    compiling.expect_compilation()

    @njit(cache=False)
    def kernel_warmed(x):
        return x * 2

    kernel_warmed.py_func.__module__ = "attractorkit._kernels.test"
    with caplog.at_level(logging.INFO, logger="attractorkit"):
        assert kernel_warmed(2) == 4
    assert not [r for r in caplog.records if "compiling numba kernels" in r.getMessage()]
    assert compiling.compile_log()[-1].name == "kernel_warmed"


def _signatures(module):
    for name in dir(module):
        fn = getattr(module, name)
        entry = name.endswith("_rows") or name.endswith("_dense")  # called from Python
        if entry and hasattr(fn, "signatures") and fn.py_func.__module__ == module.__name__:
            yield name, fn.signatures


def test_one_layout_per_kernel_argument(rng):
    """Read-only, broadcast, single-row and integer arguments all reach the kernels as
    writable C-contiguous float64 arrays: no second compilation of a kernel for them."""
    model = VanillaRNN(0.5 * rng.standard_normal((4, 4)), rng.standard_normal((4, 2)))
    gru = GRU(0.3 * rng.standard_normal((12, 2)), 0.3 * rng.standard_normal((12, 4)))
    x = np.broadcast_to(np.ones(2), (3, 2))  # read-only
    for m in (model, gru):
        m.step(np.zeros(4), np.ones(2))
        m.jacobian(np.zeros((1, 4)), x[:1])
        m.input_jacobian(np.zeros((5, 4)), np.ones((5, 2)))
        ak.simulate(m, np.zeros((2, 4)), x, 3)
        ak.lyapunov_spectrum(m, np.zeros(4), x[:1], n_steps=4, n_transient=0, n_windows=1)
        ak.dynamics.advance(m, np.zeros((1, 4)), x[0], 2)
    checked = 0
    for module in (cells, rollout, tangent):
        for name, sigs in _signatures(module):
            checked += bool(sigs)
            for sig in sigs:
                arrays = [a for a in sig if hasattr(a, "layout")]
                assert all(a.layout == "C" and a.mutable for a in arrays), (name, sig)
    assert checked >= 8


def test_warmup_compiles_every_path_of_the_engine(rng):
    warmup(cells=("vanilla",))
    seen = len(compiling.compile_log())
    model = VanillaRNN(0.5 * rng.standard_normal((6, 6)), rng.standard_normal((6, 3)),
                       activation="relu")
    flow = VanillaRNN(0.5 * rng.standard_normal((6, 6)), time="continuous", dt=0.1)
    x = np.broadcast_to(np.ones(3), (2, 3))
    ak.simulate(model, np.zeros((2, 6)), x, 5, n_transient=2)
    ak.lyapunov_spectrum(model, np.zeros(6), x, n_steps=6, n_transient=2, n_windows=2)
    ak.lyapunov_spectrum(flow, np.zeros(6), None, n_steps=6, n_transient=2, n_windows=2)
    model.jacobian(np.zeros((7, 6)), np.ones(3))
    assert compiling.compile_log()[seen:] == []
