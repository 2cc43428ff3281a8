"""The Model contract every analysis reads, and the kernel description of standard cells."""

from __future__ import annotations

import dataclasses
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from .._kernels import cells as _cells
from ._errors import ValidationError
from ._validation import (
    as_float_array,
    as_input_batch,
    as_state_batch,
    check_choice,
    check_positive,
)

__all__ = ["Model", "KernelSpec", "KernelModel", "is_model"]


@runtime_checkable
class Model(Protocol):
    """A recurrent model as a dynamical system over a flat float64 state.

    A model is a **map** ``h' = F(h, x)`` (``time == "discrete"``) or a **flow**
    ``dh/dt = F(h, x)`` (``time == "continuous"``, integrated by the analyses with fixed-step
    RK4 of step ``dt``). Every analysis in attractorkit reads a model through this contract and
    nothing else.

    For implementers
    ----------------
    Write a class with these members; nothing needs to be inherited:

    ``n_state: int``, ``n_input: int``
        Widths of the flat state and of the input (``n_input`` may be 0).
    ``time: "discrete" | "continuous"`` and ``dt: float | None``
        ``dt`` is the integration step of a flow (``None`` for maps).
    ``step(h, x) -> ndarray (B, n_state)``
        ``h`` is (B, n_state) float64, ``x`` is (B, n_input) float64. Returns the next state of
        a map, or the time derivative of a flow. Must be deterministic and treat rows
        independently.
    ``jacobian(h, x) -> ndarray (B, n_state, n_state)``
        ``dF/dh`` at each row.
    ``input_jacobian(h, x) -> ndarray (B, n_state, n_input)``
        ``dF/dx`` at each row.
    ``kernel: KernelSpec | None`` (optional)
        A plain description of a standard cell that numba kernels run without calling back
        into Python; leave it out (or ``None``) for anything else.
    ``newton_solve(H0, X, *, period, tol, max_iter, max_norm)`` (optional)
        The package's Newton / Levenberg-Marquardt fixed-point solver run in the model's own
        framework (``JaxModel`` compiles it in JAX); returns (points, q, residual, iterations,
        status codes). :func:`attractorkit.fixed_points.newton_solve` uses it when present.

    Stability follows ``time``: a map is stable when every ``|lambda| < 1``, a flow when every
    ``Re lambda < 0``. Check an implementation with :func:`attractorkit.check_model`.
    """

    n_state: int
    n_input: int
    time: Literal["discrete", "continuous"]
    dt: float | None

    def step(self, h: np.ndarray, x: np.ndarray) -> np.ndarray: ...

    def jacobian(self, h: np.ndarray, x: np.ndarray) -> np.ndarray: ...

    def input_jacobian(self, h: np.ndarray, x: np.ndarray) -> np.ndarray: ...


def is_model(obj) -> bool:
    """True when ``obj`` has every member of the :class:`Model` protocol."""
    return isinstance(obj, Model)


_GATES = {"vanilla": 1, "gru": 3, "lstm": 4}


