"""Networks with planted fixed-point structure and their truth, computed independently of
attractorkit (numpy linear algebra, closed forms, scipy's root finder)."""

from __future__ import annotations

import itertools

import numpy as np

# tuning half and held-out half of the planted systems (seed, n, groups / seed); the held-out
# half was run only once the defaults were fixed, and is checked by the same tests
WTA_TUNE = [(0, 60, 4), (1, 250, 4)]
WTA_HELD_OUT = [(2, 90, 3), (3, 200, 5)]
WTA_SMALL_TUNE = [(0, 10, 2), (1, 12, 3)]
WTA_SMALL_HELD_OUT = [(2, 12, 2), (3, 11, 3)]
GRU_TUNE = [2, 3]
GRU_HELD_OUT = [4, 5]


def wta_weights(n, n_groups, seed, *, excite=0.7, inhibit=0.36, noise=0.05):
    """A winner-take-all ReLU map h' = relu(W h + b) without leak: groups excite themselves
    (0.7) and inhibit the others (0.36: a winner silences the rest, yet the all-active state
    does not flip-flop for up to 5 groups), plus random coupling; bias 1."""
    rng = np.random.default_rng(seed)
    g = np.arange(n) % n_groups
    m = n / n_groups
    W = np.where(g[:, None] == g[None, :], excite / m, -inhibit / m)
    W = W + rng.normal(0, noise / np.sqrt(n), (n, n))
    return W, np.ones(n), g


def wta_truth(W, c, g):
    """The fixed points whose active set is a union of groups, with their spectral radius:
    (I - W_AA) h_A = c_A and the sign check. Without random coupling (``noise=0``) the units of
    a group receive the same drive, so every fixed point is of this kind: the complete set."""
    pts, rho = [], []
    G = g.max() + 1
    for r in range(1, G + 1):
        for S in itertools.combinations(range(G), r):
            A = np.isin(g, S)
            h = np.zeros(len(c))
            h[A] = np.linalg.solve(np.eye(A.sum()) - W[np.ix_(A, A)], c[A])
            z = W @ h + c
            if np.all(z[A] > 0) and np.all(z[~A] < 0):
                pts.append(h)
                J = A[:, None] * W
                rho.append(np.max(np.abs(np.linalg.eigvals(J))))
    return np.array(pts), np.array(rho)


def linear_attractor(n, dim, seed, *, eps=0.0, time="discrete"):
    """h' = A h (map) or dh/dt = (A - I) h (flow) with ``dim`` eigenvalues at 1 - eps (a line or
    plane of fixed points when eps = 0, a slow manifold otherwise) and the others in
    [0.2, 0.7]; A = Q diag Q^T with a random orthogonal Q. Returns A and the marginal basis."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    d = np.r_[np.full(dim, 1.0 - eps), rng.uniform(0.2, 0.7, n - dim)]
    return Q @ np.diag(d) @ Q.T, Q[:, :dim]


class Ring:
    """h' = h + a (1 - |P h|^2) P h - b (I - P P^T) h in n dimensions, P the projection on a
    random plane: every point of the unit circle in that plane is fixed (eigenvalues 1 along
    it, 1 - 2a across it, 1 - b off the plane); the origin is an unstable node in the plane."""

    n_input, time, dt = 0, "discrete", None

    def __init__(self, n=6, a=0.3, b=0.5, seed=0):
        self.n_state, self.a, self.b = n, a, b
        self.B = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, 2)))[0]

    def step(self, h, x):
        y = h @ self.B
        r2 = (y * y).sum(1, keepdims=True)
        off = h - y @ self.B.T
        return h + self.a * (1 - r2) * (y @ self.B.T) - self.b * off

    def jacobian(self, h, x):
        y = h @ self.B
        r2 = (y * y).sum(1)
        P = self.B @ self.B.T
        n = self.n_state
        J = np.eye(n)[None] + self.a * (1 - r2)[:, None, None] * P[None]
        Py = y @ self.B.T
        J = J - 2 * self.a * Py[:, :, None] * Py[:, None, :]
        return J - self.b * (np.eye(n) - P)[None]

    def input_jacobian(self, h, x):
        return np.zeros((len(h), self.n_state, 0))


class Arc(Ring):
    """The ring map plus a rotation ``c max(0, y_2)^2 (-y_2, y_1)`` in the plane (y = P h):
    only the closed lower half of the unit circle (y_2 <= 0) stays fixed, an open arc of
    fixed points (eigenvalue 1 along it), and the origin."""

    def __init__(self, n=6, c=0.5, **kw):
        super().__init__(n, **kw)
        self.c = c

    def step(self, h, x):
        y = h @ self.B
        s = np.maximum(y[:, 1], 0.0) ** 2
        rot = self.c * s[:, None] * np.stack([-y[:, 1], y[:, 0]], axis=1)
        return super().step(h, x) + rot @ self.B.T

    def jacobian(self, h, x):
        y = h @ self.B
        s = np.maximum(y[:, 1], 0.0) ** 2
        ds = 2.0 * np.maximum(y[:, 1], 0.0)
        Jf = np.zeros((len(h), 2, 2))
        Jf[:, 0, 1] = -self.c * (ds * y[:, 1] + s)
        Jf[:, 1, 0] = self.c * s
        Jf[:, 1, 1] = self.c * ds * y[:, 0]
        return super().jacobian(h, x) + self.B[None] @ Jf @ self.B.T[None]


def saturating_gru(n, seed, gain=4.0):
    """GRU weights (PyTorch layout) scaled by ``gain``: saturating gates."""
    rng = np.random.default_rng(seed)
    s = gain / np.sqrt(n)
    return (rng.normal(0, s, (3 * n, 1)), rng.normal(0, s, (3 * n, n)),
            rng.normal(0, 0.5, 3 * n), rng.normal(0, 0.5, 3 * n))


def gru_truth(model, n_starts=400, seed=100):
    """Fixed points of a GRU map in the box |h| <= 1, from scipy's root finder (MINPACK hybrj)
    started at uniform points of the box, de-duplicated at 1e-7."""
    import scipy.optimize

    n = model.n_state
    x = np.zeros((1, model.n_input))
    out = []
    for h0 in np.random.default_rng(seed).uniform(-1, 1, (n_starts, n)):
        r = scipy.optimize.root(lambda h: model.step(h[None], x)[0] - h, h0,
                                jac=lambda h: model.jacobian(h[None], x)[0] - np.eye(n),
                                tol=1e-13)
        res = np.max(np.abs(model.step(r.x[None], x)[0] - r.x))
        if r.success and res < 1e-10 and np.all(np.abs(r.x) <= 1) and \
                not any(np.max(np.abs(r.x - u)) < 1e-7 for u in out):
            out.append(r.x)
    return np.array(out).reshape(-1, n)
