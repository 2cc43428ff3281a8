"""Small dynamical systems with known answers, written directly against the Model protocol.

Shared by the tests of several areas (``from systems import Henon``; ``tests/`` is on
``sys.path`` through ``tests/conftest.py``). None of them has a ``kernel``, so every analysis
runs its batched-numpy path on them. Parameters that a census may sweep are model inputs
(logistic ``r``, Hopf ``mu``); the others are constructor arguments.
"""

from __future__ import annotations

import numpy as np

SQRT2 = 2.0 ** 0.5
GOLDEN = (5.0 ** 0.5 - 1.0) / 2.0

__all__ = [
    "Logistic",
    "Henon",
    "Lorenz",
    "DiagonalLinear",
    "Hopf",
    "TorusFlow",
    "EmbeddedCircleMap",
    "circle_map_rotation",
    "random_rnn",
]


class _System:
    n_state: int
    n_input: int = 0
    time = "discrete"
    dt = None

    def _hx(self, h, x):
        h = np.atleast_2d(np.asarray(h, dtype=float))
        if x is None or self.n_input == 0:
            x = np.zeros((h.shape[0], self.n_input))
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[0] == 1 and h.shape[0] > 1:
            x = np.broadcast_to(x, (h.shape[0], self.n_input))
        return h, x

    def input_jacobian(self, h, x):
        h, x = self._hx(h, x)
        return np.zeros((h.shape[0], self.n_state, self.n_input))


class Logistic(_System):
    """h' = r h (1 - h); the input is r (n_input = 1)."""

    n_state = 1
    n_input = 1

    def step(self, h, x):
        h, x = self._hx(h, x)
        return x[:, :1] * h * (1.0 - h)

    def jacobian(self, h, x):
        h, x = self._hx(h, x)
        return (x[:, :1] * (1.0 - 2.0 * h))[:, :, None]

    def input_jacobian(self, h, x):
        h, x = self._hx(h, x)
        return (h * (1.0 - h))[:, :, None]


class Henon(_System):
    """(x, y)' = (1 - a x^2 + y, b x); exponents (0.41922, -1.62319) at a = 1.4, b = 0.3."""

    n_state = 2

    def __init__(self, a=1.4, b=0.3):
        self.a, self.b = a, b

    def step(self, h, x):
        h, _ = self._hx(h, x)
        return np.stack([1.0 - self.a * h[:, 0] ** 2 + h[:, 1], self.b * h[:, 0]], axis=1)

    def jacobian(self, h, x):
        h, _ = self._hx(h, x)
        J = np.zeros((h.shape[0], 2, 2))
        J[:, 0, 0] = -2.0 * self.a * h[:, 0]
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = self.b
        return J


class Lorenz(_System):
    """The Lorenz flow; exponents about (0.9056, 0, -14.5723), sum -(sigma + 1 + beta)."""

    n_state = 3
    time = "continuous"

    def __init__(self, sigma=10.0, rho=28.0, beta=8.0 / 3.0, dt=0.01):
        self.sigma, self.rho, self.beta, self.dt = sigma, rho, beta, dt

    def step(self, h, x):
        h, _ = self._hx(h, x)
        X, Y, Z = h.T
        return np.stack(
            [self.sigma * (Y - X), X * (self.rho - Z) - Y, X * Y - self.beta * Z], axis=1
        )

    def jacobian(self, h, x):
        h, _ = self._hx(h, x)
        X, Y, Z = h.T
        J = np.zeros((h.shape[0], 3, 3))
        J[:, 0, 0], J[:, 0, 1] = -self.sigma, self.sigma
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = self.rho - Z, -1.0, -X
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = Y, X, -self.beta
        return J


class DiagonalLinear(_System):
    """h' = a * h (+ x when n_input > 0): exponents log|a_i|; divergent when some |a_i| > 1."""

    def __init__(self, a, with_input=False):
        self.a = np.asarray(a, dtype=float)
        self.n_state = self.a.size
        self.n_input = self.n_state if with_input else 0

    def step(self, h, x):
        h, x = self._hx(h, x)
        out = h * self.a
        return out + x if self.n_input else out

    def jacobian(self, h, x):
        h, _ = self._hx(h, x)
        return np.broadcast_to(np.diag(self.a), (h.shape[0], self.n_state, self.n_state)).copy()

    def input_jacobian(self, h, x):
        h, x = self._hx(h, x)
        return np.broadcast_to(
            np.eye(self.n_state)[:, : self.n_input], (h.shape[0], self.n_state, self.n_input)
        ).copy()


