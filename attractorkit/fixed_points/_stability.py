"""Linear stability of points of a map or a flow: spectra, labels, leading modes.

Stability follows the model's ``time``: a point of a map is stable when every ``|lambda| < 1``,
a point of a flow when every ``Re lambda < 0``. A tolerance ``delta`` separates stable,
marginal and unstable modes, so that line attractors (an eigenvalue of 1, or 0 for a flow) are
labelled ``"marginal"`` rather than by rounding noise.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._kernels.threads import single_blas_thread
from ..core._errors import ValidationError
from ..core._prepare import check_model_arg
from ..core._results import Result
from ..core._validation import as_float_array, check_int, check_positive
from ._eigen import eig_batch, left_modes

__all__ = ["Stability", "linear_stability", "classify_spectra", "crossing_kind", "stability_at",
           "LABELS"]

LABELS = (
    "stable node",
    "stable focus",
    "saddle",
    "unstable node",
    "unstable focus",
    "marginal",
)
_IMAG_TOL = 1e-10


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Stability(Result):
    """Linearisation at a batch of points.

    Attributes
    ----------
    eigenvalues : ndarray of shape (n, n_state), complex
        Sorted by decreasing ``|lambda|`` (maps) or decreasing ``Re lambda`` (flows).
    modes : ndarray of shape (n, n_state, n_modes), complex
        Right eigenvectors (unit norm, columns) of the ``n_modes`` leading eigenvalues.
    left_modes : ndarray of shape (n, n_state, n_modes), complex
        Left eigenvectors ``w`` (``w^H J = lambda w^H``), scaled so that ``w^H v = 1``.
    input_jacobians : ndarray of shape (n, n_state, n_input)
        ``dF/dx`` at each point (how a small input change moves the dynamics).
    stable, unstable_dim, n_marginal, label
        Per point: asymptotically stable; number of unstable modes; number of modes within
        ``delta`` of the stability boundary; one of :data:`LABELS`.
    time : {"discrete", "continuous"}
    delta : float
    """

    eigenvalues: np.ndarray
    modes: np.ndarray
    left_modes: np.ndarray
    input_jacobians: np.ndarray
    stable: np.ndarray
    unstable_dim: np.ndarray
    n_marginal: np.ndarray
    label: np.ndarray
    time: str
    delta: float

    def __len__(self) -> int:
        return self.eigenvalues.shape[0]

    def take(self, index) -> Stability:
        """The rows ``index`` (an integer array or a boolean mask) as a new Stability."""
        index = np.asarray(index)
        kw = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            kw[f.name] = v[index] if isinstance(v, np.ndarray) else v
        return Stability(**kw)

    @property
    def timescales(self) -> np.ndarray:
        """(n, n_state) decay/growth time of each mode: ``-1/Re lambda`` for flows and
        ``-1/log|lambda|`` (in steps) for maps; ``inf`` for exactly marginal modes."""
        with np.errstate(divide="ignore"):
            if self.time == "continuous":
                return -1.0 / self.eigenvalues.real
            return -1.0 / np.log(np.abs(self.eigenvalues))

    def summary(self) -> str:
        n = len(self)
        kinds = ", ".join(
            f"{int(np.sum(self.label == lab))} {lab}" for lab in LABELS
            if np.any(self.label == lab)
        )
        return (
            f"Stability of {n} point(s) of a {'flow' if self.time == 'continuous' else 'map'}"
            f" (delta={self.delta:g}): {int(self.stable.sum())} stable"
            + (f"; {kinds}" if kinds else "")
        )


def classify_spectra(eigenvalues, time: str, delta: float = 1e-8):
    """Sort spectra and label them.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n, n_state), complex
    time : {"discrete", "continuous"}
    delta : float
        Modes with ``| |lambda| - 1 | <= delta`` (maps) or ``|Re lambda| <= delta`` (flows) are
        marginal.

    Returns
    -------
    order : ndarray of shape (n, n_state), int
        Per row, the indices that sort the eigenvalues leading-first.
    stable, unstable_dim, n_marginal, label : ndarrays of shape (n,)
    """
    ev = np.asarray(eigenvalues, dtype=complex)
    growth = np.abs(ev) - 1.0 if time == "discrete" else ev.real
    order = np.argsort(-growth, axis=1, kind="stable")
    g = np.take_along_axis(growth, order, axis=1)
    evs = np.take_along_axis(ev, order, axis=1)
    n_unstable = np.sum(g > delta, axis=1)
    n_marginal = np.sum(np.abs(g) <= delta, axis=1)
    n_stable = np.sum(g < -delta, axis=1)
    labels = np.empty(ev.shape[0], dtype="U14")
    for i in range(ev.shape[0]):
        if n_unstable[i] > 0:
            if n_stable[i] > 0 or n_marginal[i] > 0:
                labels[i] = "saddle"
            else:
                labels[i] = _node_or_focus("unstable", evs[i, 0])
        elif n_marginal[i] > 0:
            labels[i] = "marginal"
        elif ev.shape[1] == 0:
            labels[i] = "stable node"
        else:
            labels[i] = _node_or_focus("stable", evs[i, 0])
    stable = (n_unstable == 0) & (n_marginal == 0)
    return order, stable, n_unstable.astype(np.int64), n_marginal.astype(np.int64), labels


def _node_or_focus(prefix: str, lead: complex) -> str:
    return f"{prefix} {'focus' if abs(lead.imag) > _IMAG_TOL else 'node'}"


def stability_from_jacobians(J, Jx, time: str, *, delta: float = 1e-8,
                             n_modes: int = 3) -> Stability:
    """A :class:`Stability` from Jacobians ``J`` (n, n_state, n_state) and ``Jx`` (n, n_state,
    n_input) that the caller already has (the lower layer of :func:`linear_stability`)."""
    n, N = J.shape[0], J.shape[1]
    k = min(n_modes, N)
    if n == 0:
        empty = np.zeros((0, N))
        return Stability(
            eigenvalues=empty.astype(complex), modes=np.zeros((0, N, k), complex),
            left_modes=np.zeros((0, N, k), complex), input_jacobians=Jx,
            stable=np.zeros(0, bool), unstable_dim=np.zeros(0, np.int64),
            n_marginal=np.zeros(0, np.int64), label=np.zeros(0, "U14"),
            time=time, delta=delta,
        )
    finite = np.all(np.isfinite(J.reshape(n, -1)), axis=1)
    Jsafe = np.where(finite[:, None, None], J, 0.0)
    ev, vr, blocks = eig_batch(Jsafe)
    ev = np.where(finite[:, None], ev, np.nan + 0j)
    order, stable, n_unstable, n_marginal, label = classify_spectra(ev, time, delta)
    ev = np.take_along_axis(ev, order, axis=1)
    lead = order[:, :k]
    modes = np.take_along_axis(vr, lead[:, None, :], axis=2)
    left = left_modes(vr, lead, blocks)
    return Stability(
        eigenvalues=ev, modes=modes, left_modes=left, input_jacobians=Jx,
        stable=stable & finite, unstable_dim=n_unstable, n_marginal=n_marginal, label=label,
        time=time, delta=float(delta),
    )


def stability_at(model, P, cond, X, *, delta=1e-8, n_modes=3) -> Stability:
    """Stability of ``model`` at points ``P`` under inputs ``X[cond]``, in memory-bounded
    chunks."""
    n, N = P.shape
    chunk = max(1, (32 * 2**20) // (8 * N * N))
    parts = []
    for s in range(0, max(n, 1), chunk):
        h, x = P[s:s + chunk], X[cond[s:s + chunk]]
        if h.shape[0]:
            J = np.asarray(model.jacobian(h, x), float)
            Jx = np.asarray(model.input_jacobian(h, x), float)
        else:
            J, Jx = np.zeros((0, N, N)), np.zeros((0, N, X.shape[1]))
        parts.append(stability_from_jacobians(J, Jx, model.time, delta=delta, n_modes=n_modes))
    return concat_stability(parts)


def concat_stability(parts) -> Stability:
    """One :class:`Stability` from several (same ``time``, ``delta`` and number of modes)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    kw = {f.name: getattr(parts[0], f.name) for f in dataclasses.fields(Stability)}
    for f in dataclasses.fields(Stability):
        if isinstance(kw[f.name], np.ndarray):
            kw[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
    return Stability(**kw)


@single_blas_thread
def linear_stability(model, points, inputs, *, delta: float = 1e-8,
                     n_modes: int = 3) -> Stability:
    """Linear stability of ``model`` at ``points`` under constant ``inputs``.

    Parameters
    ----------
    model : Model
    points : array_like of shape (n, n_state) or (n_state,)
    inputs : array_like of shape (n_input,) or (n, n_input)
        One input for every point, or one row per point.
    delta : float, default 1e-8
        Width of the marginal band around the stability boundary (``|lambda| = 1`` for maps,
        ``Re lambda = 0`` for flows). Use 1e-3 to 1e-2 for trained networks, whose slow and
        line attractors sit near the boundary.
    n_modes : int, default 3
        Number of leading eigenvectors kept.

    Returns
    -------
    Stability
        Eigenvalues (sorted leading-first), leading right and left eigenvectors, input
        Jacobians, and the labels "stable node", "stable focus", "saddle" (with
        ``unstable_dim``), "unstable node", "unstable focus", "marginal".

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> m = VanillaRNN(np.diag([0.5, 2.0]), activation="identity")
    >>> s = ak.linear_stability(m, np.zeros(2), np.zeros(0))
    >>> str(s.label[0]), int(s.unstable_dim[0])
    ('saddle', 1)
    """
    check_model_arg(model)
    P = as_float_array("points", points, ndim=(1, 2))
    if P.ndim == 1:
        P = P[None]
    if P.shape[1] != model.n_state:
        raise ValidationError(
            f"points: expected width n_state={model.n_state}, received shape {P.shape}"
        )
    X = as_float_array("inputs", inputs, ndim=(1, 2))
    if X.ndim == 1:
        X = X[None]
    if X.shape[1] != model.n_input or X.shape[0] not in (1, P.shape[0]):
        raise ValidationError(
            f"inputs: expected shape ({model.n_input},) or ({P.shape[0]}, {model.n_input}), "
            f"received {np.shape(inputs)}"
        )
    X = np.ascontiguousarray(np.broadcast_to(X, (P.shape[0], model.n_input)))
    delta = check_positive("delta", delta, strict=False)
    n_modes = check_int("n_modes", n_modes, minimum=0)
    if P.shape[0] == 0:
        J = np.zeros((0, model.n_state, model.n_state))
        Jx = np.zeros((0, model.n_state, model.n_input))
    else:
        J = np.asarray(model.jacobian(P, X), dtype=float)
        Jx = np.asarray(model.input_jacobian(P, X), dtype=float)
    return stability_from_jacobians(J, Jx, model.time, delta=delta, n_modes=n_modes)


def crossing_kind(ev_before, ev_after, time: str, delta: float = 1e-8) -> str:
    """Name the way a spectrum crossed the stability boundary between two nearby parameters.

    Picks the eigenvalue closest to the boundary among both spectra and returns, for maps,
    ``"real +1"`` (fold / transcritical / pitchfork), ``"real -1"`` (flip, period doubling) or
    ``"complex pair"`` (Neimark-Sacker); for flows ``"real 0"`` (fold) or ``"hopf pair"``.
    """
    cands = [np.asarray(e, complex) for e in (ev_before, ev_after) if e is not None]
    cands = [e[np.isfinite(e)] for e in cands]
    best, dist = None, np.inf
    for e in cands:
        if e.size == 0:
            continue
        g = np.abs(np.abs(e) - 1.0) if time == "discrete" else np.abs(e.real)
        i = int(np.argmin(g))
        if g[i] < dist:
            best, dist = e[i], g[i]
    if best is None:
        return "unknown"
    scale = max(1.0, abs(best))
    if abs(best.imag) > 1e-6 * scale:
        return "complex pair" if time == "discrete" else "hopf pair"
    if time == "continuous":
        return "real 0"
    return "real +1" if best.real > 0 else "real -1"
