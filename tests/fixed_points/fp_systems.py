"""Small dynamical systems with closed-form fixed points, implementing the Model protocol
directly (no kernel), for the fixed-point, cycle and stability tests."""

from __future__ import annotations

import numpy as np


class _Base:
    n_input = 0
    time = "discrete"
    dt = None

    def input_jacobian(self, h, x):
        return np.zeros((np.shape(h)[0], self.n_state, self.n_input))


class Linear(_Base):
    """h' = A h + c (map) or dh/dt = A h + c (flow); c may be scaled by an input: c * (1 + x)."""

    def __init__(self, A, c, *, time="discrete", dt=0.01, with_input=False):
        self.A, self.c = np.asarray(A, float), np.asarray(c, float)
        self.n_state = self.A.shape[0]
        self.time, self.dt = time, (dt if time == "continuous" else None)
        self.n_input = 1 if with_input else 0

    def _c(self, x):
        return self.c[None] * (1.0 + x[:, :1]) if self.n_input else self.c[None]

    def step(self, h, x):
        return h @ self.A.T + self._c(x)

    def jacobian(self, h, x):
        return np.broadcast_to(self.A, (h.shape[0],) + self.A.shape).copy()

    def input_jacobian(self, h, x):
        return np.broadcast_to(self.c[:, None], (h.shape[0], self.n_state, self.n_input)).copy()


class ScaledRotation(_Base):
    """h' = x * R(theta) h: the origin loses stability through a complex pair at x = 1."""

    n_state, n_input = 2, 1

    def __init__(self, theta=0.7):
        self.R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])

    def step(self, h, x):
        return x[:, :1] * (h @ self.R.T) - 0.1 * h * (h * h).sum(1, keepdims=True)

    def jacobian(self, h, x):
        r2 = (h * h).sum(1)
        J = x[:, 0, None, None] * self.R - 0.1 * r2[:, None, None] * np.eye(2)
        return J - 0.2 * h[:, :, None] * h[:, None, :]

    def input_jacobian(self, h, x):
        return (h @ self.R.T)[:, :, None]


class Henon(_Base):
    n_state = 2

    def __init__(self, a=1.4, b=0.3):
        self.a, self.b = a, b

    def step(self, h, x):
        return np.stack([1 - self.a * h[:, 0] ** 2 + h[:, 1], self.b * h[:, 0]], axis=1)

    def jacobian(self, h, x):
        J = np.zeros((h.shape[0], 2, 2))
        J[:, 0, 0] = -2 * self.a * h[:, 0]
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = self.b
        return J


class Logistic(_Base):
    """x' = r x (1 - x); with ``with_input`` the input is r."""

    n_state = 1

    def __init__(self, r=3.2, with_input=False):
        self.r = r
        self.n_input = 1 if with_input else 0

    def _r(self, x):
        return x[:, :1] if self.n_input else self.r

    def step(self, h, x):
        return self._r(x) * h * (1 - h)

    def jacobian(self, h, x):
        return (self._r(x) * (1 - 2 * h))[:, :, None]

    def input_jacobian(self, h, x):
        return (h * (1 - h))[:, :, None] if self.n_input else np.zeros((h.shape[0], 1, 0))


class Lorenz(_Base):
    n_state = 3
    time = "continuous"
    dt = 0.01

    def __init__(self, rho=28.0, sigma=10.0, beta=8.0 / 3.0):
        self.rho, self.sigma, self.beta = rho, sigma, beta

    def step(self, h, x):
        a, b, c = h[:, 0], h[:, 1], h[:, 2]
        return np.stack([self.sigma * (b - a), a * (self.rho - c) - b,
                         a * b - self.beta * c], axis=1)

    def jacobian(self, h, x):
        a, b, c = h[:, 0], h[:, 1], h[:, 2]
        J = np.zeros((h.shape[0], 3, 3))
        J[:, 0, 0], J[:, 0, 1] = -self.sigma, self.sigma
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = self.rho - c, -1.0, -a
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = b, a, -self.beta
        return J


