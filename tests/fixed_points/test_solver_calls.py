"""The batched numpy path of the Newton solver (PyTorch modules through torch.func, plain
callables, any model without a kernel) evaluates a whole round of trial steps in one call of
``model.step``, and solves exactly as the compiled kernel does."""

import numpy as np
from fp_planted import saturating_gru
from fp_systems import NoKernel

from attractorkit.adapters import GRU
from attractorkit.fixed_points import newton_solve


class Counting(NoKernel):
    def __init__(self, model):
        super().__init__(model)
        self.steps = self.jacobians = 0

    def step(self, h, x):
        self.steps += 1
        return super().step(h, x)

    def jacobian(self, h, x):
        self.jacobians += 1
        return super().jacobian(h, x)


def test_few_step_calls_per_iteration_and_the_kernel_result():
    """A saturating GRU (many backtracking and Levenberg-Marquardt steps): at most four step
    calls per iteration (t = 1; the other step sizes; 3 dampings; 7 dampings), where trying
    the trial steps one at a time takes up to 18; the same statuses and fixed points as the
    kernel's."""
    kernel = GRU(*saturating_gru(12, 3))
    model = Counting(kernel)
    once = kernel.step(np.random.default_rng(0).uniform(-1, 1, (64, 12)), np.zeros((64, 1)))
    H0 = np.concatenate([once, np.random.default_rng(1).uniform(-1, 1, (32, 12))])
    X = np.zeros((96, 1))
    a, b = newton_solve(model, H0, X, max_iter=40), newton_solve(kernel, H0, X, max_iter=40)
    iterations = int(a.iterations.max())
    assert (a.status == "slow").any() and model.jacobians <= iterations + 1
    assert model.steps <= 2 + 4 * iterations
    assert np.mean(a.code == b.code) >= 0.95        # rounding may part long LM paths
    both = a.converged & b.converged & (np.max(np.abs(b.points), axis=1) <= 1)   # in the box;
    assert both.sum() >= 3                          # saturated points far out are ill-posed
    np.testing.assert_allclose(a.points[both], b.points[both], rtol=0, atol=1e-8)
