"""What one classification does: the model, the thresholds and the sizes of its stages (the
first Lyapunov pass and its extensions, each twice as long as the last)."""

from __future__ import annotations

import dataclasses

from ._thresholds import ClassifierThresholds

__all__ = ["Plan", "N_WINDOWS"]

N_WINDOWS = 10  # windows of the Lyapunov pass (standard errors of the exponents)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a classification does: the model, the thresholds and the sizes of its stages.

    ``concurrent``: the model's calls may run in several threads at once (kernel models);
    for other models simulation and evidence take turns in one thread, since their ``step``
    and ``jacobian`` may not expect concurrent calls."""

    model: object
    flow: bool
    dt: float | None
    thresholds: ClassifierThresholds
    n_steps: int
    n_transient: int
    n_check: int
    lyapunov_all: bool
    n_exponents: int
    max_extensions: int
    divergence_threshold: float
    concurrent: bool

    def pass_steps(self, k) -> int:
        """Steps recorded by Lyapunov pass k (0: the first; each extension doubles them)."""
        return self.n_steps * 2 ** k

    def skip(self, k) -> int:
        """Steps of pass k before the exponents are averaged."""
        return self.pass_steps(k) // 10

    def averaging_time(self, k) -> float:
        return (self.pass_steps(k) - self.skip(k)) * (self.dt if self.flow else 1.0)

    def qr_every(self, k) -> int:
        """QR every 5 steps when that keeps every window boundary on a QR step (the windows,
        hence exponents and standard errors, are then the same as with QR every step)."""
        q, n, skip = 5, self.pass_steps(k), self.skip(k)
        return q if skip % q == 0 and (n - skip) % (N_WINDOWS * q) == 0 else 1
