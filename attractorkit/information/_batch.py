"""Batched MI of many one-dimensional columns with one variable under many shuffles.

This is the engine behind :func:`attractorkit.selectivity` and :func:`attractorkit.shuffle_test`:
each column is sorted once, every (column, shuffle) pair is one job of a numba ``prange``
(k-NN estimators), and the Gaussian-copula estimator reduces to matrix products.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from .._kernels import ksg as _ksg
from ._mi import copnorm
from ._samples import encode_labels, psi_table, sort_columns

__all__ = ["mi_columns"]

_GCMI_CHUNK = 256  # columns of the one-hot block per matrix product


def _jittered(x, jitter, rng):
    """Each non-constant column divided by its std plus jitter (see ``scale_and_jitter``)."""
    sd = x.std(axis=0)
    z = x / np.where(sd > 0, sd, 1.0)
    if jitter > 0:
        z = z + jitter * np.maximum(1.0, np.mean(np.abs(z), axis=0)) * rng.standard_normal(z.shape)
    return np.ascontiguousarray(z)


def _gcmi_cc_columns(x, y, perms):
    n = x.shape[0]
    cx = copnorm(x)
    cx -= cx.mean(axis=0)
    cy = copnorm(y[:, None])[:, 0]
    cy -= cy.mean()
    yp = cy[perms]                                           # (S, n)
    r = (cx.T @ yp.T) / np.outer(np.linalg.norm(cx, axis=0), np.linalg.norm(cy))
    r = np.clip(r, -1.0, 1.0)
    bias = (digamma((n - 2) / 2.0) - digamma((n - 1) / 2.0)) / 2.0
    with np.errstate(divide="ignore"):
        return -0.5 * np.log1p(-(r * r)) + bias


def _h1(var, n):
    """Bias-corrected 1-D Gaussian log-det entropy part (Ince), var with n - 1 normalisation."""
    return 0.5 * np.log(var) - (np.log(2.0) - np.log(n - 1.0)) / 2.0 - digamma((n - 1) / 2.0) / 2


def _gcmi_cd_columns(x, codes, n_classes, perms):
    """Vectorised Ince gcmi_model_cd for 1-D columns; classes with < 3 samples are ignored."""
    cx = copnorm(x)
    counts = np.bincount(codes, minlength=n_classes)
    good = np.flatnonzero(counts >= 3)
    n_used = counts[good].sum()
    out = np.zeros((x.shape[1], perms.shape[0]))
    if n_used < 3:
        return out
    per = max(1, _GCMI_CHUNK // n_classes)
    for s0 in range(0, perms.shape[0], per):
        block = perms[s0:s0 + per]
        lab = codes[block]                                   # (b, n)
        onehot = np.zeros((x.shape[0], block.shape[0] * n_classes))
        cols = lab + n_classes * np.arange(block.shape[0])[:, None]
        np.put_along_axis(onehot, cols.T, 1.0, axis=1)
        s1 = (cx.T @ onehot).reshape(x.shape[1], block.shape[0], n_classes)[..., good]
        s2 = ((cx * cx).T @ onehot).reshape(x.shape[1], block.shape[0], n_classes)[..., good]
        nc = counts[good].astype(float)
        var_c = (s2 - s1 * s1 / nc) / (nc - 1)
        t1, t2 = s1.sum(-1), s2.sum(-1)
        var_u = (t2 - t1 * t1 / n_used) / (n_used - 1)
        h_cond = np.sum(nc / n_used * _h1(var_c, nc), axis=-1)
        out[:, s0:s0 + block.shape[0]] = _h1(var_u, n_used) - h_cond
    return out


def mi_columns(x, y, perms, *, method, k, discrete, jitter, rng):
    """MI (nats) of every column of ``x`` (n, U) with ``y`` (n,) under every shuffle.

    ``perms`` (S, n) int64 holds index arrays (row 0 the identity for the observed value):
    under shuffle s the partner of sample i is ``y[perms[s, i]]``. Constant columns, and a
    constant ``y``, give exactly 0. Returns (U, S).
    """
    n, n_units = x.shape
    out = np.zeros((n_units, perms.shape[0]))
    live = np.flatnonzero(np.ptp(x, axis=0) > 0)
    if live.size == 0:
        return out
    xl = np.ascontiguousarray(x[:, live])
    if discrete:
        codes, n_classes = encode_labels("y", y)
        if n_classes < 2:
            return out
        if method == "gcmi":
            out[live] = _gcmi_cd_columns(xl, codes, n_classes, perms)
            return out
        vals, order = sort_columns(_jittered(xl, jitter, rng))
        res = np.empty((live.size, perms.shape[0]))
        _ksg.ross_batch(vals, order, codes, perms, n_classes, k, psi_table(n), res)
        out[live] = res
        return out
    y = np.asarray(y, dtype=np.float64)
    if np.ptp(y) == 0:
        return out
    if method == "gcmi":
        out[live] = _gcmi_cc_columns(xl, y, perms)
        return out
    vals, order = sort_columns(_jittered(xl, jitter, rng))
    yj = _jittered(y[:, None], jitter, rng)[:, 0]
    yo = np.argsort(yj, kind="stable")
    yrank = np.empty(n, np.int64)
    yrank[yo] = np.arange(n)
    res = np.empty((live.size, perms.shape[0]))
    _ksg.ksg_batch(vals, order, yj, np.ascontiguousarray(yj[yo]), yrank, perms, k,
                   1 if method == "ksg1" else 2, psi_table(n), res)
    out[live] = res
    return out
