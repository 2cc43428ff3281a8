"""Compiling the kernels ahead of their first use (``attractorkit warmup``)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .._kernels.compiling import compile_log, compile_progress, expect_compilation
from ..core._errors import ValidationError
from ..core._model import KernelModel, KernelSpec
from ..core._results import Result
from ..core._validation import check_bool
from . import _engine as eng
from ._lyapunov import lyapunov_spectrum
from ._simulate import simulate

__all__ = ["warmup", "Warmup", "WARMUP_CELLS"]

#: The model kinds :func:`warmup` prepares, each a tiny model of that kind.
WARMUP_CELLS = ("vanilla", "gru", "lstm")


@dataclasses.dataclass(frozen=True, eq=False)
class Warmup(Result):
    """What :func:`warmup` compiled.

    Attributes
    ----------
    kernels : tuple of str
        The kernels compiled by this call, in order (none when the cache was warm).
    seconds : ndarray of shape (n_kernels,)
        Compilation time of each.
    total_seconds : float
        Wall time of the whole call.
    cells : tuple of str
        The model kinds prepared.
    """

    kernels: tuple
    seconds: np.ndarray
    total_seconds: float
    cells: tuple

    def summary(self) -> str:
        if not self.kernels:
            return (f"Warmup: nothing to compile for {', '.join(self.cells)} "
                    f"({self.total_seconds:.1f} s; the kernels were cached)")
        return (f"Warmup: {len(self.kernels)} kernel(s) compiled for {', '.join(self.cells)} in "
                f"{self.total_seconds:.1f} s; cached for later runs")


def tiny_models(cells=WARMUP_CELLS):
    """One tiny kernel model per kind and path of the engine: (model, inputs) pairs.

    ``"vanilla"`` stands for a single-layer tanh map (one-product kernels), a ReLU map (the
    region test of settling runs), a two-layer map and a flow (per-sample kernels).
    """
    rng = np.random.default_rng(0)
    n, m = 3, 2

    def spec(cell, layers=1, activation="tanh", time="discrete", alpha=1.0):
        g = {"vanilla": 1, "gru": 3, "lstm": 4}[cell]
        width = max(n, m) if layers > 1 else m
        return KernelSpec(cell=cell, activation=activation, time=time, alpha=alpha,
                          Wh=0.3 * rng.standard_normal((layers, g * n, n)),
                          Wx=0.3 * rng.standard_normal((layers, g * n, width)),
                          bh=np.zeros((layers, g * n)), bx=np.zeros((layers, g * n)),
                          n_input=m)

    out = []
    for cell in cells:
        if cell == "vanilla":
            out += [KernelModel(spec("vanilla")), KernelModel(spec("vanilla", activation="relu")),
                    KernelModel(spec("vanilla", layers=2)),
                    KernelModel(spec("vanilla", time="continuous", alpha=0.5), dt=0.1)]
        elif cell in ("gru", "lstm"):
            out.append(KernelModel(spec(cell)))
        else:
            raise ValidationError(f"cells: expected names from {WARMUP_CELLS}, received "
                                  f"{cell!r}")
    return [(model, 0.1 * rng.standard_normal((2, m))) for model in out]


def _engine_paths(model, inputs):
    """Every kernel path of the dynamics engine for this model (a few steps each)."""
    n = model.n_state
    H = np.zeros((4, n))
    for B in (1, 4):  # serial and row-block paths of the batched cell functions
        model.step(H[:B], inputs[:1].repeat(B, 0))
        model.jacobian(H[:B], inputs[:1].repeat(B, 0))
        model.input_jacobian(H[:B], inputs[:1].repeat(B, 0))
    simulate(model, H[:2], inputs, 3, n_transient=1)
    lyapunov_spectrum(model, H[:2], inputs, n_exponents=2, n_steps=4, n_transient=1,
                      n_windows=1, rng=0)
    X = np.ascontiguousarray(inputs[:, None, :])
    cidx = np.array([0, 1, 0, 1])
    Hs = np.full((4, n), 0.1)
    eng.rollout(model, Hs, X, cidx, 1, 3, 1, eng.DEFAULT_THRESHOLD, 3, flow=model.time ==
                "continuous", dt=model.dt, varying=False, settle_tol=1e-9)
    eng.advance(model, H, inputs[0], 2, record=True)


def warmup(*, cells=WARMUP_CELLS, analyses=(), progress=False) -> Warmup:
    """Compile the kernels ahead of their first use, so that the first analysis starts at once.

    numba compiles each kernel on first use and caches it on disk (``NUMBA_CACHE_DIR`` or the
    package's ``__pycache__``); a fresh installation would otherwise pay this in its first
    call. Runs every path of the dynamics engine (simulation, Lyapunov QR, the batched cell
    functions) on one tiny model of each kind, then each of ``analyses`` on the same models.

    Parameters
    ----------
    cells : sequence of {"vanilla", "gru", "lstm"}, default all
        The model kinds to prepare.
    analyses : sequence of callables ``f(model, inputs)``
        Further analyses to run on each tiny model (``inputs`` has shape (2, n_input)), so that
        the layers above the dynamics compile theirs too: for example ``ak.analyze``.
    progress : bool, default False
        Show a progress bar over the kernels as they compile.

    Returns
    -------
    Warmup

    Examples
    --------
    >>> from attractorkit.dynamics import warmup
    >>> warmup(cells=("vanilla",)).cells
    ('vanilla',)
    """
    progress = check_bool("progress", progress)
    cells = tuple(cells)
    t0 = time.perf_counter()
    seen = len(compile_log())
    expect_compilation()  # the user asked for it: no notice suggesting warmup itself
    with compile_progress(progress):
        for model, inputs in tiny_models(cells):
            _engine_paths(model, inputs)
            for analysis in analyses:
                analysis(model, inputs)
    new = compile_log()[seen:]
    return Warmup(kernels=tuple(c.name for c in new),
                  seconds=np.array([c.seconds for c in new], dtype=float),
                  total_seconds=float(time.perf_counter() - t0), cells=cells)
