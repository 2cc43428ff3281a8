"""JAX adapter: standard Equinox / Flax cells lowered to numba kernels
(:mod:`attractorkit.adapters._jax_cells`), and any pure one-sample step function as a Model
with ``jit(vmap(f))`` steps, ``jit(vmap(jacfwd(f)))`` Jacobians and the Newton solver compiled
in JAX (:mod:`attractorkit.adapters._jax_newton`), all on batches padded to a few fixed sizes.

float64: JAX computes in float32 unless 64-bit mode is on. Turning it on globally
(``jax.config.update("jax_enable_x64", True)``) would change the dtypes of the user's other JAX
code, so this adapter traces and runs its functions inside the thread-local
``jax.enable_x64(True)`` context (``jax.experimental.enable_x64()`` on older JAX) and leaves
the global setting alone. Parameters the step function closes over keep their own dtype; give it
float64 parameters for float64-exact Jacobians.
"""

from __future__ import annotations

import contextlib
import importlib
import logging

import numpy as np

from attractorkit._kernels import newton as _nk
from attractorkit.core._errors import MissingDependencyError, ModelTypeError, ValidationError
from attractorkit.core._model import KernelModel
from attractorkit.core._validation import (
    as_input_batch,
    as_state_batch,
    check_choice,
    check_int,
    check_time_and_dt,
)

from ._jax_cells import describe_cell
from ._jax_newton import JaxNewton

__all__ = ["JaxModel", "import_jax", "is_jax_function"]

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 32 * 2**20
_TRIALS = _nk._N_BACKTRACK + _nk._N_LM
_SOLVER_ROWS = 64    # the Newton solver's one batch size


