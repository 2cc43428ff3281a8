"""Poincaré sections of recorded trajectories (flows) and orbit sections of maps."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._errors import ValidationError
from ..core._pca import pca_axes
from ..core._results import Result
from ..core._validation import (
    as_float_array,
    check_choice,
    check_int,
    check_positive,
    check_scale,
)

__all__ = ["poincare_section", "PoincareSection", "as_plane", "crossing_mask", "hermite_crossings"]


@dataclasses.dataclass(frozen=True, eq=False)
class PoincareSection(Result):
    """Points where a trajectory meets a hyperplane ``normal . (h - point) = 0``.

    Attributes
    ----------
    points : ndarray of shape (n_points, n_state)
        Section points in state coordinates (for ``kind="orbit"``: the orbit itself).
    times : ndarray of shape (n_points,)
        Crossing times (fractional sample index times ``dt``).
    coords : ndarray of shape (n_points, 2)
        The points in the two leading principal axes of the section (for plotting).
    normal : ndarray of shape (n_state,)
        Unit normal of the plane (zeros for ``kind="orbit"``).
    offset : float
        ``normal . h = offset`` on the plane.
    kind : str
        ``"crossing"`` (interpolated crossings), ``"slab"`` (map points near the plane) or
        ``"orbit"`` (a map's orbit, no plane).
    direction : int
        +1, -1 or 0 (both).
    """

    points: np.ndarray
    times: np.ndarray
    coords: np.ndarray
    normal: np.ndarray
    offset: float
    kind: str
    direction: int

    @property
    def n_points(self) -> int:
        return self.points.shape[0]

    def return_times(self) -> np.ndarray:
        """Times between consecutive section points."""
        return np.diff(self.times)

    def summary(self) -> str:
        txt = f"PoincareSection ({self.kind}): {self.n_points} points in {self.points.shape[1]}-D"
        if self.n_points > 1 and self.kind == "crossing":
            rt = self.return_times()
            txt += f"; mean return time {rt.mean():.4g} (std {rt.std():.2g})"
        return txt

    def plot(self, *, ax=None, **scatter_kw):
        """Scatter of the section points in their two leading principal axes; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        kw = {"s": 4, "c": np.arange(self.n_points), "cmap": "viridis"}
        kw.update(scatter_kw)
        ax.scatter(self.coords[:, 0], self.coords[:, 1], **kw)
        ax.set_xlabel("section axis 1")
        ax.set_ylabel("section axis 2")
        ax.set_title(f"Poincaré section ({self.n_points} points)")
        return ax


def principal_axes(X, k):
    """Mean and the first k principal axes (rows) of the points X (n, d)."""
    mu = X.mean(axis=0)
    V = pca_axes(X - mu, min(k, X.shape[1]))[0]
    if V.shape[0] < k:
        V = np.vstack([V, np.zeros((k - V.shape[0], X.shape[1]))])
    return mu, V[:k]


def poincare_section(states, *, plane=None, direction=1, pc=1, dt=1.0, velocities=None,
                     kind=None, slab=None) -> PoincareSection:
    """Section of one recorded trajectory by a hyperplane.

    Parameters
    ----------
    states : array_like of shape (n_steps, n_state)
        Consecutive states of one trajectory (e.g. ``Trajectories.states[c, i]``).
    plane : (normal, offset) or None
        The plane ``normal . h = offset``. By default: through the mean of the states, normal to
        principal axis ``pc`` (0-based; the default 1 = PC2, so that PC1-PC2 span the dominant
        oscillation).
    direction : {1, -1, 0}
        Keep crossings from negative to non-negative side (1), the reverse (-1) or both (0).
    pc : int, default 1
        Principal axis used as the normal when ``plane`` is None.
    dt : float, default 1
        Time between consecutive states (crossing times are fractional indices times dt).
    velocities : array_like of shape (n_steps, n_state), optional
        The vector field at the states (flows). With it, crossings are located on the cubic
        Hermite interpolant (error O(dt^4)) instead of linearly (O(dt^2)).
    kind : {"crossing", "orbit", "slab"}, optional
        ``"crossing"`` (default for flows): interpolated crossings. For maps the orbit itself is
        the natural section: ``"orbit"`` returns it unchanged; ``"slab"`` keeps the orbit points
        within ``slab`` of the plane, projected onto it (a section of a higher-dimensional
        invariant set of a map).
    slab : float, optional
        Half-width for ``kind="slab"`` (default: 5% of the spread along the normal).

    Returns
    -------
    PoincareSection

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> t = np.arange(0, 20, 0.01)
    >>> sec = ak.poincare_section(np.c_[np.cos(t), np.sin(t)], plane=([0, 1], 0.0), dt=0.01)
    >>> np.round(sec.points[:, 0], 4), np.round(np.diff(sec.times), 3)
    (array([1., 1., 1.]), array([6.283, 6.283]))
    """
    X = check_scale("states", as_float_array("states", states, ndim=2))
    if X.shape[0] < 2:
        raise ValidationError(f"states: expected at least 2 consecutive states, received "
                              f"shape {X.shape}")
    if isinstance(direction, bool) or not isinstance(direction, (int, np.integer)) \
            or direction not in (1, -1, 0):
        raise ValidationError(f"direction: expected 1, -1 or 0, received {direction!r}")
    dt = check_positive("dt", dt)
    kind = "crossing" if kind is None else check_choice("kind", kind,
                                                        ("crossing", "orbit", "slab"))
    n = X.shape[1]
    if kind == "orbit":
        _, V = principal_axes(X, 2)
        coords = (X - X.mean(0)) @ V.T
        return PoincareSection(X.copy(), np.arange(X.shape[0]) * float(dt), coords,
                               np.zeros(n), 0.0, "orbit", 0)
    normal, offset = _plane(X, plane, check_int("pc", pc, minimum=0, maximum=n - 1))
    s = X @ normal - offset
    if kind == "slab":
        width = 0.05 * s.std() if slab is None else float(slab)
        idx = np.flatnonzero(np.abs(s) <= width)
        pts = X[idx] - np.outer(s[idx], normal)
        times = idx * float(dt)
    else:
        V_ = None if velocities is None else as_float_array("velocities", velocities,
                                                            shape=X.shape)
        pts, times = _crossings(X, s, normal, direction, float(dt), V_)
    coords = _section_coords(pts, normal)
    return PoincareSection(pts, times, coords, normal, float(offset), kind, int(direction))


def _plane(X, plane, pc):
    n = X.shape[1]
    if plane is None:
        mu, V = principal_axes(X, pc + 1)
        normal = V[pc]
        if not np.any(normal):
            raise ValidationError("plane: the states do not span enough directions for an "
                                  f"automatic plane normal to principal axis {pc}")
        return normal, float(normal @ mu)
    return as_plane(plane, n)


def as_plane(plane, n):
    """``plane = (normal, offset)`` checked and scaled to a unit normal: (normal (n,), offset)."""
    try:
        normal, offset = plane
    except (TypeError, ValueError):
        raise ValidationError(f"plane: expected (normal, offset), received {plane!r}"[:200]) \
            from None
    normal = as_float_array("plane normal", normal, shape=(n,))
    norm = np.linalg.norm(normal)
    if norm == 0:
        raise ValidationError("plane: the normal vector is zero")
    return normal / norm, as_float_array("plane offset", offset, ndim=0).item() / norm


def crossing_mask(a, b, direction):
    """Where the signed distance goes from ``a`` to ``b`` across the plane in ``direction``
    (1: from the negative side to the non-negative one, -1: the reverse, 0: either)."""
    up = (a < 0) & (b >= 0)
    down = (a > 0) & (b <= 0)
    return up if direction == 1 else down if direction == -1 else up | down


def hermite_crossings(X, V, normal, s, idx, dt):
    """Fractions ``u`` in [0, 1] of the steps ``idx -> idx + 1`` where the cubic Hermite
    interpolant of the states ``X`` (velocities ``V``, signed distances ``s``) meets the plane."""
    lam = s[idx] / (s[idx] - s[idx + 1])
    return _hermite_refine(X, V, normal, s, idx, lam, dt)


def _crossings(X, s, normal, direction, dt, V):
    a, b = s[:-1], s[1:]
    idx = np.flatnonzero(crossing_mask(a, b, direction))
    lam = a[idx] / (a[idx] - b[idx])
    if V is not None and idx.size:
        lam = hermite_crossings(X, V, normal, s, idx, dt)
        pts = _hermite(X[idx], X[idx + 1], V[idx] * dt, V[idx + 1] * dt, lam)
    else:
        pts = X[idx] + lam[:, None] * (X[idx + 1] - X[idx])
    return pts, (idx + lam) * dt


def _hermite(p0, p1, m0, m1, u):
    u = u[:, None]
    u2, u3 = u * u, u * u * u
    return ((2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * m0 + (-2 * u3 + 3 * u2) * p1
            + (u3 - u2) * m1)


def _hermite_refine(X, V, normal, s, idx, lam, dt):
    """Newton iterations for normal . H(u) = offset on the cubic Hermite interpolant."""
    s0, s1 = s[idx], s[idx + 1]
    d0, d1 = (V[idx] @ normal) * dt, (V[idx + 1] @ normal) * dt
    u = lam.copy()
    for _ in range(8):
        u2, u3 = u * u, u * u * u
        f = ((2 * u3 - 3 * u2 + 1) * s0 + (u3 - 2 * u2 + u) * d0 + (-2 * u3 + 3 * u2) * s1
             + (u3 - u2) * d1)
        fp = ((6 * u2 - 6 * u) * s0 + (3 * u2 - 4 * u + 1) * d0 + (-6 * u2 + 6 * u) * s1
              + (3 * u2 - 2 * u) * d1)
        step = np.where(np.abs(fp) > 1e-300, f / np.where(fp == 0, 1.0, fp), 0.0)
        u = np.clip(u - step, 0.0, 1.0)
    return u


def _section_coords(pts, normal):
    if pts.shape[0] == 0:
        return np.zeros((0, 2))
    P = pts - np.outer(pts @ normal, normal)
    if pts.shape[0] < 2:
        return np.zeros((pts.shape[0], 2))
    mu, V = principal_axes(P, 2)
    return (P - mu) @ V.T
