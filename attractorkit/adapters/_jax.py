"""JAX adapter: any pure one-sample step function (plain JAX, Flax ``apply`` closures, Equinox
cells) as a Model, with ``jit(vmap(f))`` steps and ``jit(vmap(jacfwd(f)))`` Jacobians.

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

import numpy as np

from attractorkit.core._errors import MissingDependencyError, ModelTypeError, ValidationError
from attractorkit.core._validation import (
    as_input_batch,
    as_state_batch,
    check_int,
    check_time_and_dt,
)

__all__ = ["JaxModel", "import_jax", "is_jax_function"]


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
    """A JAX step function as an attractorkit :class:`~attractorkit.Model`.

    Parameters
    ----------
    step_fn : callable
        A pure function of ONE sample, ``step_fn(h, x) -> h'`` with ``h`` of shape (n_state,)
        and ``x`` of shape (n_input,) (for a flow it returns dh/dt). Flax: pass
        ``lambda h, x: cell.apply(params, h, x)``-style closures; Equinox modules are callables.
    n_state, n_input : int
    time : {"discrete", "continuous"}
    dt : float or None
        Integration step of a flow (required for ``time="continuous"``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from attractorkit.adapters import JaxModel
    >>> model = JaxModel(lambda h, x: jnp.tanh(0.5 * h + x), n_state=2, n_input=2)
    >>> model.jacobian([[0.0, 0.0]], [[0.0, 0.0]])[0]
    array([[0.5, 0. ],
           [0. , 0.5]])
    """

    def __init__(self, step_fn, *, n_state, n_input, time="discrete", dt=None):
        jax = import_jax()
        if not callable(step_fn):
            raise ModelTypeError(
                f"step_fn: expected a callable step(h, x) -> h', received "
                f"{type(step_fn).__name__}"
            )
        self.n_state = check_int("n_state", n_state, minimum=1)
        self.n_input = check_int("n_input", n_input, minimum=0)
        self.time, self.dt = check_time_and_dt(time, dt)
        self.kernel = None
        self._jax = jax
        self.step_fn = step_fn
        v = jax.vmap
        self._step = jax.jit(v(step_fn))
        self._jh = jax.jit(v(jax.jacfwd(step_fn, argnums=0)))
        self._jx = jax.jit(v(jax.jacfwd(step_fn, argnums=1)))

    def _run(self, fn, h, x, shape_tail, name):
        H = as_state_batch("h", h, self.n_state)
        X = as_input_batch("x", x, self.n_input, H.shape[0])
        if shape_tail[-1] == 0:
            return np.zeros((H.shape[0],) + shape_tail)
        with _x64(self._jax):
            try:
                out = fn(H, X)
            except Exception as exc:  # noqa: BLE001 - explain the expected step signature
                raise ModelTypeError(
                    f"step_fn: failed under jax.vmap while computing {name} "
                    f"({type(exc).__name__}: {exc}); it must be a pure function of ONE sample, "
                    f"h ({self.n_state},), x ({self.n_input},) -> h' ({self.n_state},)"
                ) from exc
            out = np.array(out, dtype=np.float64)
        want = (H.shape[0],) + shape_tail
        if out.shape != want:
            raise ValidationError(
                f"step_fn: {name} has shape {out.shape}, expected {want}; step_fn must return "
                f"h' of shape ({self.n_state},) per sample"
            )
        return out

    def step(self, h, x) -> np.ndarray:
        return self._run(self._step, h, x, (self.n_state,), "step")

    def jacobian(self, h, x) -> np.ndarray:
        return self._run(self._jh, h, x, (self.n_state, self.n_state), "jacobian")

    def input_jacobian(self, h, x) -> np.ndarray:
        return self._run(self._jx, h, x, (self.n_state, self.n_input), "input_jacobian")

    def __repr__(self) -> str:
        extra = f", dt={self.dt}" if self.dt is not None else ""
        return (f"JaxModel(n_state={self.n_state}, n_input={self.n_input}, "
                f"time={self.time!r}{extra})")
