"""Any Python callable as a Model; Jacobians given by the user or by central differences."""

from __future__ import annotations

import numpy as np

from attractorkit.core import (
    FiniteDifferenceWarning,
    ModelTypeError,
    ValidationError,
    as_input_batch,
    as_state_batch,
    check_bool,
    check_int,
    check_time_and_dt,
)
from attractorkit.core._warnings import warn

__all__ = ["CallableModel"]


class CallableModel:
    """A Python function ``step(h, x)`` as an attractorkit :class:`~attractorkit.Model`.

    Parameters
    ----------
    step : callable
        ``step(h, x) -> ndarray (B, n_state)`` on a batch: ``h`` (B, n_state), ``x``
        (B, n_input), both float64. With ``vectorized=False`` it is called once per row with
        ``h`` (n_state,) and ``x`` (n_input,) and returns (n_state,).
    n_state, n_input : int
    jacobian : callable or None
        ``jacobian(h, x) -> (B, n_state, n_state)`` (per row with ``vectorized=False``). Without
        it, central finite differences are used and ONE :class:`FiniteDifferenceWarning` is
        emitted per model, at the first use.
    input_jacobian : callable or None
        ``input_jacobian(h, x) -> (B, n_state, n_input)``; finite differences when missing.
    time : {"discrete", "continuous"}
    dt : float or None
        Integration step of a flow (required for ``time="continuous"``).
    vectorized : bool
        Whether ``step`` and the Jacobians take batches (default) or single samples.

    Notes
    -----
    The finite-difference step is ``6e-6 * max(1, |v_j|)`` per coordinate (about the cube root
    of float64 machine epsilon), which gives about 10 correct digits for smooth steps.

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import CallableModel
    >>> henon = lambda h, x: np.stack([1 - 1.4 * h[:, 0] ** 2 + h[:, 1], 0.3 * h[:, 0]], 1)
    >>> jac = lambda h, x: np.stack([np.stack([-2.8 * h[:, 0], np.ones(len(h))], 1),
    ...                              np.stack([np.full(len(h), 0.3), np.zeros(len(h))], 1)], 1)
    >>> model = CallableModel(henon, n_state=2, n_input=0, jacobian=jac)
    >>> model.step([[0.0, 0.0]], None)
    array([[1., 0.]])
    """

    def __init__(self, step, *, n_state, n_input, jacobian=None, input_jacobian=None,
                 time="discrete", dt=None, vectorized=True):
        for name, f in (("step", step), ("jacobian", jacobian),
                        ("input_jacobian", input_jacobian)):
            if f is not None and not callable(f):
                raise ModelTypeError(f"{name}: expected a callable, received {type(f).__name__}")
        if step is None:
            raise ModelTypeError("step: expected a callable step(h, x), received None")
        self.n_state = check_int("n_state", n_state, minimum=1)
        self.n_input = check_int("n_input", n_input, minimum=0)
        self.time, self.dt = check_time_and_dt(time, dt)
        self.kernel = None
        self.vectorized = check_bool("vectorized", vectorized)
        self._step, self._jac, self._ijac = step, jacobian, input_jacobian
        self._warned = False

    # -- plumbing ------------------------------------------------------------------------------
    def _prepare(self, h, x):
        H = as_state_batch("h", h, self.n_state)
        return H, as_input_batch("x", x, self.n_input, H.shape[0])

    def _call(self, f, name, H, X, tail):
        if self.vectorized:
            out = f(H, X)
        else:
            out = [f(H[b], X[b]) for b in range(H.shape[0])]
        try:
            arr = np.asarray(out)
        except Exception as exc:  # noqa: BLE001 - ragged output
            raise ValidationError(
                f"{name}: returned something that is not an array ({exc})"
            ) from None
        if arr.dtype.kind not in "fiu":
            raise ValidationError(
                f"{name}: expected real float output, received dtype {arr.dtype}"
            )
        want = (H.shape[0],) + tail
        if arr.shape != want:
            raise ValidationError(f"{name}: returned shape {arr.shape}, expected {want}")
        return np.ascontiguousarray(arr, dtype=np.float64)

    def _warn_fd(self):
        if not self._warned:
            self._warned = True
            warn(
                "CallableModel: no Jacobian was given, so Jacobians are approximated by central "
                "finite differences (about 10 significant digits, 2 * n extra steps per "
                "point); pass jacobian=/input_jacobian= for exact and faster ones",
                FiniteDifferenceWarning,
            )

    def _fd(self, H, X, wrt):
        B, n = H.shape
        V = H if wrt == "h" else X
        k = V.shape[1]
        if k == 0:
            return np.zeros((B, n, 0))
        eps = 6e-6 * np.maximum(1.0, np.abs(V))
        E = np.zeros((B, k, k))
        E[:, np.arange(k), np.arange(k)] = eps
        Vp = (V[:, None, :] + E).reshape(B * k, k)
        Vm = (V[:, None, :] - E).reshape(B * k, k)
        other = np.repeat(X if wrt == "h" else H, k, axis=0)
        if wrt == "h":
            Fp = self._call(self._step, "step", Vp, other, (n,))
            Fm = self._call(self._step, "step", Vm, other, (n,))
        else:
            Fp = self._call(self._step, "step", other, Vp, (n,))
            Fm = self._call(self._step, "step", other, Vm, (n,))
        D = (Fp - Fm) / (2.0 * eps.reshape(B * k, 1))
        return np.ascontiguousarray(D.reshape(B, k, n).transpose(0, 2, 1))

    # -- the Model contract --------------------------------------------------------------------
    def step(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        return self._call(self._step, "step", H, X, (self.n_state,))

    def jacobian(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        if self._jac is not None:
            return self._call(self._jac, "jacobian", H, X, (self.n_state, self.n_state))
        self._warn_fd()
        return self._fd(H, X, "h")

    def input_jacobian(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        if self._ijac is not None:
            return self._call(self._ijac, "input_jacobian", H, X,
                              (self.n_state, self.n_input))
        if self.n_input == 0:
            return np.zeros((H.shape[0], self.n_state, 0))
        self._warn_fd()
        return self._fd(H, X, "x")

    def __repr__(self) -> str:
        extra = f", dt={self.dt}" if self.dt is not None else ""
        jac = "analytic" if self._jac is not None else "finite differences"
        return (f"CallableModel(n_state={self.n_state}, n_input={self.n_input}, "
                f"time={self.time!r}{extra}, jacobian={jac})")
