"""Low-dimensional systems with known attractors, embedded in R^n (test support for the planted
benchmark, ``planted.py``).

A *core* is a small map or flow on k coordinates. :class:`Embedded` adds n - k coordinates v
slaved to it (maps: ``v' = A v + phi(c) G``, A a random contraction; flows:
``dv/dt = -D v + phi(c) G``), so that the attractor is the graph of a function over the core's
attractor — curved in every direction — and then rotates the whole state by a random orthogonal
matrix P (a product of Householder reflections, so that P costs O(n) per vector). The extra
coordinates only add negative exponents: the core's attractor, its period, rotation numbers and
zero exponents are those of the embedded system.
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi


class Householder:
    """P = H_k ... H_1 for random unit vectors; rows of arrays are transformed (as a dense
    matrix in small dimensions, reflection by reflection in large ones)."""

    DENSE_MAX = 80

    def __init__(self, n, rng, k=3):
        W = rng.standard_normal((k, n))
        self.W = W / np.linalg.norm(W, axis=1, keepdims=True)
        self.dense = None
        if n <= self.DENSE_MAX:
            self.dense = self._reflect(np.eye(n), self.W).T  # P

    @staticmethod
    def _reflect(Z, W):
        for w in W:
            Z = Z - 2.0 * (Z @ w)[:, None] * w[None, :]
        return Z

    def apply(self, Z):  # rows z -> (P z)
        if self.dense is not None:
            return Z @ self.dense.T
        return self._reflect(Z, self.W)

    def apply_t(self, H):  # rows h -> (P^T h)
        if self.dense is not None:
            return H @ self.dense
        return self._reflect(H, self.W[::-1])

    def conj(self, Jz):
        """P Jz P^T for a batch (B, n, n)."""
        if self.dense is not None:
            return self.dense @ Jz @ self.dense.T
        B, n, _ = Jz.shape
        J = self.apply(Jz.reshape(B * n, n)).reshape(B, n, n)  # Jz P^T
        return np.swapaxes(self.apply(np.swapaxes(J, 1, 2).reshape(B * n, n)).reshape(B, n, n),
                           1, 2)


class Embedded:
    """A core map or flow in R^n (see the module docstring); a plain Model (no kernel)."""

    n_input = 0

    def __init__(self, core, n, rng, *, contraction=0.6, coupling=0.5):
        k = core.k
        if n < k + 1:
            raise ValueError("n must exceed the core's dimension")
        self.core, self.n_state, self.k = core, int(n), k
        m = n - k
        self.time = "continuous" if core.flow else "discrete"
        self.dt = core.dt if core.flow else None
        if core.flow:
            self.D = rng.uniform(0.5, 2.0, m)
        else:
            A = rng.standard_normal((m, m))
            self.A = A * (contraction / max(np.abs(np.linalg.eigvals(A)).max(), 1e-12))
        self.G = coupling * rng.standard_normal((core.n_features, m)) / np.sqrt(m)
        self.P = Householder(n, rng)

    def _split(self, h):
        h = np.atleast_2d(np.asarray(h, dtype=float))
        z = self.P.apply_t(h)
        return z[:, :self.k], z[:, self.k:]

    def step(self, h, x=None):
        c, v = self._split(h)
        phi = self.core.features(c) @ self.G
        if self.core.flow:
            return self.P.apply(np.concatenate([self.core.field(c), -self.D * v + phi], 1))
        return self.P.apply(np.concatenate([self.core.step(c), v @ self.A.T + phi], 1))

    def jacobian(self, h, x=None):
        c, v = self._split(h)
        B, n, k = c.shape[0], self.n_state, self.k
        Jz = np.zeros((B, n, n))
        Jz[:, :k, :k] = self.core.jac(c)
        Jz[:, k:, :k] = np.einsum("bfk,fm->bmk", self.core.dfeatures(c), self.G)
        if self.core.flow:
            idx = np.arange(k, n)
            Jz[:, idx, idx] = -self.D
        else:
            Jz[:, k:, k:] = self.A
        return self.P.conj(Jz)

    def input_jacobian(self, h, x=None):
        return np.zeros((np.atleast_2d(h).shape[0], self.n_state, 0))

    def embed(self, core_states, rng, spread=0.3):
        """States h = P (c, v) for core states c and random v (N(0, spread^2))."""
        c = np.atleast_2d(np.asarray(core_states, dtype=float))
        v = spread * rng.standard_normal((c.shape[0], self.n_state - self.k))
        return self.P.apply(np.concatenate([c, v], 1))


# -- map cores ----------------------------------------------------------------------------------
class PolarCore:
    """d oscillators in the plane, in polar form: r_i' = R_i + c (r_i - R_i) and the angles
    (in turns) by ``angles(theta) -> (theta', d theta'/d theta)``. Features: cos and sin of
    every angle and cos of twice the first."""

    flow = False

    def __init__(self, angles, d, radii=None, c=0.5):
        self.angles, self.d, self.k = angles, d, 2 * d
        self.R = np.ones(d) if radii is None else np.asarray(radii, dtype=float)
        self.c = c
        self.n_features = 2 * d + 1

    def _polar(self, z):
        x, y = z[:, 0::2], z[:, 1::2]
        return x, y, np.maximum(np.hypot(x, y), 1e-150), np.arctan2(y, x) / TWO_PI

    def step(self, z):
        _, _, r, th = self._polar(z)
        r2 = self.R + self.c * (r - self.R)
        th2, _ = self.angles(th)
        out = np.empty_like(z)
        out[:, 0::2], out[:, 1::2] = r2 * np.cos(TWO_PI * th2), r2 * np.sin(TWO_PI * th2)
        return out

    def _d_in(self, z):
        """d(r_i, theta_i) / d(x_i, y_i): (B, d, 2, 2)."""
        x, y, r, _ = self._polar(z)
        D = np.empty(x.shape + (2, 2))
        D[..., 0, 0], D[..., 0, 1] = x / r, y / r
        D[..., 1, 0], D[..., 1, 1] = -y / (TWO_PI * r * r), x / (TWO_PI * r * r)
        return D

    def jac(self, z):
        _, _, r, th = self._polar(z)
        B, d = r.shape
        r2 = self.R + self.c * (r - self.R)
        th2, dth = self.angles(th)
        Din = self._d_in(z)
        J = np.zeros((B, 2 * d, 2 * d))
        for i in range(d):
            cos, sin = np.cos(TWO_PI * th2[:, i]), np.sin(TWO_PI * th2[:, i])
            # d(x_i', y_i') / d r_i and / d theta_j
            dr = np.stack([cos * self.c, sin * self.c], 1)[:, :, None] * Din[:, i, 0, None, :]
            J[:, 2 * i:2 * i + 2, 2 * i:2 * i + 2] += dr
            dq = TWO_PI * r2[:, i, None] * np.stack([-sin, cos], 1)  # d(x', y') / d theta_i'
            for j in range(d):
                if np.any(dth[:, i, j] != 0):
                    J[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2] += (
                        (dq * dth[:, i, j, None])[:, :, None] * Din[:, j, 1, None, :])
        return J

    def features(self, z):
        th = self._polar(z)[3]
        return np.concatenate([np.cos(TWO_PI * th), np.sin(TWO_PI * th),
                               np.cos(2 * TWO_PI * th[:, :1])], 1)

    def dfeatures(self, z):
        th = self._polar(z)[3]
        B, d = th.shape
        Din = self._d_in(z)
        out = np.zeros((B, 2 * d + 1, 2 * d))
        for i in range(d):
            g = Din[:, i, 1, :]  # d theta_i / d(x_i, y_i)
            out[:, i, 2 * i:2 * i + 2] = -TWO_PI * np.sin(TWO_PI * th[:, i, None]) * g
            out[:, d + i, 2 * i:2 * i + 2] = TWO_PI * np.cos(TWO_PI * th[:, i, None]) * g
        out[:, 2 * d, 0:2] = -2 * TWO_PI * np.sin(2 * TWO_PI * th[:, 0, None]) * Din[:, 0, 1, :]
        return out

    def point(self, theta, r=None):
        """Core states at angles theta (B, d) and radii r (default R)."""
        theta = np.atleast_2d(theta)
        r = self.R if r is None else r
        z = np.empty((theta.shape[0], 2 * self.d))
        z[:, 0::2], z[:, 1::2] = r * np.cos(TWO_PI * theta), r * np.sin(TWO_PI * theta)
        return z


def circle_angles(omega, K=0.0, m=1):
    """theta' = theta + Omega - K / (2 pi m) sin(2 pi m theta) (one oscillator)."""
    def angles(th):
        t = th[:, 0]
        out = (t + omega - K / (TWO_PI * m) * np.sin(TWO_PI * m * t))[:, None]
        return out, (1.0 - K * np.cos(TWO_PI * m * t))[:, None, None]
    return angles