def _chunk(row_floats: int) -> int:
    """Rows per call: the largest power of four up to 4096 within about 32 MB of output."""
    rows, size = max(1, _CHUNK_BYTES // (8 * max(1, row_floats))), 1
    while size * 4 <= min(rows, 4096):
        size *= 4
    return size


def _bucket(B: int, cap: int) -> int:
    """The padded batch size for B rows: the next power of four from 64 (64, 256, 1024,
    4096), at most ``cap`` (larger batches run in chunks of ``cap``). Few sizes, few
    compilations (each costs about a second)."""
    size = 64
    while size < B:
        size *= 4
    return int(min(cap, size))


def _padded(H, X, cap):
    """H, X padded with copies of their first row to :func:`_bucket` size; (H, X, m)."""
    m = H.shape[0]
    P = _bucket(m, cap)
    if P == m:
        return H, X, m
    pad = np.repeat(np.arange(1), P - m)
    return np.concatenate([H, H[pad]]), np.concatenate([X, X[pad]]), m


def import_jax():
    """Import jax or raise a MissingDependencyError naming the extra to install."""
    try:
        return importlib.import_module("jax")
    except ImportError as exc:
        raise MissingDependencyError(
            f"JAX is needed for JaxModel but could not be imported ({exc}); install it with: "
            "pip install 'attractorkit[jax]'"
        ) from None


def _x64(jax):
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    try:  # older JAX
        return importlib.import_module("jax.experimental").enable_x64()
    except (ImportError, AttributeError):  # pragma: no cover - no scoped switch available
        return contextlib.nullcontext()


def is_jax_function(obj) -> bool:
    """True for jitted JAX functions and Equinox / Flax modules (by their defining packages)."""
    roots = ("jax", "jaxlib", "equinox", "flax")
    for cls in type(obj).__mro__:
        if (cls.__module__ or "").split(".")[0] in roots:
            return True
    return False


class JaxModel:
    """A JAX step function, or a standard Equinox / Flax cell, as an attractorkit
    :class:`~attractorkit.Model`.

    Standard cells are **lowered** like PyTorch's: Equinox ``GRUCell`` and ``LSTMCell``, and
    Flax ``GRUCell``, ``LSTMCell`` and ``SimpleCell`` (``flax.linen`` with ``params=``, or
    ``flax.nnx``) have their weights copied to float64 and run on the numba kernels (a GRU
    exactly as PyTorch's; see :mod:`attractorkit.adapters._jax_cells` for the conventions).
    Any other function runs through JAX: ``jit(vmap(f))`` steps, ``jit(vmap(jacfwd(f)))``
    Jacobians, and the package's Newton solver compiled in JAX (:meth:`newton_solve`), on
    batches padded to a few fixed sizes so that nothing is compiled twice.

    Parameters
    ----------
    step_fn : callable
        A standard cell (above), or a pure function of ONE sample returning the next state
        (for a flow, dh/dt): ``step_fn(h, x)`` with ``h`` of shape (n_state,) and ``x`` of
        shape (n_input,), or ``step_fn(x, h)`` (Equinox's order) with
        ``argument_order="xh"``.
    n_state, n_input : int
        Required for a function; read from a cell (and checked when given).
    time : {"discrete", "continuous"}
    dt : float or None
        Integration step of a flow (required for ``time="continuous"``).
    argument_order : {"hx", "xh"} or None
        The order of the function's arguments. None: read from the shapes (only one order
        gives an output of shape (n_state,)); when ``n_input == n_state`` the shapes cannot
        tell, and it must be given.
    params : dict, optional
        The variables of a ``flax.linen`` cell (``cell.init(...)``).
    state_bounds : array_like of shape (2,) or (2, n_state), optional
        Bounds of the states where the model lives (e.g. (-1, 1) for tanh units): fixed-point
        searches keep to them (standard cells declare theirs).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from attractorkit.adapters import JaxModel
    >>> model = JaxModel(lambda h, x: jnp.tanh(0.5 * h + x), n_state=2, n_input=2,
    ...                  argument_order="hx")
    >>> model.jacobian([[0.0, 0.0]], [[0.0, 0.0]])[0]
    array([[0.5, 0. ],
           [0. , 0.5]])
    """

    def __init__(self, step_fn, *, n_state=None, n_input=None, time="discrete", dt=None,
                 argument_order=None, params=None, state_bounds=None):
        jax = import_jax()
        if not callable(step_fn):
            raise ModelTypeError(
                f"step_fn: expected a callable step(h, x) -> h' or an Equinox / Flax cell, "
                f"received {type(step_fn).__name__}"
            )
        self._jax = jax
        self.cell = describe_cell(step_fn, params)
        if self.cell is not None:
            f = self._init_cell(step_fn, n_state, n_input, time, dt, argument_order)
        else:
            if params is not None:
                raise ValidationError("params: only flax.linen cells take params= (received "
                                      f"params for a {type(step_fn).__name__})")
            for name, value in (("n_state", n_state), ("n_input", n_input)):
                if value is None:
                    raise ValidationError(
                        f"{name}: required for a JAX step function ({type(step_fn).__name__})"
                        f"; received None (only standard Equinox / Flax cells infer it)")
            self.n_state = check_int("n_state", n_state, minimum=1)
            self.n_input = check_int("n_input", n_input, minimum=0)
            self.time, self.dt = check_time_and_dt(time, dt)
            self.argument_order = _argument_order(jax, step_fn, self.n_state, self.n_input,
                                                  argument_order)
            f = step_fn if self.argument_order == "hx" else _swapped(step_fn)
            self.kernel = None
        if state_bounds is not None:
            self.state_bounds = np.asarray(state_bounds, dtype=np.float64)
        self.step_fn = step_fn
        v = jax.vmap
        self._step = jax.jit(v(f))
        self._jh = jax.jit(v(jax.jacfwd(f, argnums=0)))
        self._jx = jax.jit(v(jax.jacfwd(f, argnums=1)))
        self._newton = JaxNewton(jax, f, self.time == "discrete")

    def _init_cell(self, cell_obj, n_state, n_input, time, dt, argument_order):
        c = self.cell
        if time != "discrete" or dt is not None:
            raise ValidationError(f"time/dt: a {c.name} is a discrete-time map; received "
                                  f"time={time!r}, dt={dt!r}")
        if argument_order is not None:
            raise ValidationError(
                f"argument_order: a {c.framework} {c.name} has its own calling convention "
                f"({'cell(x, h)' if c.framework == 'equinox' else 'cell(carry, x)'}); "
                f"received argument_order={argument_order!r}")
        for name, want, got in (("n_state", c.n_state, n_state),
                                ("n_input", c.n_input, n_input)):
            if got is not None and got != want:
                raise ValidationError(f"{name}: the {c.name} has {name}={want}, received "
                                      f"{got!r}")
        self.n_state, self.n_input = c.n_state, c.n_input
        self.time, self.dt = "discrete", None
        self.argument_order = None
        self.kernel = c.spec
        self._km = KernelModel(c.spec) if c.spec is not None else None
        if c.spec is None:
            logger.info("%s %s runs through JAX, not a numba kernel: %s", c.framework, c.name,
                        c.reason)
        return c.step

    def _failed(self, exc, name):
        return ModelTypeError(
            f"step_fn: failed under jax.vmap while computing {name} "
            f"({type(exc).__name__}: {exc}); it must be a pure function of ONE sample, "
            f"h ({self.n_state},), x ({self.n_input},) -> h' ({self.n_state},)")

    def _run(self, fn, h, x, shape_tail, name):
        """``fn`` on the rows of h, x in padded chunks of a few fixed sizes (so that jit
        compiles once per size, not once per batch size)."""
        H = as_state_batch("h", h, self.n_state)
        X = as_input_batch("x", x, self.n_input, H.shape[0])
        B = H.shape[0]
        out = np.zeros((B,) + shape_tail)
        if shape_tail[-1] == 0 or B == 0:
            return out
        cap = _chunk(int(np.prod(shape_tail)))
        with _x64(self._jax):
            for s in range(0, B, cap):
                hp, xp, m = _padded(H[s:s + cap], X[s:s + cap], cap)
                try:
                    res = fn(hp, xp)
                except Exception as exc:  # noqa: BLE001 - explain the expected signature
                    raise self._failed(exc, name) from exc
                res = np.asarray(res, dtype=np.float64)
                if res.shape != (hp.shape[0],) + shape_tail:
                    raise ValidationError(
                        f"step_fn: {name} has shape {(B,) + res.shape[1:]}, expected "
                        f"{(B,) + shape_tail}; step_fn must return h' of shape "
                        f"({self.n_state},) per sample")
                out[s:s + m] = res[:m]
        return out

    def newton_solve(self, H0, X, *, period=1, tol=1e-10, max_iter=100, max_norm=1e6):
        """The package's per-point Newton / Levenberg-Marquardt solver of ``G(h) = 0``
        (``G = F^period(h) - h`` for a map, ``F(h)`` for a flow), compiled in JAX: all rows at
        once in one ``jit(lax.while_loop)``, each with its own damping and stopping rule
        (:mod:`attractorkit.adapters._jax_newton`). :func:`attractorkit.fixed_points.newton_solve`
        calls it for this model.

        Returns
        -------
        points, q, residual : ndarray of shapes (B, n_state), (B,), (B,)
        iterations, status : ndarray of shape (B,), int
            Status codes as in :data:`attractorkit.fixed_points.STATUS_NAMES`.
        """
        H = np.ascontiguousarray(H0, dtype=np.float64)
        if H.ndim != 2 or H.shape[1] != self.n_state:
            raise ValidationError(f"H0: expected shape (B, {self.n_state}), received "
                                  f"{H.shape}")
        Xb = as_input_batch("X", X, self.n_input, H.shape[0])
        rows = min(_SOLVER_ROWS, _chunk(H.shape[1] * (H.shape[1] + 2 * _TRIALS)))
        with _x64(self._jax):
            try:
                return self._newton.solve(H, Xb, period=int(period), tol=float(tol),
                                          max_iter=int(max_iter), max_norm=float(max_norm),
                                          rows=rows)
            except (ValidationError, ModelTypeError):
                raise
            except Exception as exc:  # noqa: BLE001 - explain the expected signature
                raise self._failed(exc, "the Newton solver") from exc

    def step(self, h, x) -> np.ndarray:
        if self.kernel is not None:
            return self._km.step(h, x)
        return self._run(self._step, h, x, (self.n_state,), "step")

    def jacobian(self, h, x) -> np.ndarray:
        if self.kernel is not None:
            return self._km.jacobian(h, x)
        return self._run(self._jh, h, x, (self.n_state, self.n_state), "jacobian")

    def input_jacobian(self, h, x) -> np.ndarray:
        if self.kernel is not None:
            return self._km.input_jacobian(h, x)
        return self._run(self._jx, h, x, (self.n_state, self.n_input), "input_jacobian")

    # -- state conversion (cells) --------------------------------------------------------------
    def flatten_state(self, state) -> np.ndarray:
        """The framework's state -> flat float64 (B, n_state).

        A GRU or SimpleCell: ``h`` of shape (B, n_hidden) or (n_hidden,). An LSTM: the pair
        of the framework, ``(h, c)`` for Equinox and ``(c, h)`` (the carry) for Flax; the flat
        state is ``[h, c]``. A function: states of shape (B, n_state) or (n_state,).
        """
        c = self.cell
        if c is None or c.cell != "lstm":
            return as_state_batch("state", np.asarray(state, dtype=np.float64), self.n_state)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValidationError(f"state: expected the pair {tuple(c.carry_order)} of a "
                                  f"{c.framework} LSTMCell, received {type(state).__name__}")
        a, b = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in state)
        h, cc = (a, b) if c.carry_order == "hc" else (b, a)
        return as_state_batch("state", np.concatenate([h, cc], axis=1), self.n_state)

    def unflatten_state(self, flat):
        """Flat (B, n_state) or (n_state,) -> the framework's state (numpy arrays): ``h``, or
        the LSTM pair ``(h, c)`` (Equinox) / ``(c, h)`` (Flax); one state in, one out."""
        arr = np.asarray(flat, dtype=np.float64)
        one = arr.ndim == 1
        H = as_state_batch("flat", arr, self.n_state)
        c = self.cell
        if c is None or c.cell != "lstm":
            return H[0] if one else H
        h, cc = H[:, :c.n_hidden], H[:, c.n_hidden:]
        if one:
            h, cc = h[0], cc[0]
        return (h, cc) if c.carry_order == "hc" else (cc, h)

    def __repr__(self) -> str:
        extra = f", dt={self.dt}" if self.dt is not None else ""
        what = f"{self.cell.framework} {self.cell.name}, " if self.cell is not None else ""
        path = "numba kernel" if self.kernel is not None else "jax"
        return (f"JaxModel({what}n_state={self.n_state}, n_input={self.n_input}, "
                f"time={self.time!r}{extra}, via {path})")


