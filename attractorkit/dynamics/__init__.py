"""One engine for maps and flows: batched simulation (RK4 for flows), Lyapunov spectra from
streamed Jacobians (QR), Poincare sections.
"""

from __future__ import annotations

from ._lyapunov import LyapunovSpectrum, lyapunov_spectrum
from ._poincare import PoincareSection, poincare_section
from ._simulate import Trajectories, simulate

__all__ = [
    "LyapunovSpectrum",
    "PoincareSection",
    "Trajectories",
    "lyapunov_spectrum",
    "poincare_section",
    "simulate",
]
