"""Principal component analysis: the one implementation every analysis calls.

:func:`pca` is the plain decomposition of a point cloud (thin SVD of the centred points);
:func:`pca_axes` is the fast path for long orbits (the d x d covariance of at most 2000 rows,
optionally only the k largest eigenpairs), used where only a few leading axes are needed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.linalg import eigh

__all__ = ["PCA", "pca", "pca_axes"]


@dataclasses.dataclass(frozen=True, eq=False)
class PCA:
    """Principal axes of a point cloud.

    Attributes
    ----------
    mean : ndarray of shape (d,)
    axes : ndarray of shape (k, d)
        Orthonormal rows, largest variance first.
    variance : ndarray of shape (k,)
        Variance along each axis (sum of squares over n).
    total_variance : float
        Variance summed over all axes, also those not kept.
    """

    mean: np.ndarray
    axes: np.ndarray
    variance: np.ndarray
    total_variance: float

    @property
    def explained_ratio(self) -> np.ndarray:
        """Share of the total variance along each kept axis (zeros for a constant cloud)."""
        if self.total_variance <= 0:
            return np.zeros_like(self.variance)
        return self.variance / self.total_variance

    def project(self, X) -> np.ndarray:
        """Coordinates of X (..., d) on the kept axes: (..., k)."""
        return (np.asarray(X) - self.mean) @ self.axes.T

    def __repr__(self) -> str:
        return (f"PCA({self.axes.shape[0]} axes of {self.mean.size} dimensions, explained "
                f"{float(self.explained_ratio.sum()):.3f})")


def pca(X, k: int | None = None) -> PCA:
    """Principal axes of the points X (n, d) by a thin SVD of the centred points.

    ``k`` (default all) is the number of axes kept; fewer exist when n < d.
    """
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    var = s**2 / max(X.shape[0], 1)
    k = vt.shape[0] if k is None else min(int(k), vt.shape[0])
    return PCA(mean=mean, axes=vt[:k], variance=var[:k], total_variance=float(var.sum()))


def pca_axes(C, k, *, solver="subset"):
    """(axes (k, d) as rows, variances (k,)) of centred points C (n, d), largest first.

    Uses the d x d covariance (cheap for n >> d) on at most 2000 rows. ``solver``: "subset"
    (scipy's solver for the k largest eigenpairs) or "full" (numpy's full decomposition: as
    fast for d of a few hundred, and it releases the GIL, so that evidence of several runs is
    computed in parallel threads)."""
    C = C[:: max(1, C.shape[0] // 2000)]
    n, d = C.shape
    if n >= d:
        if solver == "full":
            w, V = np.linalg.eigh(C.T @ C)
            w, V = w[d - min(k, d):], V[:, d - min(k, d):]
        else:
            w, V = eigh(C.T @ C, subset_by_index=[max(0, d - k), d - 1])
        return V[:, ::-1].T, np.maximum(w[::-1], 0.0) / max(n, 1)
    _, S, Vt = np.linalg.svd(C, full_matrices=False)
    return Vt[:k], S[:k] ** 2 / max(n, 1)