def _swapped(f):
    def step(h, x):
        return f(x, h)

    return step


def _argument_order(jax, f, n, m, given):
    """"hx" or "xh": ``given``, or the only order whose output has shape (n,) (abstract
    evaluation, nothing runs); n == m cannot tell."""
    if given is not None:
        return check_choice("argument_order", given, ("hx", "xh"))
    if n == m:
        raise ValidationError(
            f"argument_order: n_input == n_state == {n}, so the shapes cannot tell whether "
            f"step_fn takes (h, x) or (x, h) (Equinox cells take (x, h)); pass "
            f"argument_order='hx' for step_fn(h, x) or 'xh' for step_fn(x, h)")
    jnp = jax.numpy

    def works(a, b):
        try:
            with _x64(jax):
                out = jax.eval_shape(f, jax.ShapeDtypeStruct((a,), jnp.float64),
                                     jax.ShapeDtypeStruct((b,), jnp.float64))
        except Exception:  # noqa: BLE001 - any failure means: not this order
            return False
        return getattr(out, "shape", None) == (n,)

    hx, xh = works(n, m), works(m, n)
    if hx and xh:
        raise ValidationError(
            f"argument_order: step_fn returns shape ({n},) both as step_fn(h, x) and as "
            f"step_fn(x, h), so the shapes cannot tell its argument order; pass "
            f"argument_order='hx' or 'xh'")
    return "xh" if xh else "hx"