def torus_angles(omegas, eps=0.0):
    """theta_i' = theta_i + omega_i + eps sin(2 pi theta_{i-1}) (i >= 1): a skew rotation."""
    omegas = np.asarray(omegas, dtype=float)

    def angles(th):
        out = th + omegas
        out[:, 1:] += eps * np.sin(TWO_PI * th[:, :-1])
        B, d = th.shape
        D = np.broadcast_to(np.eye(d), (B, d, d)).copy()
        for i in range(1, d):
            D[:, i, i - 1] = eps * TWO_PI * np.cos(TWO_PI * th[:, i - 1])
        return out, D
    return angles


class LogisticCore:
    """x' = r x (1 - x), centred at 0.5 in the state (c = x - 0.5); ``capture``: for x < 0,
    x' = 0.5 x - 0.25 instead (an attracting fixed point at x = -0.5 catching orbits that
    leave [0, 1] when r > 4: transient chaos)."""

    flow, k, n_features = False, 1, 2

    def __init__(self, r, capture=False):
        self.r, self.capture = float(r), capture

    def step(self, c):
        x = c + 0.5
        y = self.r * x * (1 - x)
        if self.capture:
            y = np.where(x < 0, 0.5 * x - 0.25, y)
        return y - 0.5

    def jac(self, c):
        x = c + 0.5
        d = self.r * (1 - 2 * x)
        if self.capture:
            d = np.where(x < 0, 0.5, d)
        return d[:, :, None]

    def features(self, c):
        return np.concatenate([c, c * c - 0.125], 1)

    def dfeatures(self, c):
        out = np.zeros((c.shape[0], 2, 1))
        out[:, 0, 0], out[:, 1, 0] = 1.0, 2 * c[:, 0]
        return out