class Bistable(_Base):
    """V-FP6: dx/dt = x - x^3, dy/dt = -y."""

    n_state = 2
    time = "continuous"
    dt = 0.05

    def step(self, h, x):
        return np.stack([h[:, 0] - h[:, 0] ** 3, -h[:, 1]], axis=1)

    def jacobian(self, h, x):
        J = np.zeros((h.shape[0], 2, 2))
        J[:, 0, 0] = 1 - 3 * h[:, 0] ** 2
        J[:, 1, 1] = -1.0
        return J


class Hopf(_Base):
    """V-FP7: Hopf normal form; the input is mu (or fixed ``mu`` without input)."""

    n_state = 2
    time = "continuous"
    dt = 0.02

    def __init__(self, mu=0.5, omega=1.0, with_input=False):
        self.mu, self.omega = mu, omega
        self.n_input = 1 if with_input else 0

    def _mu(self, x):
        return x[:, 0] if self.n_input else np.full(x.shape[0], self.mu)

    def step(self, h, x):
        mu, w, r2 = self._mu(x), self.omega, (h * h).sum(1)
        return np.stack([mu * h[:, 0] - w * h[:, 1] - h[:, 0] * r2,
                         w * h[:, 0] + mu * h[:, 1] - h[:, 1] * r2], axis=1)

    def jacobian(self, h, x):
        mu, w, a, b = self._mu(x), self.omega, h[:, 0], h[:, 1]
        J = np.empty((h.shape[0], 2, 2))
        J[:, 0, 0], J[:, 0, 1] = mu - 3 * a * a - b * b, -w - 2 * a * b
        J[:, 1, 0], J[:, 1, 1] = w - 2 * a * b, mu - a * a - 3 * b * b
        return J

    def input_jacobian(self, h, x):
        return h[:, :, None] * 1.0 if self.n_input else np.zeros((h.shape[0], 2, 0))


class NoKernel:
    """The same model without its ``kernel``: forces the batched numpy paths."""

    def __init__(self, model):
        self._m = model
        self.n_state, self.n_input = model.n_state, model.n_input
        self.time, self.dt = model.time, model.dt

    def step(self, h, x):
        return self._m.step(h, x)

    def jacobian(self, h, x):
        return self._m.jacobian(h, x)

    def input_jacobian(self, h, x):
        return self._m.input_jacobian(h, x)


def relu_fixed_points_reference(W, c):
    """Independent brute force: every activation pattern, numpy solve, sign check."""
    n = W.shape[0]
    out = []
    for code in range(2**n):
        S = np.array([(code >> i) & 1 for i in range(n)], bool)
        h = np.zeros(n)
        if S.any():
            A = np.eye(S.sum()) - W[np.ix_(S, S)]
            if abs(np.linalg.det(A)) < 1e-12:
                continue
            h[S] = np.linalg.solve(A, c[S])
        z = W @ h + c
        if np.all(z[S] >= -1e-10) and np.all(z[~S] <= 1e-10):
            out.append(h)
    return np.array(out).reshape(-1, n)


def same_sets(A, B, tol=1e-8):
    """Every row of A is within tol of a row of B and vice versa (max-norm)."""
    if len(A) == 0 or len(B) == 0:
        return len(A) == len(B)
    D = np.max(np.abs(A[:, None] - B[None]), axis=2)
    return bool(np.all(D.min(1) < tol) and np.all(D.min(0) < tol))


def grouped_relu(n, n_groups, *, seed=0, excite=0.5, inhibit=1.0, noise=0.05, alpha=1.0):
    """A ReLU RNN of ``n_groups`` self-exciting, mutually inhibiting groups plus random
    coupling (SD ``noise / sqrt(n)``), bias 1: every non-empty set of active groups is a fixed
    point (``2^n_groups - 1`` in all; one active group is stable, more are saddles)."""
    from attractorkit.adapters import VanillaRNN

    rng = np.random.default_rng(seed)
    g = np.arange(n) % n_groups
    m = n / n_groups
    W = np.where(g[:, None] == g[None, :], excite / m, -inhibit / m)
    W = W + rng.normal(0, noise / np.sqrt(n), (n, n))
    return VanillaRNN(W, U=rng.normal(0, 0.1, (n, 1)), b=np.ones(n), activation="relu",
                      alpha=alpha)