class Hopf(_System):
    """Hopf normal form, input mu: limit cycle of radius sqrt(mu), period 2 pi / omega (mu > 0)."""

    n_state = 2
    n_input = 1
    time = "continuous"

    def __init__(self, omega=1.0, dt=0.05):
        self.omega, self.dt = omega, dt

    def step(self, h, x):
        h, x = self._hx(h, x)
        mu = x[:, 0]
        X, Y = h.T
        r2 = X * X + Y * Y
        return np.stack([mu * X - self.omega * Y - X * r2, self.omega * X + mu * Y - Y * r2], 1)

    def jacobian(self, h, x):
        h, x = self._hx(h, x)
        mu = x[:, 0]
        X, Y = h.T
        J = np.empty((h.shape[0], 2, 2))
        J[:, 0, 0] = mu - 3 * X * X - Y * Y
        J[:, 0, 1] = -self.omega - 2 * X * Y
        J[:, 1, 0] = self.omega - 2 * X * Y
        J[:, 1, 1] = mu - X * X - 3 * Y * Y
        return J


def _hopf_field(u, mu, om):
    X, Y = u[:, 0], u[:, 1]
    r2 = X * X + Y * Y
    return np.stack([mu * X - om * Y - X * r2, om * X + mu * Y - Y * r2], 1)


def _hopf_jac(u, mu, om):
    X, Y = u[:, 0], u[:, 1]
    J = np.empty((u.shape[0], 2, 2))
    J[:, 0, 0] = mu - 3 * X * X - Y * Y
    J[:, 0, 1] = -om - 2 * X * Y
    J[:, 1, 0] = om - 2 * X * Y
    J[:, 1, 1] = mu - X * X - 3 * Y * Y
    return J


class TorusFlow(_System):
    """Two uncoupled Hopf oscillators (radii sqrt(mu1), sqrt(mu2), frequencies omega1, omega2)
    plus ``n_extra`` contracting coordinates, rotated into R^n by a random orthogonal matrix.

    omega2 / omega1 irrational -> a quasi-periodic 2-torus; rational p/q -> a periodic orbit.
    """

    time = "continuous"

    def __init__(self, omega1=1.0, omega2=SQRT2, mu1=1.0, mu2=0.25, n_extra=0,
                 dt=0.05, seed=0):
        self.om = (omega1, omega2)
        self.mu = (mu1, mu2)
        self.n_state = 4 + n_extra
        self.dt = dt
        if seed is None:
            self.M = np.eye(self.n_state)
        else:
            rng = np.random.default_rng(seed)
            self.M = np.linalg.qr(rng.standard_normal((self.n_state, self.n_state)))[0]
        self.decay = np.linspace(0.5, 2.0, n_extra) if n_extra else np.zeros(0)

    def step(self, h, x):
        h, _ = self._hx(h, x)
        u = h @ self.M  # coordinates: M^T h
        du = np.empty_like(u)
        du[:, 0:2] = _hopf_field(u[:, 0:2], self.mu[0], self.om[0])
        du[:, 2:4] = _hopf_field(u[:, 2:4], self.mu[1], self.om[1])
        du[:, 4:] = -self.decay * u[:, 4:]
        return du @ self.M.T

    def jacobian(self, h, x):
        h, _ = self._hx(h, x)
        u = h @ self.M
        Ju = np.zeros((h.shape[0], self.n_state, self.n_state))
        Ju[:, 0:2, 0:2] = _hopf_jac(u[:, 0:2], self.mu[0], self.om[0])
        Ju[:, 2:4, 2:4] = _hopf_jac(u[:, 2:4], self.mu[1], self.om[1])
        idx = np.arange(4, self.n_state)
        Ju[:, idx, idx] = -self.decay
        return self.M @ Ju @ self.M.T


