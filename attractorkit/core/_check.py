"""``check_model``: the conformance kit for implementations of the Model contract."""

from __future__ import annotations

import numpy as np

from .._kernels import cells as _cells
from ._errors import ModelCheckError
from ._model import KernelSpec
from ._validation import as_rng, check_int, check_positive

__all__ = ["check_model"]

_REQUIRED = ("n_state", "n_input", "time", "dt", "step", "jacobian", "input_jacobian")


def check_model(model, *, rng=None, n_points: int = 4, scale: float = 1.0,
                atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Verify that ``model`` honours the :class:`attractorkit.Model` contract.

    Checks, in this order: the protocol members and their types; output shapes, float64 dtype
    and finite values of ``step``, ``jacobian`` and ``input_jacobian`` at random states and
    inputs; that the model does not modify its arguments; determinism (two calls give the same
    bits); batch independence (each row computed alone equals the row computed in a batch, to
    1e-12 relative); ``jacobian`` and ``input_jacobian`` against central finite differences of
    ``step``; and, when the model has a ``kernel``, that the numba kernels agree with ``step``
    and ``jacobian``.

    Finite differences use a step of ``6e-6 * max(1, |h_j|)`` per coordinate. A point where the
    forward and backward one-sided differences disagree by more than ``1e-3`` (relative) sits
    on a kink of a piecewise-smooth model (ReLU); such points are discarded and re-sampled, so
    that a correct ReLU model passes and a wrong Jacobian still fails at every smooth point.

    Parameters
    ----------
    model : object
        Anything claiming to implement the Model protocol.
    rng : None, int or numpy.random.Generator
        Seed of the random test points.
    n_points : int
        Number of random points (the batch size of the checks).
    scale : float
        Standard deviation of the random states and inputs.
    atol, rtol : float
        Jacobian tolerance: ``|J - J_fd| <= atol * s + rtol * |J_fd|`` elementwise, with
        ``s = max(1, max|F|, max|J_fd|)``.

    Returns
    -------
    None

    Raises
    ------
    ModelCheckError
        With a message naming the member that failed, what was expected and what was found.

    Examples
    --------
    >>> import numpy as np
    >>> import attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> ak.check_model(VanillaRNN(0.9 * np.eye(3), np.ones((3, 1))))
    """
    gen = as_rng(rng)
    scale = check_positive("scale", scale)
    n_points = check_int("n_points", n_points, minimum=1)
    atol = check_positive("atol", atol)
    rtol = check_positive("rtol", rtol, strict=False)
    n, m = _check_members(model)
    H = scale * gen.standard_normal((n_points, n))
    X = scale * gen.standard_normal((n_points, m))
    F = _check_outputs(model, H, X, n, m)
    _check_batch_independence(model, H, X, F)
    _check_derivatives(model, H, X, n, m, gen, scale, atol, rtol)
    _check_kernel(model, H, X, F, n, m)


def _fail(msg: str):
    raise ModelCheckError(f"check_model: {msg}")


def _check_members(model) -> tuple[int, int]:
    missing = [a for a in _REQUIRED if not hasattr(model, a)]
    if missing:
        _fail(f"{type(model).__name__} lacks the Model member(s) {', '.join(missing)}")
    for a in ("step", "jacobian", "input_jacobian"):
        if not callable(getattr(model, a)):
            _fail(f"{a} must be callable, found {type(getattr(model, a)).__name__}")
    n, m = model.n_state, model.n_input
    for name, v, lo in (("n_state", n, 1), ("n_input", m, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            _fail(f"{name} must be an int >= {lo}, found {v!r}")
    if model.time not in ("discrete", "continuous"):
        _fail(f"time must be 'discrete' or 'continuous', found {model.time!r}")
    dt = model.dt
    if model.time == "continuous":
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)) \
                or not np.isfinite(dt) or dt <= 0:
            _fail(f"a flow (time='continuous') needs a finite dt > 0, found {dt!r}")
    elif dt is not None:
        _fail(f"a map (time='discrete') must have dt None, found {dt!r}")
    return int(n), int(m)


def _call(model, name, H, X, shape):
    Hc, Xc = H.copy(), X.copy()
    try:
        out = getattr(model, name)(Hc, Xc)
    except Exception as exc:  # noqa: BLE001 - report any failure of the model as a check error
        _fail(f"{name}(h, x) raised {type(exc).__name__}: {exc}")
    if not (np.array_equal(Hc, H) and np.array_equal(Xc, X)):
        _fail(f"{name}(h, x) modified its arguments in place")
    if not isinstance(out, np.ndarray):
        _fail(f"{name}(h, x) must return a numpy ndarray, returned {type(out).__name__}")
    if out.shape != shape:
        _fail(f"{name}(h, x) returned shape {out.shape}, expected {shape} for B={shape[0]}")
    if out.dtype != np.float64:
        _fail(f"{name}(h, x) returned dtype {out.dtype}, expected float64")
    if not np.isfinite(out).all():
        _fail(f"{name}(h, x) returned NaN/Inf at finite states and inputs")
    return out


def _check_outputs(model, H, X, n, m):
    B = H.shape[0]
    F = _call(model, "step", H, X, (B, n))
    J = _call(model, "jacobian", H, X, (B, n, n))
    Jx = _call(model, "input_jacobian", H, X, (B, n, m))
    for name, first, shape in (("step", F, (B, n)), ("jacobian", J, (B, n, n)),
                               ("input_jacobian", Jx, (B, n, m))):
        again = _call(model, name, H, X, shape)
        if not np.array_equal(first, again):
            _fail(f"{name} is not deterministic: two calls on the same (h, x) differ by up to "
                  f"{np.max(np.abs(first - again)):.3g}")
    return F


def _close(a, b, tol=1e-12):
    return np.abs(a - b) <= tol * (1.0 + np.abs(b))


def _check_batch_independence(model, H, X, F):
    for b in range(H.shape[0]):
        alone = np.asarray(model.step(H[b:b + 1].copy(), X[b:b + 1].copy()))
        if alone.shape != (1, H.shape[1]) or not _close(alone[0], F[b]).all():
            _fail(f"step is not batch independent: row {b} computed alone differs from the same "
                  f"row computed in a batch of {H.shape[0]} (max difference "
                  f"{np.max(np.abs(alone.reshape(-1)[:F.shape[1]] - F[b])):.3g})")
        # a batch with the row repeated and another row changed must give the same row
        H2 = np.concatenate([H[b:b + 1], H[b:b + 1] + 1.0])
        X2 = np.concatenate([X[b:b + 1], X[b:b + 1]])
        pair = np.asarray(model.step(H2, X2))
        if not _close(pair[0], F[b]).all():
            _fail(f"step is not batch independent: row {b} changes when another row of the "
                  f"batch changes")


def _finite_differences(model, H, X, wrt):
    """Central, forward and backward differences of step w.r.t. h ('h') or x ('x')."""
    B, n = H.shape
    V = H if wrt == "h" else X
    k = V.shape[1]
    eps = 6e-6 * np.maximum(1.0, np.abs(V))                       # (B, k)
    E = np.zeros((B, k, k))
    idx = np.arange(k)
    E[:, idx, idx] = eps
    Vp = (V[:, None, :] + E).reshape(B * k, k)
    Vm = (V[:, None, :] - E).reshape(B * k, k)
    Hr = np.repeat(H, k, axis=0)
    Xr = np.repeat(X, k, axis=0)
    if wrt == "h":
        Fp, Fm = model.step(Vp, Xr), model.step(Vm, Xr)
    else:
        Fp, Fm = model.step(Hr, Vp), model.step(Hr, Vm)
    F0 = np.repeat(model.step(H, X), k, axis=0)
    d = eps.reshape(B * k, 1)
    cen = ((Fp - Fm) / (2 * d)).reshape(B, k, n).transpose(0, 2, 1)
    fwd = ((Fp - F0) / d).reshape(B, k, n).transpose(0, 2, 1)
    bwd = ((F0 - Fm) / d).reshape(B, k, n).transpose(0, 2, 1)
    return cen, fwd, bwd


def _smooth_rows(fwd, bwd):
    """Rows (points) where one-sided differences agree, i.e. no kink within the FD step."""
    s = np.maximum(1.0, np.abs(fwd).max(axis=(1, 2)))
    return (np.abs(fwd - bwd).max(axis=(1, 2)) <= 1e-3 * s) if fwd.size else \
        np.ones(fwd.shape[0], bool)


def _check_derivatives(model, H, X, n, m, gen, scale, atol, rtol):
    B = H.shape[0]
    keep_H, keep_X = [], []
    for _ in range(10):                          # re-sample points that sit on kinks
        ok = _smooth_rows(*_finite_differences(model, H, X, "h")[1:])
        if m:
            ok &= _smooth_rows(*_finite_differences(model, H, X, "x")[1:])
        keep_H.append(H[ok])
        keep_X.append(X[ok])
        if sum(len(a) for a in keep_H) >= B:
            break
        H = scale * gen.standard_normal(H.shape)
        X = scale * gen.standard_normal(X.shape)
    H = np.concatenate(keep_H)[:B]
    X = np.concatenate(keep_X)[:B]
    if len(H) == 0:
        _fail("step is not differentiable at any of the sampled points (one-sided finite "
              "differences disagree everywhere); check step for discontinuities")
    F = model.step(H, X)
    for name, wrt in (("jacobian", "h"), ("input_jacobian", "x")):
        if wrt == "x" and m == 0:
            continue
        fd = _finite_differences(model, H, X, wrt)[0]
        J = np.asarray(getattr(model, name)(H, X))
        s = max(1.0, float(np.abs(F).max()), float(np.abs(fd).max()))
        bad = np.abs(J - fd) > atol * s + rtol * np.abs(fd)
        if bad.any():
            b, i, j = (int(v) for v in np.argwhere(bad)[0])
            var = "h" if wrt == "h" else "x"
            _fail(f"{name} disagrees with central finite differences of step: at point {b}, "
                  f"dF[{i}]/d{var}[{j}] = {J[b, i, j]:.10g} but finite differences give "
                  f"{fd[b, i, j]:.10g} ({int(bad.sum())} entries off; tolerance atol={atol:g} x "
                  f"{s:.3g} + rtol={rtol:g})")


def _check_kernel(model, H, X, F, n, m):
    spec = getattr(model, "kernel", None)
    if spec is None:
        return
    if not isinstance(spec, KernelSpec):
        _fail(f"kernel must be a KernelSpec or None, found {type(spec).__name__}")
    if (spec.n_state, spec.n_input, spec.time) != (n, m, model.time):
        _fail(f"kernel describes n_state={spec.n_state}, n_input={spec.n_input}, "
              f"time={spec.time!r} but the model has n_state={n}, n_input={m}, "
              f"time={model.time!r}")
    B = H.shape[0]
    out = np.empty((B, n))
    _cells.step_batch(*spec.args, H, X, out)
    if not _close(out, F, 1e-10).all():
        _fail(f"the numba kernel's step differs from model.step by up to "
              f"{np.max(np.abs(out - F)):.3g}")
    J = np.empty((B, n, n))
    _cells.jacobian_batch(*spec.args, H, X, J)
    Jm = model.jacobian(H, X)
    if not _close(J, Jm, 1e-10).all():
        _fail(f"the numba kernel's Jacobian differs from model.jacobian by up to "
              f"{np.max(np.abs(J - Jm)):.3g}")
    Jx = np.empty((B, n, m))
    _cells.input_jacobian_batch(*spec.args, H, X, Jx)
    Jxm = model.input_jacobian(H, X)
    if not _close(Jx, Jxm, 1e-10).all():
        _fail(f"the numba kernel's input Jacobian differs from model.input_jacobian by up to "
              f"{np.max(np.abs(Jx - Jxm)):.3g}")