@dataclasses.dataclass(frozen=True, eq=False)
class KernelSpec:
    """A standard cell as plain float64 arrays that the numba kernels run directly.

    Parameters
    ----------
    cell : {"vanilla", "gru", "lstm"}
    activation : {"tanh", "relu", "softplus", "sigmoid", "identity"}
        Vanilla cells only (gated cells use PyTorch's fixed nonlinearities).
    time : {"discrete", "continuous"}
        ``"continuous"`` is allowed for vanilla cells only: ``dh/dt = alpha (-h + phi(z))``.
    alpha : float
        Leak. Map: ``h' = (1 - alpha) h + alpha phi(z)`` (1 = no leak). Flow: ``1 / tau``.
    Wh : ndarray of shape (n_layers, gates * n_hidden, n_hidden)
    Wx : ndarray of shape (n_layers, gates * n_hidden, max(n_input, n_hidden) or n_input)
        Input weights; layer l > 0 reads layer l-1's new state; zero-padded on the right.
    bh, bx : ndarray of shape (n_layers, gates * n_hidden)
        Recurrent and input biases (PyTorch's ``b_hh`` and ``b_ih``).
    n_input : int
        Width of the model input (the padded ``Wx`` does not tell it).
    """

    cell: str
    activation: str
    time: str
    alpha: float
    Wh: np.ndarray
    Wx: np.ndarray
    bh: np.ndarray
    bx: np.ndarray
    n_input: int

    def __post_init__(self):
        check_choice("cell", self.cell, tuple(_GATES))
        check_choice("activation", self.activation, tuple(_cells.ACTIVATION_CODES))
        check_choice("time", self.time, ("discrete", "continuous"))
        if self.time == "continuous" and self.cell != "vanilla":
            raise ValidationError(
                f"time: 'continuous' is supported for vanilla cells only, received cell "
                f"{self.cell!r}"
            )
        Wh = as_float_array("Wh", self.Wh, ndim=3)
        L, GH, H = Wh.shape
        if GH != _GATES[self.cell] * H:
            raise ValidationError(
                f"Wh: expected shape (n_layers, {_GATES[self.cell]} * n_hidden, n_hidden) for "
                f"a {self.cell} cell, received {Wh.shape}"
            )
        Wx = as_float_array("Wx", self.Wx, ndim=3)
        if Wx.shape[:2] != (L, GH) or Wx.shape[2] < self.n_input or (
            L > 1 and Wx.shape[2] < H
        ):
            raise ValidationError(
                f"Wx: expected shape ({L}, {GH}, >= max(n_input={self.n_input}, n_hidden if "
                f"layered)), received {Wx.shape}"
            )
        bh = as_float_array("bh", self.bh, shape=(L, GH))
        bx = as_float_array("bx", self.bx, shape=(L, GH))
        alpha = check_positive("alpha", self.alpha)
        if not np.isfinite(alpha) or alpha <= 0 or (self.time == "discrete" and alpha > 1):
            raise ValidationError(
                f"alpha: expected 0 < alpha <= 1 for maps (alpha > 0 for flows), received "
                f"{self.alpha!r}"
            )
        for name, arr in (("Wh", Wh), ("Wx", Wx), ("bh", bh), ("bx", bx)):
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "alpha", alpha)

    @property
    def n_layers(self) -> int:
        return self.Wh.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.Wh.shape[2]

    @property
    def n_state(self) -> int:
        return self.n_layers * self.n_hidden * (2 if self.cell == "lstm" else 1)

    @property
    def cell_code(self) -> int:
        if self.cell == "vanilla" and self.time == "continuous":
            return _cells.VANILLA_FLOW
        return _cells.CELL_CODES[self.cell]

    @property
    def args(self) -> tuple:
        """``(cell, act, alpha, Wh, Wx, bh, bx)``, the leading arguments of every cell kernel."""
        return (
            self.cell_code,
            _cells.ACTIVATION_CODES[self.activation],
            self.alpha,
            self.Wh,
            self.Wx,
            self.bh,
            self.bx,
        )


class KernelModel:
    """A :class:`Model` that runs a :class:`KernelSpec` through the numba cell kernels.

    Adapters of standard cells (numpy, PyTorch) build one of these, so that analysing the
    commonest models never calls back into a framework.
    """

    def __init__(self, spec: KernelSpec, *, dt: float | None = None):
        if not isinstance(spec, KernelSpec):
            raise ValidationError(f"spec: expected a KernelSpec, received {type(spec).__name__}")
        self.kernel = spec
        self.n_state = spec.n_state
        self.n_input = spec.n_input
        self.time = spec.time
        if spec.time == "continuous":
            if dt is None:
                dt = 0.1 / spec.alpha
            dt = float(dt)
            if not np.isfinite(dt) or dt <= 0:
                raise ValidationError(f"dt: expected a finite number > 0, received {dt!r}")
        elif dt is not None:
            raise ValidationError(f"dt: maps take no integration step, received dt={dt!r}")
        self.dt = dt

    def _prepare(self, h, x):
        H = as_state_batch("h", h, self.n_state)
        X = as_input_batch("x", x, self.n_input, H.shape[0])
        return H, X

    def step(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        out = np.empty_like(H)
        _cells.step_batch(*self.kernel.args, H, X, out)
        return out

    def jacobian(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        out = np.empty((H.shape[0], self.n_state, self.n_state))
        _cells.jacobian_batch(*self.kernel.args, H, X, out)
        return out

    def input_jacobian(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        out = np.empty((H.shape[0], self.n_state, self.n_input))
        _cells.input_jacobian_batch(*self.kernel.args, H, X, out)
        return out

    def __repr__(self) -> str:
        s = self.kernel
        extra = f", dt={self.dt}" if self.dt is not None else ""
        return (
            f"{type(self).__name__}(cell={s.cell!r}, activation={s.activation!r}, "
            f"n_state={self.n_state}, n_input={self.n_input}, layers={s.n_layers}, "
            f"time={self.time!r}, alpha={s.alpha}{extra})"
        )