class EmbeddedCircleMap(_System):
    """An attracting invariant circle carrying the circle map, embedded in R^n.

    In coordinates z = (u, v), u in R^2 in polar form (r, theta), v in R^(n-2)::

        r' = 1 + c (r - 1)
        theta' = theta + Omega - K / (2 pi m) sin(2 pi m theta)
        v' = A v + g1 cos(2 pi theta) + g2 sin(2 pi theta) + g3 cos(4 pi theta)

    with A a dense random contraction (spectral radius ``contraction``), so the attractor is a
    curved closed curve (the graph of v over theta). The state is h = P z for a random
    orthogonal P (two Householder reflections sending the circle's plane to a random plane),
    so that the Jacobian costs O(n^2). ``m = q`` with ``Omega = p / q`` and 0 < K < 2 gives an
    attracting period-q orbit (theta = k / q); ``m = 1`` with an irrational rotation number
    gives a quasi-periodic orbit (rotation number: :func:`circle_map_rotation`).
    """

    def __init__(self, n_state=50, omega=GOLDEN, K=0.0, m=1, c=0.5, contraction=0.6,
                 curvature=0.5, seed=0):
        if n_state < 3:
            raise ValueError("n_state >= 3")
        self.n_state = n = int(n_state)
        self.omega, self.K, self.m, self.c = float(omega), float(K), int(m), float(c)
        rng = np.random.default_rng(seed)
        k = n - 2
        A = rng.standard_normal((k, k))
        self.A = A * (contraction / max(np.abs(np.linalg.eigvals(A)).max(), 1e-12))
        self.G = curvature * rng.standard_normal((3, k)) / np.sqrt(k)
        u = rng.standard_normal(n)
        u /= np.linalg.norm(u)
        v = rng.standard_normal(n)
        v -= (v @ u) * u
        v /= np.linalg.norm(v)
        e0, e1 = np.eye(n)[0], np.eye(n)[1]
        w1 = e0 - u
        w1 /= np.linalg.norm(w1)
        h1e1 = e1 - 2 * w1 * (w1 @ e1)
        w2 = h1e1 - v
        w2 /= np.linalg.norm(w2)
        self.W = np.stack([w1, w2])  # P = H2 H1, P^T = H1 H2

    def _P(self, Z):  # rows: P z
        Z = Z - 2 * np.outer(Z @ self.W[0], self.W[0])
        return Z - 2 * np.outer(Z @ self.W[1], self.W[1])

    def _PT(self, H):  # rows: P^T h
        H = H - 2 * np.outer(H @ self.W[1], self.W[1])
        return H - 2 * np.outer(H @ self.W[0], self.W[0])

    def _split(self, h):
        z = self._PT(h)
        x, y, v = z[:, 0], z[:, 1], z[:, 2:]
        return x, y, v, np.hypot(x, y), np.arctan2(y, x) / (2 * np.pi)

    def _theta_next(self, th):
        return th + self.omega - self.K / (2 * np.pi * self.m) * np.sin(2 * np.pi * self.m * th)

    def step(self, h, x_in):
        h, _ = self._hx(h, x_in)
        x, y, v, r, th = self._split(h)
        r2 = 1.0 + self.c * (r - 1.0)
        a2 = 2 * np.pi * self._theta_next(th)
        a = 2 * np.pi * th
        v2 = v @ self.A.T + np.outer(np.cos(a), self.G[0]) + np.outer(np.sin(a), self.G[1])
        v2 += np.outer(np.cos(2 * a), self.G[2])
        z2 = np.concatenate([(r2 * np.cos(a2))[:, None], (r2 * np.sin(a2))[:, None], v2], 1)
        return self._P(z2)

    def jacobian(self, h, x_in):
        h, _ = self._hx(h, x_in)
        x, y, v, r, th = self._split(h)
        B, n = h.shape
        r2 = 1.0 + self.c * (r - 1.0)
        p2 = 2 * np.pi * self._theta_next(th)
        D_in = np.empty((B, 2, 2))  # d(r, theta) / d(x, y)
        D_in[:, 0, 0], D_in[:, 0, 1] = x / r, y / r
        D_in[:, 1, 0], D_in[:, 1, 1] = -y / (2 * np.pi * r * r), x / (2 * np.pi * r * r)
        dth = 1.0 - self.K * np.cos(2 * np.pi * self.m * th)
        D_out = np.empty((B, 2, 2))
        D_out[:, 0, 0], D_out[:, 0, 1] = np.cos(p2) * self.c, -2 * np.pi * r2 * np.sin(p2) * dth
        D_out[:, 1, 0], D_out[:, 1, 1] = np.sin(p2) * self.c, 2 * np.pi * r2 * np.cos(p2) * dth
        Jz = np.zeros((B, n, n))
        Jz[:, :2, :2] = D_out @ D_in
        a = 2 * np.pi * th
        dG = 2 * np.pi * (
            -np.outer(np.sin(a), self.G[0]) + np.outer(np.cos(a), self.G[1])
            - 2 * np.outer(np.sin(2 * a), self.G[2])
        )
        Jz[:, 2:, :2] = dG[:, :, None] * D_in[:, 1, None, :]
        Jz[:, 2:, 2:] = self.A
        # J = P Jz P^T: reflections applied to the columns, then to the rows
        J = self._P(Jz.reshape(B * n, n)).reshape(B, n, n)
        J = np.swapaxes(self._P(np.swapaxes(J, 1, 2).reshape(B * n, n)).reshape(B, n, n), 1, 2)
        return J

    def circle_point(self, theta):
        """A state on the plane r = 1 with v = 0 at angle theta (near, not on, the attractor)."""
        th = np.atleast_1d(theta)
        z = np.zeros((th.size, self.n_state))
        z[:, 0], z[:, 1] = np.cos(2 * np.pi * th), np.sin(2 * np.pi * th)
        return self._P(z)


