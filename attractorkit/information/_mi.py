"""Mutual information between continuous and/or discrete samples.

Estimators (all in nats unless ``units="bits"``):

- ``"ksg1"`` / ``"ksg2"``: Kraskov, Stoegbauer & Grassberger (2004), algorithms 1 and 2, max
  (Chebyshev) norm. One-dimensional pairs run a numba grid search (``_kernels.ksg``); higher
  dimensions use scipy's cKDTree.
- ``"mixed"``: Ross (2014) for continuous x and discrete y (also chosen automatically by
  ``"ksg1"``/``"ksg2"`` when y, or x, is detected as discrete).
- ``"gcmi"``: Gaussian-copula MI (Ince et al. 2017) with the analytic bias correction; a lower
  bound on the true MI, exact for Gaussian copulas and invariant under monotone maps.

Discrete-discrete pairs use the plug-in estimate from the joint histogram.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, ndtri

from .._kernels import ksg as _ksg
from .._kernels import ross as _ross_kernel
from ..core._errors import ValidationError
from ..core._validation import as_rng, check_choice, check_int, check_positive
from ._samples import (
    _check_k,
    _kind,
    _lengths,
    _raw,
    continuous,
    encode_labels,
    looks_discrete,
    psi_table,
    scale_and_jitter,
    sort_columns,
)

__all__ = ["mutual_information", "conditional_mutual_information"]

METHODS = ("ksg1", "ksg2", "gcmi", "mixed")
UNITS = ("nats", "bits")
_TIE_WARN_FRACTION = 0.01


# -- estimators ----------------------------------------------------------------------------------
def _tie_check(eps):
    share = float(np.mean(eps == 0))
    if share > _TIE_WARN_FRACTION:
        warnings.warn(
            f"{100 * share:.1f}% of samples have exact duplicates among their k nearest "
            "neighbours (jitter=0); the k-NN estimate is biased - use the default jitter, or "
            "method='mixed' when one variable is discrete",
            RuntimeWarning,
            stacklevel=4,
        )


def _ksg_1d(x, y, k, variant):
    """One-dimensional pair through the numba grid kernel, points split over threads."""
    n = x.shape[0]
    xo = np.argsort(x[:, 0], kind="stable")
    yo = np.argsort(y[:, 0], kind="stable")
    yrank = np.empty(n, np.int64)
    yrank[yo] = np.arange(n)
    chunks = 1 if n < 5000 else 4 * max(1, numba.get_num_threads())
    return float(_ksg.ksg_points(np.ascontiguousarray(x[xo, 0]), np.ascontiguousarray(y[xo, 0]),
                                 np.ascontiguousarray(y[yo, 0]), yrank[xo], k, variant,
                                 psi_table(n), chunks))


def _ksg_tree(x, y, k, variant):
    n = x.shape[0]
    joint = np.hstack([x, y])
    dist, idx = cKDTree(joint).query(joint, k=k + 1, p=np.inf, workers=-1)
    tx, ty = cKDTree(x), cKDTree(y)
    if variant == 1:
        eps = dist[:, k]
        _tie_check(eps)
        r = np.nextafter(eps, 0)
        nx = tx.query_ball_point(x, r, p=np.inf, return_length=True, workers=-1) - 1
        ny = ty.query_ball_point(y, r, p=np.inf, return_length=True, workers=-1) - 1
        nx[eps == 0] = 0
        ny[eps == 0] = 0
        return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))
    is_self = idx == np.arange(n)[:, None]
    keep = ~is_self
    keep[~is_self.any(axis=1), k] = False          # self not returned (duplicates): drop last
    nb = idx[keep].reshape(n, k)
    ex = np.max(np.abs(x[nb] - x[:, None, :]), axis=(1, 2))
    ey = np.max(np.abs(y[nb] - y[:, None, :]), axis=(1, 2))
    nx = tx.query_ball_point(x, ex, p=np.inf, return_length=True, workers=-1) - 1
    ny = ty.query_ball_point(y, ey, p=np.inf, return_length=True, workers=-1) - 1
    return float(digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny)))


def _ross(x, codes, n_classes, k):
    """Ross (2014): continuous x (n, d), integer labels; classes of one sample are ignored."""
    n = x.shape[0]
    if x.shape[1] == 1:
        vals, order = sort_columns(x)
        out = np.empty((1, 1))
        perms = np.arange(n, dtype=np.int64)[None, :]
        _ross_kernel.ross_batch(vals, order, codes, perms, n_classes, k, psi_table(n), out)
        return float(out[0, 0])
    counts = np.bincount(codes, minlength=n_classes)
    used = counts[codes] > 1
    xs, cs = x[used], codes[used]
    full = cKDTree(xs)
    total = 0.0
    for c in np.flatnonzero(counts > 1):
        xc = xs[cs == c]
        kk = min(k, xc.shape[0] - 1)
        d = cKDTree(xc).query(xc, k=kk + 1, p=np.inf, workers=-1)[0][:, kk]
        # radius nextafter(d, 0) with <=: < d, or the duplicates of x when d = 0 (as sklearn
        # and the 1-D kernel count)
        m = full.query_ball_point(xc, np.nextafter(d, 0), p=np.inf, return_length=True,
                                  workers=-1)
        total += np.sum(digamma(kk) - digamma(xc.shape[0]) - digamma(m))
    return float(digamma(xs.shape[0]) + total / xs.shape[0])


def copnorm(x) -> np.ndarray:
    """Copula-normalise each column: ranks (ties by order) -> standard normal scores."""
    x = np.asarray(x, dtype=np.float64)
    ranks = np.argsort(np.argsort(x, axis=0, kind="stable"), axis=0, kind="stable")
    return ndtri((ranks + 1.0) / (x.shape[0] + 1.0))


def _gauss_entropy(c, n):
    """Bias-corrected log-det part of a Gaussian entropy (Ince et al. 2017), constants dropped."""
    d = c.shape[0]
    h = np.sum(np.log(np.diag(np.linalg.cholesky(c))))
    psiterms = digamma((n - np.arange(1, d + 1)) / 2.0) / 2.0
    dterm = (np.log(2.0) - np.log(n - 1.0)) / 2.0
    return h - d * dterm - psiterms.sum()


def _gcmi_cc(x, y):
    n, dx = x.shape
    xy = np.hstack([copnorm(x), copnorm(y)])
    c = np.atleast_2d(np.cov(xy, rowvar=False))
    return float(_gauss_entropy(c[:dx, :dx], n) + _gauss_entropy(c[dx:, dx:], n)
                 - _gauss_entropy(c, n))


def _gcmi_cd(x, codes, n_classes):
    """Ince's gcmi_model_cd; classes with fewer than d + 2 samples are ignored (after the copula
    transform of all samples)."""
    d = x.shape[1]
    counts = np.bincount(codes, minlength=n_classes)
    used = counts[codes] >= d + 2
    xs = copnorm(x)[used]
    cs = codes[used]
    n = xs.shape[0]
    if n < d + 2:
        return 0.0
    h = _gauss_entropy(np.atleast_2d(np.cov(xs, rowvar=False)), n)
    for c in np.flatnonzero(counts >= d + 2):
        xc = xs[cs == c]
        h -= xc.shape[0] / n * _gauss_entropy(np.atleast_2d(np.cov(xc, rowvar=False)),
                                              xc.shape[0])
    return float(h)


def _plugin(a, b):
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    p = joint / joint.sum()
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / (pa @ pb)[nz])))


# -- public API -------------------------------------------------------------------------------
def _mi_nats(xr, yr, method, k, jitter, dx, dy, rng, names=("x", "y")):
    """MI of checked samples ``xr``, ``yr`` whose kinds (discrete or not) are decided."""
    if dx and not dy:
        return _mi_nats(yr, xr, method, k, jitter, False, True, rng, names[::-1])
    _lengths(xr, yr, names=names + ("z",))
    if dx and dy:
        (a, _), (b, _) = encode_labels(names[0], xr), encode_labels(names[1], yr)
        return _plugin(a, b)
    xc = continuous(names[0], xr)
    if dy:
        codes, n_classes = encode_labels(names[1], yr)
        k = _check_k(k, xc.shape[0])
        if method == "gcmi":
            return _gcmi_cd(xc, codes, n_classes)
        return _ross(scale_and_jitter(xc, jitter, rng), codes, n_classes, k)
    if method == "mixed":
        raise ValidationError("method: 'mixed' needs a discrete y (or x); both are continuous "
                              "- pass discrete_y=True to treat y as labels, or use 'ksg1'")
    yc = continuous(names[1], yr)
    n = xc.shape[0]
    k = _check_k(k, n)
    if method == "gcmi":
        return _gcmi_cc(xc, yc)
    xs, ys = scale_and_jitter(xc, jitter, rng), scale_and_jitter(yc, jitter, rng)
    variant = 1 if method == "ksg1" else 2
    if xs.shape[1] == 1 and ys.shape[1] == 1 and jitter > 0:
        return _ksg_1d(xs, ys, k, variant)
    return _ksg_tree(xs, ys, k, variant)


def _options(method, units, jitter, k):
    check_int("k", k, minimum=1)
    check_choice("method", method, METHODS)
    check_choice("units", units, UNITS)
    check_positive("jitter", jitter, strict=False)
    return 1.0 if units == "nats" else 1.0 / np.log(2.0)


def mutual_information(x, y, *, method: str = "ksg1", k: int = 3, units: str = "nats",
                       jitter: float = 1e-10, discrete_x: bool | None = None,
                       discrete_y: bool | None = None, rng=None) -> float:
    """Mutual information I(x; y) between paired samples.

    Parameters
    ----------
    x, y : array_like of shape (n_samples,) or (n_samples, n_features)
        Paired samples (rows are samples). Continuous variables may be multivariate; a
        discrete variable is one column of labels (ints, bools, strings or few distinct floats).
    method : {"ksg1", "ksg2", "gcmi", "mixed"}
        Estimator for the continuous part: KSG algorithm 1 (default) or 2, Gaussian-copula
        MI, or Ross' continuous-discrete estimator. When one variable is discrete the k-NN
        methods use Ross' estimator, and ``"gcmi"`` Ince's Gaussian model; two discrete
        variables always use the plug-in estimate of the joint histogram.
    k : int
        Number of neighbours (k-NN estimators); must be < n_samples.
    units : {"nats", "bits"}
    jitter : float
        Relative size of the Gaussian noise added, after dividing each continuous column by
        its standard deviation, to break ties (sd ``jitter * max(1, mean|x|)``, as
        scikit-learn). ``0`` switches it off; exact duplicates then bias KSG and a
        RuntimeWarning says so. GCMI ignores it (ties are ranked by sample order).
    discrete_x, discrete_y : bool or None
        Whether a variable is discrete; None decides automatically (labels, or at most 32
        distinct values with at least 5 samples each on average).
    rng : None, int or numpy Generator
        Seeds the jitter.

    Returns
    -------
    float
        The raw estimate (k-NN estimates can be slightly negative at independence).

    Raises
    ------
    ValidationError
        NaN/Inf, a constant continuous column, mismatched lengths, ``k >= n_samples``,
        an unknown method or units.

    References
    ----------
    Kraskov, Stoegbauer & Grassberger, Phys. Rev. E 69, 066138 (2004). Ross, PLoS ONE 9,
    e87357 (2014). Ince et al., Hum. Brain Mapp. 38, 1541 (2017).

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> g = np.random.default_rng(0)
    >>> x = g.normal(size=2000); y = 0.6 * x + 0.8 * g.normal(size=2000)
    >>> round(ak.mutual_information(x, y, rng=0), 1)   # true value 0.223 nats
    0.2
    """
    scale = _options(method, units, jitter, k)
    xr, yr = _raw("x", x), _raw("y", y)
    _lengths(xr, yr)
    dx, dy = _kind("x", xr, discrete_x), _kind("y", yr, discrete_y)
    return scale * _mi_nats(xr, yr, method, k, float(jitter), dx, dy, as_rng(rng))


def _cmi_ksg(x, y, z, k):
    """Frenzel & Pompe (2007): KSG1-style conditional MI, max norm, strict counts."""
    joint = np.hstack([x, y, z])
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf, workers=-1)[0][:, k]
    _tie_check(eps)
    r = np.nextafter(eps, 0)

    def count(a):
        c = cKDTree(a).query_ball_point(a, r, p=np.inf, return_length=True, workers=-1) - 1
        c[eps == 0] = 0
        return c

    nxz, nyz, nz = count(np.hstack([x, z])), count(np.hstack([y, z])), count(z)
    return float(digamma(k) - np.mean(digamma(nxz + 1) + digamma(nyz + 1) - digamma(nz + 1)))


def _cmi_gcmi(x, y, z):
    n, dx, dy = x.shape[0], x.shape[1], y.shape[1]
    a = np.hstack([copnorm(x), copnorm(y), copnorm(z)])
    c = np.atleast_2d(np.cov(a, rowvar=False))
    ix, iy = np.arange(dx), np.arange(dx, dx + dy)
    iz = np.arange(dx + dy, a.shape[1])

    def h(idx):
        return _gauss_entropy(c[np.ix_(idx, idx)], n)

    return float(h(np.r_[ix, iz]) + h(np.r_[iy, iz]) - h(iz) - h(np.arange(a.shape[1])))


def conditional_mutual_information(x, y, z, *, method: str = "ksg1", k: int = 3,
                                   units: str = "nats", jitter: float = 1e-10,
                                   discrete_z: bool | None = None, rng=None) -> float:
    """Conditional mutual information I(x; y | z).

    A discrete ``z`` (auto-detected as in :func:`mutual_information`, or ``discrete_z=True``)
    gives ``sum_c p(z=c) I(x; y | z=c)`` with :func:`mutual_information` inside each class
    (so x and y may then be continuous or discrete). A continuous ``z`` needs continuous x and
    y and uses the Frenzel-Pompe KSG estimator (``"ksg1"``) or the Gaussian copula (``"gcmi"``).

    Parameters
    ----------
    x, y, z : array_like of shape (n_samples,) or (n_samples, n_features)
    method : {"ksg1", "ksg2", "gcmi", "mixed"}
        With a continuous z only "ksg1" and "gcmi" apply.
    k, units, jitter, rng
        As in :func:`mutual_information`.

    Returns
    -------
    float

    References
    ----------
    Frenzel & Pompe, Phys. Rev. Lett. 99, 204101 (2007).
    """
    scale = _options(method, units, jitter, k)
    gen = as_rng(rng)
    xr, yr, zr = _raw("x", x), _raw("y", y), _raw("z", z)
    _lengths(xr, yr, zr)
    if _kind("z", zr, discrete_z):
        codes, n_classes = encode_labels("z", zr)
        counts = np.bincount(codes, minlength=n_classes)
        if not np.any(counts > k + 1):
            raise ValidationError(f"z: no class of z has more than k + 1 = {k + 1} samples")
        total = 0.0
        for c in np.flatnonzero(counts > k + 1):
            sel = codes == c
            xs, ys = xr[sel], yr[sel]
            total += counts[c] * _mi_nats(xs, ys, method, k, float(jitter),
                                          looks_discrete(xs), looks_discrete(ys), gen)
        return scale * total / counts[counts > k + 1].sum()
    if method not in ("ksg1", "gcmi"):
        raise ValidationError(f"method: with a continuous z expected 'ksg1' or 'gcmi', "
                              f"received {method!r}")
    if looks_discrete(xr) or looks_discrete(yr):
        raise ValidationError("x, y: with a continuous z both must be continuous; a discrete "
                              "variable here is not supported - condition on a discrete z or "
                              "use method='gcmi' on continuous data")
    xc, yc, zc = continuous("x", xr), continuous("y", yr), continuous("z", zr)
    if method == "gcmi":
        return scale * _cmi_gcmi(xc, yc, zc)
    k = _check_k(k, xc.shape[0])
    j = float(jitter)
    xs, ys, zs = (scale_and_jitter(a, j, gen) for a in (xc, yc, zc))
    return scale * _cmi_ksg(xs, ys, zs, k)
