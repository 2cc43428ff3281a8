"""Batched eigen-decompositions of Jacobians, for :mod:`attractorkit.fixed_points._stability`:
eigenvalues, right eigenvectors and the left eigenvectors of the leading modes.

Large matrices are decomposed in parallel over points, each deflated when many of its rows are
decoupled (rows with no off-diagonal entry, as the rows of inactive ReLU units): then the matrix
is block upper-triangular after a permutation, ``[[J_AA, J_AD], [0, diag(d)]]``, and both its
eigenvectors and the rows of their inverse (the left modes) follow from the coupled block alone.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.linalg

from .._kernels.parallel import n_threads, run_blocks
from .._kernels.threads import single_blas_thread

__all__ = ["decoupled_rows", "eig_batch", "left_modes", "map_chunks"]

_LARGE = 48      # from this size on: parallel over points, deflated


@dataclasses.dataclass(frozen=True)
class Blocks:
    """The structure of a deflated eigenvector matrix V: coupled rows ``act``, decoupled rows
    ``cols``, the coupled block's eigenvectors ``VA`` (a, a), the decoupled modes' coupled parts
    ``X`` (a, n - a, before normalisation) and their norms ``s``. In the order (act, cols),
    ``V = [[VA, X / s], [0, diag(1 / s)]]`` and ``V^-1 = [[VA^-1, -VA^-1 X], [0, diag(s)]]``."""

    act: np.ndarray
    cols: np.ndarray
    VA: np.ndarray
    X: np.ndarray
    s: np.ndarray


def decoupled_rows(J):
    """(N,) bool: the rows of the square matrix J with no off-diagonal entry (the rows of
    inactive ReLU units); each contributes its diagonal entry to the spectrum on its own."""
    return np.count_nonzero(J, axis=1) - (np.diag(J) != 0) == 0


def map_chunks(fn, items):
    """Run ``fn`` over items on the package's persistent thread pool (:func:`run_blocks`, one
    block per thread, items interleaved so that blocks get similar sizes) with single-threaded
    BLAS (LAPACK releases the GIL; many small eigen-problems scale across points, not inside
    one)."""
    n_blocks = min(len(items), n_threads())
    if n_blocks <= 1:
        return [fn(i) for i in items]
    out = [None] * len(items)

    def block(k, nb):
        for i in range(k, len(items), nb):
            out[i] = fn(items[i])

    with single_blas_thread():
        run_blocks(block, n_blocks)
    return out


def eig_batch(J):
    """Eigenvalues (n, N) and unit-norm right eigenvectors (n, N, N) of each J[i], and per
    point its :class:`Blocks` (None when it was decomposed whole); parallel over points and
    deflated (:func:`eig_deflated`) for large matrices."""
    n, N = J.shape[0], J.shape[1]
    if N < _LARGE:
        ev, V = np.linalg.eig(J)
        return ev, V, [None] * n
    parts = map_chunks(eig_deflated, list(J))
    return (np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts]),
            [p[2] for p in parts])


def eig_deflated(J):
    """Eigen-decomposition of one matrix, deflating its decoupled rows: the spectrum is
    eig(J_AA) plus d; the eigenvectors are ``[v; 0]`` for those of J_AA and
    ``[-(J_AA - d_j)^-1 J_AD e_j; e_j]`` for each d_j. Falls back to ``np.linalg.eig`` of the
    whole matrix when fewer than an eighth of the rows are decoupled or some d_j is
    (numerically) an eigenvalue of J_AA. Returns (eigenvalues, V, Blocks or None)."""
    N = J.shape[0]
    d_all = np.diag(J)
    dec = decoupled_rows(J)
    if int(dec.sum()) * 8 < N:
        return (*np.linalg.eig(J), None)
    act, cols = np.flatnonzero(~dec), np.flatnonzero(dec)
    a, d = act.size, d_all[cols]
    if a:
        JAA = J[np.ix_(act, act)]
        wA, VA = np.linalg.eig(JAA)
    else:
        JAA, wA, VA = np.zeros((0, 0)), np.zeros(0, complex), np.zeros((0, 0), complex)
    scale = max(1.0, float(np.max(np.abs(J))))
    JAD = J[np.ix_(act, cols)]
    X = np.zeros((a, cols.size), complex)
    for val in np.unique(d):
        js = np.flatnonzero(d == val)
        if not np.any(JAD[:, js]):
            continue   # e_j itself is an eigenvector
        if a and np.min(np.abs(wA - val)) <= 1e-8 * scale:
            return (*np.linalg.eig(J), None)   # shared eigenvalue: possibly defective
        X[:, js] = np.linalg.solve(JAA - val * np.eye(a), -JAD[:, js])
    s = np.sqrt(np.sum(np.abs(X) ** 2, axis=0) + 1.0)
    V = np.zeros((N, N), complex)
    V[act, :a] = VA
    V[np.ix_(act, a + np.arange(cols.size))] = X / s
    V[cols, a + np.arange(cols.size)] = 1.0 / s
    return np.concatenate([wA, d.astype(complex)]), V, Blocks(act, cols, VA, X, s)


def left_modes(vr, lead, blocks=None):
    """Left eigenvectors w_k of the leading modes ``lead`` (n, k): rows of V^-1 (so that
    w^H v = 1), from one LU of V^T per point, or of the coupled block's VA^T for deflated
    points (``blocks``); NaN where V is singular."""
    n, N, k = vr.shape[0], vr.shape[1], lead.shape[1]
    left = np.full((n, N, k), np.nan + 0j)
    blocks = [None] * n if blocks is None else blocks

    def one(i):
        if blocks[i] is not None:
            rows = _inverse_rows(blocks[i], lead[i], N)
        else:
            E = np.zeros((N, k), complex)
            E[lead[i], np.arange(k)] = 1.0
            rows = _solve_transposed(vr[i], E)
        if rows is not None:
            left[i] = np.conj(rows)

    if k:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            if N < _LARGE:
                for i in range(n):
                    one(i)
            else:
                map_chunks(one, list(range(n)))
    return left


def _solve_transposed(V, E):
    """``V^-T E`` by LU (the rows of V^-1 picked by E, as columns); None when V is singular."""
    try:
        lu = scipy.linalg.lu_factor(V.T, check_finite=False)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if np.min(np.abs(np.diag(lu[0])), initial=np.inf) < 1e-13 * np.max(np.abs(lu[0]),
                                                                       initial=0.0):
        return None
    return scipy.linalg.lu_solve(lu, E, check_finite=False)


def _inverse_rows(b: Blocks, lead, N):
    """Rows ``lead`` of V^-1 for a deflated V (as columns, (N, k)); None when VA is singular."""
    a = b.act.size
    out = np.zeros((N, lead.size), complex)
    inA = np.flatnonzero(lead < a)
    if inA.size:
        E = np.zeros((a, inA.size), complex)
        E[lead[inA], np.arange(inA.size)] = 1.0
        Y = _solve_transposed(b.VA, E)          # columns: rows of VA^-1
        if Y is None:
            return None
        out[np.ix_(b.act, inA)] = Y
        out[np.ix_(b.cols, inA)] = -(b.X.T @ Y)
    inD = np.flatnonzero(lead >= a)
    j = lead[inD] - a
    out[b.cols[j], inD] = b.s[j]
    return out