class HenonCore:
    """(x, y)' = (1 - a x^2 + y, b x)."""

    flow, k, n_features = False, 2, 3

    def __init__(self, a=1.4, b=0.3):
        self.a, self.b = a, b

    def step(self, z):
        return np.stack([1 - self.a * z[:, 0] ** 2 + z[:, 1], self.b * z[:, 0]], 1)

    def jac(self, z):
        J = np.zeros((z.shape[0], 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0] = -2 * self.a * z[:, 0], 1.0, self.b
        return J

    def features(self, z):
        return np.concatenate([z, z[:, :1] ** 2], 1)

    def dfeatures(self, z):
        out = np.zeros((z.shape[0], 3, 2))
        out[:, 0, 0] = out[:, 1, 1] = 1.0
        out[:, 2, 0] = 2 * z[:, 0]
        return out


class AffineCore:
    """z' = tanh(B z + b) (``tanh=True``: a contraction when |B| < 1, one attracting fixed
    point) or z' = z* + B (z - z*) (linear: a focus when B = r R(w), divergence when B has an
    eigenvalue outside the unit circle)."""

    flow = False

    def __init__(self, B, b=None, tanh=True, center=None):
        self.B = np.asarray(B, dtype=float)
        self.k = self.B.shape[0]
        self.b = np.zeros(self.k) if b is None else np.asarray(b, dtype=float)
        self.tanh = tanh
        self.center = np.zeros(self.k) if center is None else np.asarray(center, dtype=float)
        self.n_features = self.k

    def step(self, z):
        if self.tanh:
            return np.tanh(z @ self.B.T + self.b)
        return self.center + (z - self.center) @ self.B.T

    def jac(self, z):
        if self.tanh:
            s = 1 - np.tanh(z @ self.B.T + self.b) ** 2
            return s[:, :, None] * self.B[None]
        return np.broadcast_to(self.B, (z.shape[0], self.k, self.k)).copy()

    def features(self, z):
        return np.sin(z)

    def dfeatures(self, z):
        out = np.zeros((z.shape[0], self.k, self.k))
        idx = np.arange(self.k)
        out[:, idx, idx] = np.cos(z)
        return out


# -- flow cores ---------------------------------------------------------------------------------
class HopfCore:
    """d uncoupled Hopf oscillators (mu_i, omega_i): radius sqrt(mu_i) for mu_i > 0."""

    flow = True

    def __init__(self, mus, omegas, dt):
        self.mu, self.om = np.asarray(mus, float), np.asarray(omegas, float)
        self.d = self.mu.size
        self.k, self.n_features, self.dt = 2 * self.d, 2 * self.d, dt

    def field(self, z):
        x, y = z[:, 0::2], z[:, 1::2]
        r2 = x * x + y * y
        out = np.empty_like(z)
        out[:, 0::2] = self.mu * x - self.om * y - x * r2
        out[:, 1::2] = self.om * x + self.mu * y - y * r2
        return out

    def jac(self, z):
        J = np.zeros((z.shape[0], self.k, self.k))
        for i in range(self.d):
            x, y, mu, om = z[:, 2 * i], z[:, 2 * i + 1], self.mu[i], self.om[i]
            J[:, 2 * i, 2 * i] = mu - 3 * x * x - y * y
            J[:, 2 * i, 2 * i + 1] = -om - 2 * x * y
            J[:, 2 * i + 1, 2 * i] = om - 2 * x * y
            J[:, 2 * i + 1, 2 * i + 1] = mu - x * x - 3 * y * y
        return J

    def features(self, z):
        return z

    def dfeatures(self, z):
        return np.broadcast_to(np.eye(self.k), (z.shape[0], self.k, self.k)).copy()


class ScaledFlowCore:
    """A 3-D flow f(u) seen in coordinates z = s (u - u0) (states of order 1)."""

    flow, k, n_features = True, 3, 3

    def __init__(self, f, jac, scale, offset, dt):
        self.f, self._jac, self.s, self.u0, self.dt = f, jac, scale, np.asarray(offset), dt

    def field(self, z):
        return self.s * self.f(z / self.s + self.u0)

    def jac(self, z):
        return self._jac(z / self.s + self.u0)

    def features(self, z):
        return z

    def dfeatures(self, z):
        return np.broadcast_to(np.eye(3), (z.shape[0], 3, 3)).copy()


def lorenz_core(sigma=10.0, rho=28.0, beta=8.0 / 3.0, dt=0.01):
    def f(u):
        X, Y, Z = u.T
        return np.stack([sigma * (Y - X), X * (rho - Z) - Y, X * Y - beta * Z], 1)

    def jac(u):
        X, Y, Z = u.T
        J = np.zeros((u.shape[0], 3, 3))
        J[:, 0, 0], J[:, 0, 1] = -sigma, sigma
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = rho - Z, -1.0, -X
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = Y, X, -beta
        return J
    return ScaledFlowCore(f, jac, 0.05, [0.0, 0.0, rho - 1.0], dt)


def rossler_core(a=0.2, b=0.2, c=5.7, dt=0.05):
    def f(u):
        X, Y, Z = u.T
        return np.stack([-Y - Z, X + a * Y, b + Z * (X - c)], 1)

    def jac(u):
        X, Y, Z = u.T
        J = np.zeros((u.shape[0], 3, 3))
        J[:, 0, 1], J[:, 0, 2] = -1.0, -1.0
        J[:, 1, 0], J[:, 1, 1] = 1.0, a
        J[:, 2, 0], J[:, 2, 2] = Z, X - c
        return J
    return ScaledFlowCore(f, jac, 0.1, [0.0, 0.0, 2.0], dt)
