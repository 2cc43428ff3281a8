"""PyTorch adapter: standard recurrent modules lower to numba kernels, anything else runs
through ``torch.func`` (``vmap(jacrev)``) in float64.

The caller's module is never changed: weights are copied to float64 numpy arrays (standard
cells), or the module is deep-copied and run through ``torch.func.functional_call`` with float64
copies of its parameters and buffers (generic modules). ``requires_grad``, train/eval mode,
device and dtype of the caller's module stay as they were.
"""

from __future__ import annotations

import copy
import importlib
import logging
import warnings

import numpy as np

from attractorkit._kernels import cells as _cells
from attractorkit.core import (
    KernelSpec,
    MissingDependencyError,
    ModelTypeError,
    ValidationError,
    as_input_batch,
    as_state_batch,
    check_choice,
    check_int,
    check_time_and_dt,
)

from ._layers import flatten_state, layered_spec, unflatten_state

__all__ = ["TorchModel", "import_torch"]

logger = logging.getLogger(__name__)

SUPPORTED = ("nn.RNN (tanh or relu), nn.GRU, nn.LSTM (any num_layers, unidirectional, "
             "proj_size=0), nn.RNNCell, nn.GRUCell, nn.LSTMCell, or any nn.Module / function "
             "computing one step (h, x) -> h' of one sample (pass n_state= and n_input=)")


