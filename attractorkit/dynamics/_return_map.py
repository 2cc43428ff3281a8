"""The Poincaré return map of a flow, as a Model (a map on coordinates of the section).

It lives in ``dynamics`` although it is a derived system like those of ``systems``: it needs
the engine (the one RK4, with its variational equation) and the section crossings of
:mod:`._poincare`, and ``systems`` sits below ``dynamics`` (docs/architecture.md).
"""

from __future__ import annotations

import numpy as np

from ..core._errors import ValidationError
from ..core._prepare import check_model_arg
from ..core._validation import as_float_array, as_input_batch, as_state_batch, check_positive
from ._engine import DEFAULT_THRESHOLD, advance
from ._numpy_engine import finite_step, numpy_advance, numpy_tangent
from ._poincare import as_plane, crossing_mask, hermite_crossings

__all__ = ["ReturnMap"]

#: Steps integrated per call of the engine while a return is searched for: the first call
#: takes as many steps as the last return did (or _FIRST), later ones twice the previous, up to
#: _CHUNK. (The chunks change the cost only: the trajectory and its first crossing are the same.)
_FIRST, _CHUNK = 32, 512
#: Newton steps polishing each crossing on the RK4 step that brackets it.
_POLISH = 3


class ReturnMap:
    """The Poincaré return map of a flow: a point of the plane ``normal . h = offset`` goes to
    the next point where its trajectory crosses the plane again in ``direction``.

    It satisfies :class:`attractorkit.Model` as a map (``time="discrete"``) on the
    ``n_state - 1`` coordinates of the plane, so :func:`attractorkit.find_fixed_points`,
    :func:`attractorkit.find_cycles` and :func:`attractorkit.lyapunov_spectrum` run on it
    unchanged: a fixed point is a periodic orbit of the flow, its Jacobian eigenvalues are the
    orbit's nontrivial Floquet multipliers, the map's Lyapunov exponents are the flow's (those
    transverse to the flow direction) times the mean return time.

    The trajectory is integrated with the engine's RK4 (step ``model.dt``, in numba for kernel
    models). The step that crosses the plane is located as :func:`poincare_section` does
    (cubic Hermite interpolation) and the crossing then solved by Newton on a partial RK4 step
    from its start, so that the map is a smooth function of the point, exact on the RK4
    trajectory. The Jacobian comes from the variational equation integrated by the same RK4
    stages, projected along the flow onto the plane,
    ``dP = (I - f n^T / (n . f)) Phi`` (``Phi`` the transition matrix up to the crossing,
    ``f`` the vector field there); the input Jacobian likewise, from the variational equation
    of the inputs. No finite differences are taken.

    The input is held constant over a return (as :class:`attractorkit.systems.Iterate` holds
    it over its p steps); wrap the flow in :class:`attractorkit.systems.FrozenInput` for a map
    without inputs.

    Parameters
    ----------
    model : Model
        A flow (``time="continuous"``) with ``n_state >= 2``.
    plane : (normal, offset)
        The section ``normal . h = offset``.
    direction : {1, -1, 0}, default 1
        Count crossings from the negative side of the plane to the non-negative one (1), the
        reverse (-1) or both (0).
    max_time : float, optional
        The longest return searched for (default ``10_000 * model.dt``); a point that has not
        returned by then (it lies on a fixed point or an escaping orbit of the flow) maps to
        NaN, as does one whose trajectory diverges. Returns shorter than one step ``dt`` are
        not resolved.

    Attributes
    ----------
    normal : ndarray of shape (n_state,)
        Unit normal of the plane (the given one, scaled).
    offset : float
        ``normal . h = offset`` on the plane (scaled with the normal).
    origin : ndarray of shape (n_state,)
        The point of the plane at coordinates 0, ``offset * normal``.
    basis : ndarray of shape (n_state, n_state - 1)
        Orthonormal directions of the plane: ``h = origin + basis @ y``. For a coordinate
        plane (``normal`` along axis k) it is the other coordinate axes, in order, so that
        ``y`` is ``h`` without its k-th entry.

    Examples
    --------
    The Hopf normal form ``r' = r (1 - r^2)``, ``theta' = 2`` on the half-line ``theta = 0``:
    the limit cycle ``r = 1`` is the return map's fixed point, with multiplier
    ``exp(-4 pi / 2)``.

    >>> import numpy as np
    >>> from attractorkit.adapters import CallableModel
    >>> from attractorkit.dynamics import ReturnMap
    >>> def hopf(h, x):
    ...     r2 = (h ** 2).sum(axis=1, keepdims=True)
    ...     return (1 - r2) * h + 2.0 * np.c_[-h[:, 1], h[:, 0]]
    >>> def hopf_jacobian(h, x):
    ...     r2 = (h ** 2).sum(axis=1)[:, None, None]
    ...     outer = 2 * h[:, :, None] * h[:, None, :]
    ...     return (1 - r2) * np.eye(2) - outer + 2.0 * np.array([[0, -1], [1, 0]])
    >>> flow = CallableModel(hopf, n_state=2, n_input=0, jacobian=hopf_jacobian,
    ...                      time="continuous", dt=0.01)
    >>> P = ReturnMap(flow, ([0.0, 1.0], 0.0))
    >>> P.n_state, np.round(P.step([[1.0]], None), 8)
    (1, array([[1.]]))
    >>> bool(np.isclose(P.jacobian([[1.0]], None)[0, 0], np.exp(-2 * np.pi), rtol=1e-6))
    True
    """

    time = "discrete"
    dt = None

    def __init__(self, model, plane, *, direction=1, max_time=None):
        flow, dt = check_model_arg(model)
        if not flow:
            raise ValidationError("model: a return map needs a flow (time='continuous'), "
                                  "received a map; its orbit is already its own section")
        n = int(model.n_state)
        if n < 2:
            raise ValidationError(f"model: a return map needs n_state >= 2, received {n}")
        if isinstance(direction, bool) or direction not in (1, -1, 0):
            raise ValidationError(f"direction: expected 1, -1 or 0, received {direction!r}")
        self.model, self.direction, self._dt = model, int(direction), dt
        self.normal, self.offset = as_plane(plane, n)
        self.origin = self.offset * self.normal
        self.basis = _plane_basis(self.normal)
        self.max_time = 10_000 * dt if max_time is None else check_positive("max_time",
                                                                            max_time)
        self._max_steps = max(2, int(np.ceil(self.max_time / dt)))
        self.n_state, self.n_input = n - 1, int(model.n_input)
        self._hint, self._last = _FIRST, None

    # -- coordinates ------------------------------------------------------------------------
    def lift(self, y) -> np.ndarray:
        """The states ``origin + basis @ y`` of section coordinates ``y`` (B, n_state - 1)."""
        return self.origin + as_state_batch("y", y, self.n_state) @ self.basis.T

    def project(self, h) -> np.ndarray:
        """Section coordinates of states ``h`` (B, n_state + 1) (their orthogonal projection
        onto the plane)."""
        return (as_state_batch("h", h, self.n_state + 1) - self.origin) @ self.basis

    # -- the Model contract -----------------------------------------------------------------
    def step(self, h, x) -> np.ndarray:
        """Section coordinates of the next crossing, (B, n_state); NaN rows where none."""
        return self._crossing(h, x)[0].copy()

    def jacobian(self, h, x) -> np.ndarray:
        return self.step_and_jacobian(h, x)[1]

    def step_and_jacobian(self, h, x):
        """``(P(h), dP/dh)`` from one search for the crossing."""
        y, H0, X, k, u = self._crossing(h, x)
        return y.copy(), self._derivatives(H0, X, k, u, inputs=False)

    def input_jacobian(self, h, x) -> np.ndarray:
        y, H0, X, k, u = self._crossing(h, x)
        return self._derivatives(H0, X, k, u, inputs=True)

    def return_time(self, h, x) -> np.ndarray:
        """Time to the next crossing, shape (B,) (NaN where none)."""
        _, _, _, k, u = self._crossing(h, x)
        return np.where(k >= 0, (k + u) * self._dt, np.nan)

    # -- the work ---------------------------------------------------------------------------
    def _crossing(self, h, x):
        """(y, H0, X, k, u): the next crossing's coordinates y, the lifted start states H0,
        the inputs X, and per row the full RK4 steps k before the crossing (-1: none) and
        the fraction u of step k + 1 at which it happens.

        The last result is kept, so that ``step`` and then ``jacobian`` at the same points
        (as the Lyapunov and Newton loops call them) integrate once."""
        Y = _states(h, self.n_state)
        X = as_input_batch("x", x, self.n_input, Y.shape[0])
        key = (Y.shape, X.shape, Y.tobytes(), X.tobytes())
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = self._search(Y, X)
        self._last = (key, out)
        return out

    def _search(self, Y, X):
        H0 = self.origin + Y @ self.basis.T
        B, n = H0.shape
        k, u = np.full(B, -1, np.int64), np.full(B, np.nan)
        Hc = np.full((B, n), np.nan)
        active = np.flatnonzero(np.isfinite(H0).all(axis=1))
        cur, start, m = H0.copy(), 0, self._hint
        while active.size and start < self._max_steps:
            m = min(m, self._max_steps - start)
            path = advance(self.model, cur[active], X[active], m, record=True,
                           divergence_threshold=DEFAULT_THRESHOLD)
            s = path @ self.normal - self.offset
            with np.errstate(invalid="ignore"):
                mask = crossing_mask(s[:, :-1], s[:, 1:], self.direction)
            if start == 0:
                mask[:, 0] = False            # leaving the plane is not a return
            hit = mask.any(axis=1)
            if hit.any():
                rows, j = np.flatnonzero(hit), np.argmax(mask[hit], axis=1)
                k[active[rows]] = start + j
                Hc[active[rows]], u[active[rows]] = self._refine(path[rows, j],
                                                                 path[rows, j + 1],
                                                                 X[active[rows]])
            cur[active] = path[:, -1]
            active = active[~hit & np.isfinite(path[:, -1]).all(axis=1)]
            start, m = start + m, min(2 * m, _CHUNK)
        bad = ~np.isfinite(Hc).all(axis=1)
        k[bad], u[bad] = -1, np.nan
        if not bad.all():
            self._hint = int(min(max(k.max() + 2, _FIRST), _CHUNK))
        return (Hc - self.origin) @ self.basis, H0, X, k, u

    def _refine(self, Ha, Hb, X):
        """The crossings inside the RK4 steps Ha -> Hb: Hermite as in poincare_section, then
        Newton on the partial RK4 step from Ha. Returns (points, fractions u)."""
        R, dt = Ha.shape[0], self._dt
        with np.errstate(all="ignore"):
            Va, Vb = finite_step(self.model, Ha, X), finite_step(self.model, Hb, X)
            both = lambda A, C: np.stack([A, C], axis=1).reshape(2 * R, -1)  # noqa: E731
            s = both(Ha, Hb) @ self.normal - self.offset
            u = hermite_crossings(both(Ha, Hb), both(Va, Vb), self.normal, s,
                                  2 * np.arange(R), dt)
            for _ in range(_POLISH):
                H = numpy_advance(self.model, Ha, X, True, u * dt)
                g = H @ self.normal - self.offset
                dg = (finite_step(self.model, H, X) @ self.normal) * dt
                u = np.clip(u - np.where(dg != 0, g / np.where(dg == 0, 1.0, dg), 0.0),
                            0.0, 1.0)
            H = numpy_advance(self.model, Ha, X, True, u * dt)
        return H, u

    def _derivatives(self, H0, X, k, u, *, inputs):
        """dP/dy (B, n-1, n-1), or dP/dx (B, n-1, n_input) with ``inputs``, NaN where the
        point has no return: the variational equation along the RK4 steps to the crossing."""
        B, n = H0.shape
        sys = _WithInputs(self.model) if inputs else self.model
        w = n + self.n_input if inputs else n
        m = self.n_input if inputs else self.n_state
        out = np.full((B, self.n_state, m), np.nan)
        ok = np.flatnonzero(k >= 0)
        if ok.size == 0:
            return out
        Z = np.concatenate([H0[ok], X[ok]], axis=1) if inputs else H0[ok].copy()
        Q = np.repeat(np.eye(w)[None], ok.size, axis=0)
        if not inputs:
            Q = Q @ self.basis                 # tangent vectors of the plane at the start
        Xs = np.zeros((ok.size, 0)) if inputs else X[ok]   # _WithInputs carries x in Z
        kk = k[ok]
        with np.errstate(all="ignore"):
            for t in range(int(kk.max())):
                live = np.flatnonzero(kk > t)
                Z[live], Q[live] = numpy_tangent(sys, Z[live], Q[live], Xs[live], True,
                                                 self._dt)
            Z, Q = numpy_tangent(sys, Z, Q, Xs, True, u[ok] * self._dt)
            Phi = Q[:, :n, n:] if inputs else Q[:, :n]
            f = finite_step(self.model, Z[:, :n], X[ok])
            # along the flow onto the plane: dP = (I - f n^T / (n . f)) Phi
            nPhi = np.einsum("i,bij->bj", self.normal, Phi)
            dP = Phi - f[:, :, None] * (nPhi / (f @ self.normal)[:, None])[:, None, :]
        out[ok] = np.einsum("ia,bij->baj", self.basis, dP)
        return out

    def __repr__(self) -> str:
        sign = {1: "+", -1: "-", 0: "+/-"}[self.direction]
        return (f"ReturnMap({type(self.model).__name__}, n_state={self.n_state}, "
                f"crossings {sign}, max_time={self.max_time:g})")


