"""One engine for maps and flows: batched simulation (RK4 for flows), Lyapunov spectra from
streamed Jacobians (QR), Poincare sections, and the Poincaré return map of a flow as a Model
(:class:`ReturnMap`, a derived system that lives here because it needs the engine); and its
lower layer, :func:`advance` (a batch of
states a few steps on) and :func:`evaluate` (F on a batch, NaN rows left out). :func:`warmup`
compiles the numba kernels ahead of their first use.
"""

from __future__ import annotations

from ._engine import advance
from ._lyapunov import LyapunovSpectrum, lyapunov_spectrum
from ._numpy_engine import evaluate
from ._poincare import PoincareSection, poincare_section
from ._return_map import ReturnMap
from ._simulate import Trajectories, simulate
from ._warmup import Warmup, warmup

__all__ = [
    "LyapunovSpectrum",
    "PoincareSection",
    "ReturnMap",
    "Trajectories",
    "Warmup",
    "advance",
    "evaluate",
    "lyapunov_spectrum",
    "poincare_section",
    "simulate",
    "warmup",
]