def import_torch():
    """Import torch or raise a MissingDependencyError naming the extra to install."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise MissingDependencyError(
            "PyTorch is needed for TorchModel but could not be imported "
            f"({exc}); install it with: pip install 'attractorkit[torch]'"
        ) from None


def _np64(t) -> np.ndarray | None:
    if t is None:
        return None
    return t.detach().cpu().double().numpy().copy()


def _standard_kind(torch, module):
    nn = torch.nn
    if isinstance(module, (nn.RNN, nn.GRU, nn.LSTM)):
        return "stacked"
    if isinstance(module, (nn.RNNCell, nn.GRUCell, nn.LSTMCell)):
        return "cell"
    return None


def _cell_name(torch, module) -> tuple[str, str]:
    nn = torch.nn
    if isinstance(module, (nn.GRU, nn.GRUCell)):
        return "gru", "tanh"
    if isinstance(module, (nn.LSTM, nn.LSTMCell)):
        return "lstm", "tanh"
    if isinstance(module, nn.RNN):
        act = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}.get(module.mode)
    else:
        act = module.nonlinearity
    if act not in ("tanh", "relu"):
        raise ModelTypeError(f"module: unsupported RNN nonlinearity {act!r}")
    return "vanilla", act


def _lower(torch, module) -> KernelSpec:
    """A standard torch recurrent module -> KernelSpec (float64 copies of the weights)."""
    cell, act = _cell_name(torch, module)
    if _standard_kind(torch, module) == "cell":
        names = [("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    else:
        if module.bidirectional:
            raise ModelTypeError(
                f"module: bidirectional {type(module).__name__} is not a recurrent dynamical "
                "system (its backward direction runs over the future); use a unidirectional "
                "module"
            )
        if getattr(module, "proj_size", 0):
            raise ModelTypeError(
                f"module: LSTM with proj_size={module.proj_size} is not supported (only "
                "proj_size=0); wrap a step function of it instead: TorchModel(step_fn, "
                "n_state=..., n_input=...)"
            )
        names = [(f"weight_ih_l{k}", f"weight_hh_l{k}", f"bias_ih_l{k}", f"bias_hh_l{k}")
                 for k in range(module.num_layers)]
    get = [[_np64(getattr(module, a, None)) for a in row] for row in names]
    return layered_spec(
        cell, [g[0] for g in get], [g[1] for g in get],
        [g[2] for g in get], [g[3] for g in get], activation=act,
        names=("module.weight_ih", "module.weight_hh", "module.bias_ih", "module.bias_hh"),
    )


class TorchModel:
    """A PyTorch model as an attractorkit :class:`~attractorkit.Model`.

    Standard recurrent modules (``nn.RNN`` with tanh or relu, ``nn.GRU``, ``nn.LSTM``, any
    number of layers, and their ``*Cell`` variants) are lowered to a numba
    :class:`~attractorkit.KernelSpec` from float64 copies of their weights, so analyses never
    call back into PyTorch. Any other ``nn.Module`` (or a plain function of torch tensors) that
    computes one step ``step(h, x) -> h'`` for ONE sample (``h`` of shape (n_state,), ``x`` of
    shape (n_input,)) runs through ``torch.func``: ``vmap`` for batches, ``vmap(jacrev)`` for
    Jacobians, in float64 on the CPU, on a deep copy of the module in eval mode.

    The caller's module is never modified (requires_grad, train/eval mode, device, dtype).
    Dropout between stacked layers is a training-time device and is not part of the dynamics.

    Parameters
    ----------
    module : torch.nn.Module or callable
    n_state, n_input : int
        Required for generic modules and functions; checked against standard modules.
    time : {"discrete", "continuous"}
        Generic modules only: ``"continuous"`` means ``module(h, x)`` returns dh/dt.
    dt : float or None
        Integration step of a flow.

    Attributes
    ----------
    kernel : KernelSpec or None
        The numba description of a standard module, None for generic modules.

    Examples
    --------
    >>> import torch
    >>> from attractorkit.adapters import TorchModel
    >>> rnn = torch.nn.GRU(3, 8, num_layers=2)
    >>> model = TorchModel(rnn)
    >>> model.n_state, model.n_input
    (16, 3)
    """

    def __init__(self, module, *, n_state=None, n_input=None, time="discrete", dt=None):
        torch = import_torch()
        self._torch = torch
        check_choice("time", time, ("discrete", "continuous"))
        kind = _standard_kind(torch, module) if isinstance(module, torch.nn.Module) else None
        self._kind = kind
        if kind is not None:
            if time != "discrete" or dt is not None:
                raise ValidationError(
                    f"time/dt: {type(module).__name__} is a discrete-time map; received "
                    f"time={time!r}, dt={dt!r}"
                )
            spec = _lower(torch, module)
            self._init_standard(module, spec, n_state, n_input)
        elif callable(module):
            if (n_state is None or n_input is None) and isinstance(module, torch.nn.Module):
                raise ModelTypeError(
                    f"module: {type(module).__name__} is not a standard recurrent module; "
                    f"supported: {SUPPORTED}. To analyse it, write a one-step nn.Module or "
                    "function step(h, x) -> h' around it and pass n_state= and n_input="
                )
            if n_state is None or n_input is None:
                raise ValidationError(
                    f"n_state, n_input: required for a generic step module or function "
                    f"({type(module).__name__}); received n_state={n_state!r}, "
                    f"n_input={n_input!r}"
                )
            self.kernel = None
            self.n_state = check_int("n_state", n_state, minimum=1)
            self.n_input = check_int("n_input", n_input, minimum=0)
            self._fn = _Functional(torch, module)
        else:
            raise ModelTypeError(
                f"module: cannot build a TorchModel from {type(module).__name__}; supported: "
                f"{SUPPORTED}"
            )
        self.time, self.dt = check_time_and_dt(time, dt)
        self.module_type = type(module).__name__

    def _init_standard(self, module, spec, n_state, n_input):
        self.kernel = spec
        self.n_state = spec.n_state
        self.n_input = spec.n_input
        for name, want, got in (("n_state", spec.n_state, n_state),
                                ("n_input", spec.n_input, n_input)):
            if got is not None and got != want:
                raise ValidationError(
                    f"{name}: {type(module).__name__} has {name}={want}, received {got!r}"
                )
        p = next(iter(module.parameters()), None)
        self._dtype = p.dtype if p is not None else self._torch.get_default_dtype()
        self._device = p.device if p is not None else self._torch.device("cpu")

    # -- the Model contract --------------------------------------------------------------------
    def _prepare(self, h, x):
        H = as_state_batch("h", h, self.n_state)
        return H, as_input_batch("x", x, self.n_input, H.shape[0])

    def step(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        if self.kernel is None:
            return self._fn.step(H, X, self.n_state)
        out = np.empty_like(H)
        _cells.step_batch(*self.kernel.args, H, X, out)
        return out

    def jacobian(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        if self.kernel is None:
            return self._fn.jacobian(H, X, 0, self.n_state)
        out = np.empty((H.shape[0], self.n_state, self.n_state))
        _cells.jacobian_batch(*self.kernel.args, H, X, out)
        return out

    def input_jacobian(self, h, x) -> np.ndarray:
        H, X = self._prepare(h, x)
        if self.kernel is None:
            return self._fn.jacobian(H, X, 1, self.n_state)
        out = np.empty((H.shape[0], self.n_state, self.n_input))
        _cells.input_jacobian_batch(*self.kernel.args, H, X, out)
        return out

    # -- state conversion ----------------------------------------------------------------------
    def _layout(self):
        if self.kernel is None:
            return None
        L = 1 if self._kind == "cell" else self.kernel.n_layers
        return self.kernel.cell, L, self.kernel.n_hidden

    def flatten_state(self, state) -> np.ndarray:
        """A torch state -> flat float64 (B, n_state).

        ``nn.RNN``/``nn.GRU``: ``h`` of shape (num_layers, B, H) or (num_layers, H);
        ``nn.LSTM``: ``(h, c)`` of such tensors (flat: all h layer by layer, then all c);
        cells: ``h`` (B, H) or (H,), ``(h, c)`` for ``LSTMCell``; generic modules: (B, n_state)
        or (n_state,).
        """
        lay = self._layout()
        conv = _to_numpy
        if lay is None:
            return as_state_batch("state", conv(state), self.n_state)
        cell, L, Hn = lay
        st = tuple(conv(s) for s in state) if isinstance(state, (tuple, list)) else conv(state)
        if self._kind == "cell":
            st = tuple(np.asarray(s)[None] for s in st) if isinstance(st, tuple) \
                else np.asarray(st)[None]
        return flatten_state(cell, st, L, Hn)

    def unflatten_state(self, flat):
        """Flat (B, n_state) or (n_state,) -> the torch state of the module (its dtype/device).

        Stacked modules get (num_layers, B, H) tensors, cells (B, H); LSTMs a pair (h, c).
        """
        torch = self._torch
        lay = self._layout()
        if lay is None:
            arr = as_state_batch("flat", flat, self.n_state)
            return torch.from_numpy(arr.copy())
        cell, L, Hn = lay
        st = unflatten_state(cell, flat, L, Hn)

        def back(a):
            t = torch.from_numpy(np.ascontiguousarray(a[0] if self._kind == "cell" else a))
            return t.to(dtype=self._dtype, device=self._device)

        return tuple(back(a) for a in st) if isinstance(st, tuple) else back(st)

    def __repr__(self) -> str:
        extra = f", dt={self.dt}" if self.dt is not None else ""
        path = "numba kernel" if self.kernel is not None else "torch.func"
        return (f"TorchModel({self.module_type}, n_state={self.n_state}, "
                f"n_input={self.n_input}, time={self.time!r}{extra}, via {path})")


def _to_numpy(t):
    if hasattr(t, "detach"):
        return t.detach().to("cpu").double().numpy()
    return t


class _Functional:
    """One-sample step function evaluated in float64 through torch.func, batched by vmap."""

    def __init__(self, torch, fn):
        self.torch = torch
        if isinstance(fn, torch.nn.Module):
            try:
                mod = copy.deepcopy(fn)
            except Exception:  # noqa: BLE001 - some modules cannot be copied; use the original
                mod = fn
            else:
                mod.eval()
            state = {k: _f64(torch, v) for k, v in mod.named_parameters()}
            state.update({k: _f64(torch, v) for k, v in mod.named_buffers()})
            call = torch.func.functional_call

            def f(h, x):
                return call(mod, state, (h, x))
        else:
            f = fn
        self.f = f
        func = torch.func
        jr = (func.jacrev(f, argnums=0), func.jacrev(f, argnums=1))
        self._vmapped = {"step": func.vmap(f), 0: func.vmap(jr[0]), 1: func.vmap(jr[1])}
        self._single = {"step": f, 0: jr[0], 1: jr[1]}
        self.use_vmap = True

    def _loop(self, key, H, X):
        g = self._single[key]
        return self.torch.stack([g(H[b], X[b]) for b in range(H.shape[0])])

    def _run(self, key, H, X, shape):
        torch = self.torch
        Ht, Xt = torch.from_numpy(H), torch.from_numpy(X)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                # vmap falls back to a loop for ops without a batching rule (e.g. gru_cell) and
                # says so on every call; the result is the same, so keep the user's log clean
                warnings.filterwarnings("ignore", message="There is a performance drop")
                if self.use_vmap:
                    try:
                        out = self._vmapped[key](Ht, Xt)
                    except RuntimeError as exc:
                        if "atching rule" not in str(exc):
                            raise
                        # e.g. nn.LSTM has no vmap rule: evaluate sample by sample instead
                        logger.info("torch.func.vmap unsupported by this step (%s); "
                                    "evaluating samples one by one", exc)
                        self.use_vmap = False
                if not self.use_vmap:
                    out = self._loop(key, Ht, Xt)
        except Exception as exc:  # noqa: BLE001 - explain how to write a compatible step
            raise ModelTypeError(
                f"module: the step function failed on float64 CPU tensors under torch.func "
                f"({type(exc).__name__}: {exc}). It must compute ONE sample, h (n_state,), "
                "x (n_input,) -> h' (n_state,), without in-place updates of captured tensors or "
                ".item(); a function that closes over a float32 module must be given as the "
                "module itself"
            ) from exc
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != shape:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValidationError(
                f"module: the step function must return a tensor of shape {shape[1:]} per "
                f"sample, received {got}"
            )
        return out.detach().to(torch.float64).numpy().copy()

    def step(self, H, X, n):
        return self._run("step", H, X, (H.shape[0], n))

    def jacobian(self, H, X, argnum, n):
        width = (H if argnum == 0 else X).shape[1]
        if width == 0:
            return np.zeros((H.shape[0], n, 0))
        return self._run(argnum, H, X, (H.shape[0], n, width))


def _f64(torch, t):
    t = t.detach()
    if t.is_floating_point():
        return t.to(device="cpu", dtype=torch.float64, copy=True)
    if t.is_complex():
        raise ValidationError("module: complex parameters or buffers are not supported")
    return t.to(device="cpu", copy=True)