class _WithInputs:
    """The flow with its inputs as constant states, ``(h, x)' = (F(h, x), 0)``: the
    variational equation of this system carries ``dh/dx`` along with ``dh/dh0``."""

    time, n_input = "continuous", 0

    def __init__(self, model):
        self.model, self.n = model, int(model.n_state)
        self.n_state, self.dt = self.n + int(model.n_input), model.dt

    def step(self, z, _x):
        out = np.zeros_like(z)
        out[:, :self.n] = self.model.step(z[:, :self.n], z[:, self.n:])
        return out

    def jacobian(self, z, _x):
        h, x = z[:, :self.n], z[:, self.n:]
        J = np.zeros((z.shape[0], self.n_state, self.n_state))
        J[:, :self.n, :self.n] = self.model.jacobian(h, x)
        J[:, :self.n, self.n:] = self.model.input_jacobian(h, x)
        return J


def _states(h, n):
    """Section coordinates as (B, n); rows with NaN are accepted (they map to NaN), as the
    engine passes diverged rows along."""
    Y = as_float_array("h", h, ndim=(1, 2), finite=False)
    Y = Y[None] if Y.ndim == 1 else Y
    if Y.shape[1] != n:
        raise ValidationError(f"h: expected section coordinates of width n_state={n}, "
                              f"received shape {Y.shape}")
    return Y


def _plane_basis(normal):
    """Orthonormal directions of the plane normal to ``normal``, shape (n, n - 1): the
    projections of the coordinate axes other than the normal's largest entry, orthonormalised
    in order (the axes themselves for a coordinate plane)."""
    n = normal.size
    P = np.eye(n) - np.outer(normal, normal)
    Q, R = np.linalg.qr(np.delete(P, int(np.argmax(np.abs(normal))), axis=1))
    d = np.sign(np.diagonal(R))
    return Q * np.where(d == 0, 1.0, d)