def circle_map_rotation(omega, K, m=1, n=100_000, n_transient=10_000, theta0=0.123):
    """Rotation number of the (generalised) circle map by iterating the lifted angle."""
    th = theta0
    for _ in range(n_transient):
        th = th + omega - K / (2 * np.pi * m) * np.sin(2 * np.pi * m * th)
    start = th
    for _ in range(n):
        th = th + omega - K / (2 * np.pi * m) * np.sin(2 * np.pi * m * th)
    return (th - start) / n


def random_rnn(n=200, gain=3.0, seed=0, activation="tanh", n_input=0, time="discrete",
               dt=None):
    """h' = phi(W h + U x), W = gain * randn / sqrt(n) (a kernel model)."""
    from attractorkit.adapters import VanillaRNN

    rng = np.random.default_rng(seed)
    W = gain * rng.standard_normal((n, n)) / np.sqrt(n)
    U = rng.standard_normal((n, n_input)) if n_input else None
    return VanillaRNN(W, U, activation=activation, time=time, dt=dt)


class Rotation:
    """A rigid rotation by the input Omega on an attracting circle in the plane (r' = (1 + r)
    / 2): period q for Omega = p / q, quasi-periodic for irrational Omega."""

    n_state, n_input, time, dt = 2, 1, "discrete", None

    def _polar(self, h):
        h = np.atleast_2d(h)
        return np.maximum(np.hypot(h[:, 0], h[:, 1]), 1e-150), np.arctan2(h[:, 1], h[:, 0])

    def step(self, h, x):
        r, a = self._polar(h)
        a2, r2 = a + 2 * np.pi * np.asarray(x)[:, 0], 0.5 * (1 + r)
        return np.stack([r2 * np.cos(a2), r2 * np.sin(a2)], 1)

    def jacobian(self, h, x):
        h = np.atleast_2d(h)
        r, a = self._polar(h)
        a2, r2 = a + 2 * np.pi * np.asarray(x)[:, 0], 0.5 * (1 + r)
        d_in = np.stack([np.stack([h[:, 0] / r, h[:, 1] / r], 1),
                         np.stack([-h[:, 1] / r**2, h[:, 0] / r**2], 1)], 1)  # d(r, a)/dh
        d_out = np.stack([np.stack([0.5 * np.cos(a2), -r2 * np.sin(a2)], 1),
                          np.stack([0.5 * np.sin(a2), r2 * np.cos(a2)], 1)], 1)
        return d_out @ d_in

    def input_jacobian(self, h, x):
        r, a = self._polar(h)
        a2 = a + 2 * np.pi * np.asarray(x)[:, 0]
        return (2 * np.pi * 0.5 * (1 + r))[:, None, None] * np.stack(
            [-np.sin(a2), np.cos(a2)], 1)[:, :, None]
